"""What is known of instances that do not answer (supv_cli/unanswered.py), on hand-built snapshots."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from supv_cli.model.instances import Instance, InstanceList
from supv_cli.model.snapshot import InstanceSnapshot, ProcessInfo, ProcessState, Snapshot, Unreachable
from supv_cli.rules import Rules, load_rules
from supv_cli.status import evaluate
from supv_cli.unanswered import (
    allowed_nicks,
    declared_on_silent,
    fill_unanswered,
    filled_namespecs,
    homogeneous_copies,
    may_still_run,
    silent_hosts,
    unconfirmed_stops,
)

from .rules_helpers import rules_from, write_rules

S = ProcessState
SPEC = "<c1>127.0.0.1:1 <c2>127.0.0.1:2 <c3>127.0.0.1:3"
INSTANCES = InstanceList.parse([SPEC])
C1, C2, C3 = list(INSTANCES)
RULES = """
<application pattern="hci_"><distribution>SINGLE_INSTANCE</distribution><identifiers>#,c1,c2,c3</identifiers>
  <start_sequence>1</start_sequence></application>
<application name="srv"><start_sequence>1</start_sequence>
  <programs><program name="pinned"><identifiers>c1</identifiers></program></programs></application>
"""


@pytest.fixture
def rules(tmp_path: Path) -> Rules:
    return rules_from(tmp_path, RULES, instances=SPEC)


def up(instance: Instance, *infos: ProcessInfo) -> InstanceSnapshot:
    return InstanceSnapshot(instance=instance, state="RUNNING", processes=infos)


def down(instance: Instance, reason: str = "connection refused") -> InstanceSnapshot:
    return InstanceSnapshot(instance=instance, state="UNREACHABLE", reason=reason, error_kind=Unreachable.REFUSED)


def proc(namespec: str, state: ProcessState = S.STOPPED) -> ProcessInfo:
    group, name = namespec.split(":")
    return ProcessInfo(group=group, name=name, state=state)


@pytest.mark.parametrize(("application", "process", "nicks"), [
    ("hci_02", None, {"c2"}),                 # application-level '#': the second console
    ("hci_02", "view", {"c2"}),
    ("srv", None, {"c1", "c2", "c3"}),        # ALL_INSTANCES: the application identifiers do not apply
    ("srv", "pinned", {"c1"}),
    ("srv", "other", {"c1", "c2", "c3"}),
    ("unmanaged", "x", {"c1", "c2", "c3"}),
])
def test_allowed_nicks(rules: Rules, application: str, process: str | None, nicks: set[str]) -> None:
    assert allowed_nicks(rules, INSTANCES, application, process) == nicks


def test_allowed_nicks_without_rules_is_everywhere() -> None:
    assert allowed_nicks(None, INSTANCES, "x") == {"c1", "c2", "c3"}


@pytest.mark.parametrize(("known", "silent", "copies"), [
    (["hci_01", "hci_03"], [C2], {"hci_02": ("c2", "hci_01")}),
    (["hci_01"], [C2, C3], {"hci_02": ("c2", "hci_01"), "hci_03": ("c3", "hci_01")}),
    (["hci_01", "hci_02", "hci_03"], [C2], {}),   # known elsewhere: nothing to infer
    (["srv", "common"], [C2], {}),                # no application-level '#': nothing to infer
    (["hci_1"], [C2], {"hci_2": ("c2", "hci_1")}),  # the width of the index comes from the sibling
])
def test_homogeneous_copies(rules: Rules, known: list[str], silent: list[Instance],
                            copies: dict[str, tuple[str, str]]) -> None:
    assert homogeneous_copies(rules, INSTANCES, known, silent) == copies


def test_fill_lists_the_copy_of_a_dead_console_as_unknown(rules: Rules) -> None:
    snapshot = Snapshot((up(C1, proc("hci_01:view"), proc("hci_01:check")), down(C2),
                         up(C3, proc("hci_03:view"), proc("hci_03:check"))))
    filled = fill_unanswered(snapshot, rules, INSTANCES)
    assert [(i.namespec, i.state, i.spawnerr) for i in filled.instances[1].processes] == [
        ("hci_02:view", S.UNKNOWN, "c2 did not answer: connection refused"),
        ("hci_02:check", S.UNKNOWN, "c2 did not answer: connection refused")]
    assert filled_namespecs(filled) == {"hci_02:view", "hci_02:check"}
    status = evaluate(rules, filled)
    assert list(status.applications) == ["hci_01", "hci_02", "hci_03"]
    process = status.process("hci_02:view")
    assert process is not None and process.infos[0][0].nick == "c2"


def test_fill_uses_the_last_answer_and_never_hides_what_answering_instances_say(rules: Rules) -> None:
    snapshot = Snapshot((up(C1, proc("srv:a", S.RUNNING)), down(C2), up(C3)))
    last = {"c2": up(C2, proc("srv:a", S.RUNNING), proc("srv:b", S.RUNNING))}
    filled = fill_unanswered(snapshot, rules, INSTANCES, last)
    # srv:a is known by c1: only srv:b, which nobody else knows, is added
    assert [(i.namespec, i.spawnerr) for i in filled.instances[1].processes] == [
        ("srv:b", "c2 did not answer: connection refused; last seen RUNNING")]


def test_fill_changes_nothing_when_every_instance_answers(rules: Rules) -> None:
    snapshot = Snapshot((up(C1, proc("hci_01:view")), up(C2), up(C3)))
    assert fill_unanswered(snapshot, rules, INSTANCES) is snapshot


@pytest.mark.parametrize(("last", "applications", "expected"), [
    # no answer in this command: whatever the rules allow there
    (None, ["srv"], {"c2": ["srv:a", "srv:other"]}),
    (None, ["hci_01"], {}),                               # hci_01 is placed on c1 only
    # its last answer: only what was active then
    (up(C2, proc("srv:a", S.RUNNING), proc("srv:other", S.STOPPED)), ["srv"], {"c2": ["srv:a"]}),
    (up(C2, proc("srv:a", S.STOPPED)), ["srv"], {}),
    (None, ["ghost"], {"c2": ["ghost"]}),                 # nothing known anywhere: the application itself
])
def test_may_still_run(rules: Rules, last: InstanceSnapshot | None, applications: list[str],
                    expected: dict[str, list[str]]) -> None:
    snapshot = Snapshot((up(C1, proc("srv:a"), proc("srv:other"), proc("srv:pinned"), proc("hci_01:view")),
                         down(C2), up(C3)))
    answers = {"c2": last} if last is not None else None
    assert may_still_run(snapshot, rules, INSTANCES, applications, answers) == expected


def test_may_still_run_only_the_processes_of_a_single_process_run(rules: Rules) -> None:
    snapshot = Snapshot((up(C1, proc("srv:a"), proc("srv:other")), down(C2), up(C3)))
    assert may_still_run(snapshot, rules, INSTANCES, ["srv"], None, {"srv:a"}) == {"c2": ["srv:a"]}
    assert may_still_run(snapshot, rules, INSTANCES, ["srv"], None, {"srv:pinned"}) == {}


def test_silent_hosts_of_an_unknown_managed_application(rules: Rules) -> None:
    snapshot = Snapshot((up(C1), down(C2), up(C3)))
    assert silent_hosts(snapshot, rules, INSTANCES, "hci_02") == ["c2"]
    assert silent_hosts(snapshot, rules, INSTANCES, "hci_03") == []
    assert silent_hosts(snapshot, rules, INSTANCES, "nope") == []  # unmanaged: an unknown name stays unknown


def row(namespec: str, action: str, outcome: str, instance: str | None = None) -> dict[str, object]:
    return {"namespec": namespec, "action": action, "outcome": outcome, "instance": instance, "detail": "d"}


RISK = {"c2": ["srv:a", "srv:b"]}


@pytest.mark.parametrize(("given", "expected"), [
    # a stop that saw nothing to do on the answering instances: unconfirmed, on the silent one
    (row("srv:a", "stop", "ALREADY"), ("LOST", "c2", "c2 did not answer (timeout): may still run there")),
    # stopped where it was seen: that much is true (the error line says what may still run elsewhere)
    (row("srv:b", "stop", "STOPPED", "c1"), ("STOPPED", "c1", "d")),
    # a start that found it running is not a stop left undone
    (row("srv:a", "start", "ALREADY"), ("ALREADY", None, "d")),
    # not at risk: unchanged
    (row("srv:c", "stop", "ALREADY"), ("ALREADY", None, "d")),
])
def test_unconfirmed_stops(given: dict[str, object], expected: tuple[str, str | None, str]) -> None:
    (marked,) = unconfirmed_stops([given], RISK, {"c2": "timeout"})
    assert (marked["outcome"], marked["instance"], marked["detail"]) == expected
    assert given["outcome"] in ("ALREADY", "STOPPED")  # the run's own rows are not changed


# ------------------------------------------------------------------ issue 17, items 1 and 2
def stereotyped() -> InstanceList:
    from dataclasses import replace

    return InstanceList([replace(instance, stereotypes=("@CONSOLE",)) for instance in INSTANCES])


def test_homogeneous_copies_over_a_stereotype_count_the_instances_carrying_it(tmp_path: Path) -> None:
    instances = stereotyped()
    rules = load_rules([str(write_rules(tmp_path, """<application pattern="hci_">
      <distribution>SINGLE_INSTANCE</distribution><identifiers>#,@CONSOLE</identifiers></application>"""))],
                          instances)
    copies = homogeneous_copies(rules, instances, ["hci_01", "hci_02"], [list(instances)[2]])
    assert copies == {"hci_03": ("c3", "hci_01")}


