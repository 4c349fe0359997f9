"""Stereotypes in rules identifiers (``@SERVER``, ``#,@CONSOLE``): instance lists, rules resolution,
placement and its reasons, ``rules show`` (table-driven, no network)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from supv_cli.errors import RulesError
from supv_cli.model.instances import InstanceList, resolve_identifiers
from supv_cli.plan.placement import LoadModel, no_resource_reason
from supv_cli.plan.planner import Action, build_start_plan
from supv_cli.rules import StartingStrategy, load_rules
from tests.support.cli import run_supv

from .plan_helpers import info, snapshot, status_of
from .rules_helpers import write_rules

#: Scenario 3's cluster: three servers, three consoles, each its own node
ROLES = [("server_1", "@SERVER"), ("server_2", "@SERVER"), ("server_3", "@SERVER"),
         ("console_1", "@CONSOLE"), ("console_2", "@CONSOLE"), ("console_3", "@CONSOLE")]


def cluster(roles=ROLES) -> InstanceList:
    parsed = InstanceList.parse([f"<{nick}>10.0.0.{n}:{61000 + n}" for n, (nick, _) in enumerate(roles, 1)])
    return InstanceList(replace(i, stereotypes=tuple(s.split())) for i, (_, s) in zip(parsed, roles))


CLUSTER = cluster()
#: the consoles carry nothing: @CONSOLE is a stereotype nobody carries
NO_CONSOLES = cluster([(nick, "@SERVER" if nick.startswith("server") else "") for nick, _ in ROLES])


# ------------------------------------------------------------------------------------------- instance lists

@pytest.mark.parametrize(("names", "expected"), [
    (["@SERVER"], ["server_1", "server_2", "server_3"]),
    (["@CONSOLE"], ["console_1", "console_2", "console_3"]),
    (["server_1", "@CONSOLE"], ["server_1", "console_1", "console_2", "console_3"]),     # mixed list
    (["console_2", "@CONSOLE"], ["console_2", "console_1", "console_3"]),   # list order, no duplicate
    (["@CONSOLE", "@SERVER"], ["console_1", "console_2", "console_3", "server_1", "server_2", "server_3"]),
    (["@CONSOLE", "10.0.0.1:61001"], ["console_1", "console_2", "console_3", "server_1"]),  # host:port
    (["@NOBODY"], []),
    (["@NOBODY", "server_3"], ["server_3"]),
    (["@"], []),                          # the bare '@' is Supvisors' sign, never a stereotype
    (["#"], []),
    (["SERVER"], ["server_1", "server_2", "server_3"]),   # Supvisors compares stereotypes as written
    (["*", "@CONSOLE"], ["server_1", "server_2", "server_3", "console_1", "console_2", "console_3"]),
])
def test_filter(names, expected):
    assert [i.nick for i in CLUSTER.filter(names)] == expected
    assert [i.nick for i in resolve_identifiers(names, CLUSTER)] == expected


def test_stereotype_lookups():
    assert CLUSTER.stereotypes == ["@SERVER", "@CONSOLE"]
    assert NO_CONSOLES.uncarried_stereotypes(["@CONSOLE", "server_1", "@SERVER", "@X", "@CONSOLE", "@"]) == [
        "@CONSOLE", "@X"]
    assert [i.nick for i in CLUSTER.with_stereotype("CONSOLE")] == ["console_1", "console_2", "console_3"]


# ------------------------------------------------------------------------------------------- rules

RULES = """
    <alias name="consoles">@CONSOLE</alias>
    <alias name="some">server_2,@CONSOLE</alias>
    <model name="services"><identifiers>@SERVER</identifiers><start_sequence>2</start_sequence></model>
    <model name="via_model"><reference>services</reference></model>
    <application pattern="hci_"><distribution>SINGLE_INSTANCE</distribution>
        <identifiers>#,@CONSOLE</identifiers><start_sequence>3</start_sequence>
        <programs><program pattern=""><start_sequence>1</start_sequence></program></programs></application>
    <application pattern="alias_"><distribution>SINGLE_INSTANCE</distribution>
        <identifiers>#,consoles</identifiers><start_sequence>3</start_sequence></application>
    <application pattern="mixed_"><distribution>SINGLE_INSTANCE</distribution>
        <identifiers>#,server_1,@CONSOLE</identifiers><start_sequence>3</start_sequence></application>
    <application pattern="twice_"><distribution>SINGLE_INSTANCE</distribution>
        <identifiers>#,console_3,@CONSOLE,some</identifiers><start_sequence>3</start_sequence></application>
    <application pattern="nobody_"><distribution>SINGLE_INSTANCE</distribution>
        <identifiers>#,@NOBODY</identifiers><start_sequence>3</start_sequence></application>
    <application pattern="single_"><distribution>SINGLE_INSTANCE</distribution>
        <identifiers>@CONSOLE</identifiers><start_sequence>1</start_sequence>
        <programs><program pattern=""><start_sequence>1</start_sequence></program></programs></application>
    <application name="srv"><start_sequence>1</start_sequence>
        <starting_strategy>LESS_LOADED</starting_strategy>
        <programs>
            <program name="direct"><identifiers>@SERVER</identifiers><start_sequence>1</start_sequence>
                <expected_loading>10</expected_loading></program>
            <program name="model"><reference>via_model</reference></program>
            <program name="mixed"><identifiers>server_3,@CONSOLE</identifiers>
                <start_sequence>1</start_sequence></program>
            <program name="alias"><identifiers>some</identifiers><start_sequence>1</start_sequence></program>
            <program name="nobody"><identifiers>@NOBODY</identifiers><start_sequence>1</start_sequence>
            </program>
            <program name="ghost"><identifiers>@NOBODY,ghost</identifiers><start_sequence>1</start_sequence>
            </program>
            <program pattern="worker_"><identifiers>#,@SERVER</identifiers><start_sequence>4</start_sequence>
            </program>
        </programs>
    </application>"""


def load(tmp_path: Path, instances: InstanceList | None = CLUSTER):
    rules = load_rules([str(write_rules(tmp_path, RULES))], instances)
    return rules


@pytest.mark.parametrize(("application", "identifiers"), [
    ("hci_01", ("console_1",)), ("hci_02", ("console_2",)), ("hci_03", ("console_3",)),
    ("hci_04", ("console_1",)), ("hci_05", ("console_2",)),            # roll-over
    ("alias_02", ("console_2",)),                                        # through an alias
    ("mixed_01", ("server_1",)), ("mixed_02", ("console_1",)), ("mixed_05", ("server_1",)),
    ("twice_01", ("console_3",)), ("twice_02", ("console_1",)), ("twice_04", ("server_2",)),
    ("twice_05", ("console_3",)),                                        # duplicates dropped, first kept
    ("single_1", ("@CONSOLE",)),                                         # no '#': kept as written
])
def test_application_identifiers(tmp_path, application, identifiers):
    rules = load(tmp_path).application_rules(application)
    assert rules.identifiers == identifiers
    assert rules.start_sequence > 0 and not rules.notes


@pytest.mark.parametrize(("process", "identifiers", "resolved"), [
    ("direct", ("@SERVER",), ["server_1", "server_2", "server_3"]),
    ("model", ("@SERVER",), ["server_1", "server_2", "server_3"]),      # through two model levels
    ("mixed", ("server_3", "@CONSOLE"), ["server_3", "console_1", "console_2", "console_3"]),
    ("alias", ("server_2", "@CONSOLE"), ["server_2", "console_1", "console_2", "console_3"]),
    ("nobody", ("@NOBODY",), []),
])
def test_program_identifiers_are_kept_as_written_and_expanded_at_placement(tmp_path, process, identifiers,
                                                                         resolved):
    rules = load(tmp_path).process_rules("srv", process)
    assert rules.identifiers == identifiers
    assert [i.nick for i in resolve_identifiers(rules.identifiers, CLUSTER)] == resolved


def test_hash_over_a_stereotype_nobody_carries_gives_no_instance(tmp_path):
    rules = load(tmp_path, NO_CONSOLES)
    app = rules.application_rules("hci_01")
    assert (app.identifiers, app.hash_identifiers, app.start_sequence) == ((), ("@CONSOLE",), 3)
    assert app.notes and app.notes[0].endswith("application hci_01: '#' over @CONSOLE gives no instance "
                                               "(stereotype @CONSOLE: no instance carries it)")
    # a plain name among them still counts
    assert rules.application_rules("mixed_02").identifiers == ("server_1",)
    assert load(tmp_path).application_rules("nobody_1").identifiers == ()


def test_hash_over_a_stereotype_needs_the_instances(tmp_path):
    with pytest.raises(RulesError, match="'#' over stereotype @CONSOLE needs the instances and their "
                                         "stereotypes; give -c INVENTORY"):
        load(tmp_path, None).application_rules("hci_01")


# ------------------------------------------------------------------------------------------- placement

@pytest.mark.parametrize(("identifiers", "reason"), [
    (["@SERVER"], "No resource available: stereotype @SERVER: no instance carries it"),
    (["@SERVER", "@BIG"], "No resource available: stereotype @SERVER: no instance carries it; "
                          "stereotype @BIG: no instance carries it"),
    (["@SERVER", "ghost"], "No resource available: stereotype @SERVER: no instance carries it; "
                           "none of ghost is a known instance"),
    (["ghost"], "No resource available: none of ghost is a known instance"),
])
def test_no_resource_reason(identifiers, reason):
    bare = InstanceList.parse(["<a>h:1"])
    assert no_resource_reason(identifiers, [], [], [], 0, LoadModel(bare), StartingStrategy.CONFIG) == reason


def plan_for(tmp_path, instances, notes=None):
    rules = load(tmp_path, instances)
    programs = ["srv:direct", "srv:model", "srv:mixed", "srv:alias", "srv:nobody", "srv:ghost",
                "srv:worker_1", "srv:worker_2", "srv:worker_3", "srv:worker_4"]
    snap = snapshot(instances, {"*": [info(p) for p in programs],
                                "console_1": [info("hci_01:p"), info("single_1:p")],
                                "console_2": [info("hci_02:p")]})
    plan = build_start_plan(rules, snap, status_of(rules, snap))
    if notes is not None:
        notes.update({a.application_name: a.note for a in plan.applications()})
    return {p.namespec: p for p in plan.placements()}


def test_plan_places_by_stereotype(tmp_path):
    placed = plan_for(tmp_path, CLUSTER)
    where = {name: (p.action, p.instance.nick if p.instance else None) for name, p in placed.items()}
    assert where["srv:direct"] == (Action.START, "server_1")
    assert where["srv:model"] == (Action.START, "server_2")      # LESS_LOADED over @SERVER: not the busy one
    assert where["srv:mixed"][1] == "server_3"
    assert where["srv:alias"][1] == "server_2"
    # program-level '#' over @SERVER: round robin with roll-over
    workers = [where[f"srv:worker_{n}"][1] for n in (1, 2, 3, 4)]
    assert workers == ["server_1", "server_2", "server_3", "server_1"]
    assert where["hci_01:p"] == (Action.START, "console_1")
    assert where["hci_02:p"] == (Action.START, "console_2")
    assert where["single_1:p"] == (Action.START, "console_1")
    assert placed["srv:nobody"].action is Action.NO_RESOURCE
    assert placed["srv:nobody"].reason == "No resource available: stereotype @NOBODY: no instance carries it"
    assert placed["srv:ghost"].reason == ("No resource available: stereotype @NOBODY: no instance carries "
                                          "it; none of ghost is a known instance")


def test_plan_reasons_when_nobody_carries_the_stereotype(tmp_path):
    bare = cluster([(nick, "") for nick, _ in ROLES])      # nobody carries anything
    notes: dict[str, str] = {}
    placed = plan_for(tmp_path, bare, notes)
    assert notes["hci_01"] == ("SINGLE_INSTANCE: no instance can take the application (load 0; candidates "
                               "knowing every program: none; stereotype @CONSOLE: no instance carries it)")
    assert placed["srv:direct"].reason == "No resource available: stereotype @SERVER: no instance carries it"
    assert placed["srv:mixed"].instance.nick == "server_3"                 # the plain name still counts
    assert placed["hci_01:p"].action is Action.NO_RESOURCE
    assert placed["hci_01:p"].reason == ("No resource available: SINGLE_INSTANCE: no instance chosen for the "
                                         "application; stereotype @CONSOLE: no instance carries it")
    assert placed["single_1:p"].reason.endswith("; stereotype @CONSOLE: no instance carries it")
    assert placed["srv:worker_1"].reason == (
        "No resource available: '#' over @SERVER leaves no instance for worker_1 (stereotype @SERVER: "
        "no instance carries it)")


# ------------------------------------------------------------------------------------------- rules show

INVENTORY = """\
[supv]
rules_files = rules.xml
[instance:server_1]
serverurl = http://10.0.0.1:61001
stereotypes = @SERVER
[instance:console_1]
serverurl = http://10.0.0.4:61004
"""


@pytest.fixture
def inventory(tmp_path):
    write_rules(tmp_path, RULES, "rules.xml")
    conf = tmp_path / "supv.conf"
    conf.write_text(INVENTORY)
    return str(conf)


def test_rules_show_expands_stereotypes_and_reports_those_nobody_carries(inventory):
    result = run_supv("rules", "show", "-c", inventory, "--format", "plain", "hci_01", "srv:mixed",
                      "srv:direct")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1].split()[:4] == ["hci_01", "True", "SINGLE_INSTANCE", "#,@CONSOLE(none)"]
    assert lines[4].split()[:3] == ["srv", "mixed", "server_3,@CONSOLE(none)"]
    assert lines[5].split()[:3] == ["srv", "direct", "@SERVER(server_1)"]
    assert ("supv: warning: stereotype @CONSOLE: no instance carries it, so it resolves to no instance "
            "(in the identifiers of hci_01, srv:mixed)") in result.stderr.splitlines()
    assert "warning: application hci_01: '#' over @CONSOLE gives no instance" in result.stderr


def test_rules_show_json_keeps_supvisors_keys_and_values(inventory):
    result = run_supv("rules", "show", "-c", inventory, "--json", "hci_01", "srv:direct")
    assert result.exit_code == 0
    app, process = json.loads(result.stdout)
    assert list(app) == ["application_name", "managed", "distribution", "identifiers", "start_sequence",
                         "stop_sequence", "starting_strategy", "starting_failure_strategy",
                         "running_failure_strategy", "status_formula"]
    assert app["identifiers"] == [] and app["start_sequence"] == 3
    assert list(process) == ["application_name", "process_name", "identifiers", "start_sequence",
                             "stop_sequence", "required", "wait_exit", "expected_loading",
                             "starting_failure_strategy", "running_failure_strategy"]
    assert process["identifiers"] == ["@SERVER"]


def test_rules_show_without_instances_says_stereotypes_are_not_expanded(tmp_path):
    path = write_rules(tmp_path, RULES)
    result = run_supv("rules", "show", "-r", str(path), "--format", "plain", "srv:direct")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[1].split()[:3] == ["srv", "direct", "@SERVER"]
    assert "supv: note: stereotypes (@SERVER) are shown as written" in result.stderr