@pytest.mark.parametrize(("rules_body", "known", "expected"), [
    # a named application pinned to the silent instance: listed from its named programs
    ('<application name="solo"><programs><program name="solo"><identifiers>c2</identifiers></program>'
     '</programs></application>', [], {"solo": [("solo", "c2")]}),
    # the application's identifiers (SINGLE_INSTANCE) decide too
    ('<application name="solo"><distribution>SINGLE_INSTANCE</distribution><identifiers>c2</identifiers>'
     '<programs><program name="a"/><program pattern="b"/></programs></application>', [], {"solo": [("a", "c2")]}),
    # known by an answering instance: nothing to infer
    ('<application name="solo"><programs><program name="solo"><identifiers>c2</identifiers></program>'
     '</programs></application>', ["solo"], {}),
    # pinned to an answering instance: it would be known there
    ('<application name="solo"><programs><program name="solo"><identifiers>c1</identifiers></program>'
     '</programs></application>', [], {}),
])
def test_declared_on_silent(tmp_path: Path, rules_body: str, known: list[str],
                            expected: dict[str, list[tuple[str, str]]]) -> None:
    rules = rules_from(tmp_path, rules_body, instances=SPEC)
    assert declared_on_silent(rules, INSTANCES, known, [C2]) == expected


def test_an_application_pinned_to_a_dead_instance_is_listed_unknown(tmp_path: Path) -> None:
    rules = rules_from(tmp_path, '<application name="solo"><programs><program name="solo">'
                       '<identifiers>c2</identifiers></program></programs></application>', instances=SPEC)
    status = evaluate(rules, fill_unanswered(Snapshot((up(C1), down(C2), up(C3))), rules, INSTANCES))
    process = status.process("solo:solo")
    assert process is not None and process.state is S.UNKNOWN and "c2 did not answer" in process.reason
    assert filled_namespecs(status.snapshot) == {"solo:solo"}


CHECKS = """<application name="srv"><start_sequence>1</start_sequence><programs>
  <program name="check"><required>true</required><wait_exit>true</wait_exit><start_sequence>1</start_sequence>
  </program>
  <program name="svc"><required>true</required><start_sequence>2</start_sequence></program></programs></application>"""


def test_a_silent_instance_keeps_the_last_known_state_of_its_stopped_processes(tmp_path: Path) -> None:
    rules = rules_from(tmp_path, CHECKS, instances=SPEC)
    exited = ProcessInfo(group="srv", name="check", state=S.EXITED, start=10.0, stop=12.0, exitstatus=0,
                         exitcodes=(0,), config_known=True, description="exit status 0")
    # the check ran (and exited) on c1, now frozen; c2 and c3 never ran it; svc runs on c2
    snapshot = Snapshot((down(C1, "timeout"), up(C2, proc("srv:check"), proc("srv:svc", S.RUNNING)),
                         up(C3, proc("srv:check"), proc("srv:svc"))))
    alone = evaluate(rules, fill_unanswered(snapshot, rules, INSTANCES))
    assert alone.process("srv:check").state is S.STOPPED  # type: ignore[union-attr]  # nothing else known
    last = {"c1": up(C1, exited, proc("srv:svc"))}
    status = evaluate(rules, fill_unanswered(snapshot, rules, INSTANCES, last))
    check = status.process("srv:check")
    assert check is not None and check.state is S.EXITED and check.expected_exit
    assert "last answer (c1 did not answer: timeout)" in check.reason
    application = status.applications["srv"]
    assert (application.statename, application.major_failure, application.operational_status) == (
        "RUNNING", False, "Operational")


def test_an_unmanaged_program_running_on_several_instances_is_no_conflict(tmp_path: Path) -> None:
    rules = rules_from(tmp_path, CHECKS, instances=SPEC)
    snapshot = Snapshot((up(C1, proc("bus:bus", S.RUNNING), proc("srv:svc", S.RUNNING)),
                         up(C2, proc("bus:bus", S.RUNNING), proc("srv:svc", S.RUNNING)), up(C3)))
    status = evaluate(rules, snapshot)
    bus, svc = status.process("bus:bus"), status.process("srv:svc")
    assert bus is not None and not bus.conflict and not bus.to_dict()["conflict"]
    assert svc is not None and svc.conflict
    assert [p.namespec for p in status.conflicts()] == ["srv:svc"]


def test_last_known_records_round_trip() -> None:
    from supv_cli.unanswered import answer_of_records, last_known_records

    exited = ProcessInfo(group="srv", name="check", state=S.EXITED, start=10.0, stop=12.0, exitstatus=3,
                         exitcodes=(0, 3), description="exit status 3")
    probed = ProcessInfo(group="srv", name="svc", state=S.RUNNING, start=11.0, config_known=False)
    records = last_known_records(up(C1, exited, probed))
    answer = answer_of_records(C1, json.loads(json.dumps(records)))  # what a controller's state line carries
    assert answer is not None and answer.reachable and answer.processes == (exited, probed)
    assert answer.processes[0].expected_exit
    for bad in (None, "x", [{"group": "a"}], [{"group": "a", "name": "b", "state": "NOPE"}], [3]):
        assert answer_of_records(C1, bad) is None
