"""The status core (spec §2, §3.2; decisions.md), table-driven on hand-built snapshots."""

from __future__ import annotations

from typing import Any

import pytest

from supv_cli.model.instances import Instance, parse_instance
from supv_cli.model.snapshot import InstanceSnapshot, ProcessInfo, ProcessState, Snapshot, Unreachable
from supv_cli.rules.model import ApplicationRules, ProcessRules
from supv_cli.status import ApplicationState, ProcessStatus, evaluate
from supv_cli.status.applications import application_state, application_status, failures, operational_status
from supv_cli.status.formula import FormulaError, evaluate_formula
from supv_cli.status.loads import process_counts
from supv_cli.status.processes import synthesize

from .rules_helpers import rules_from

S = ProcessState
A = ApplicationState
# three instances; a and b share the node 127.0.0.1, c is alone on 127.0.0.2
A_I, B_I, C_I = (parse_instance("<a>127.0.0.1:61001"), parse_instance("<b>127.0.0.1:61002"),
                 parse_instance("<c>127.0.0.2:61003"))
BY_NICK = {"a": A_I, "b": B_I, "c": C_I}


def info(state: ProcessState, name: str = "p", group: str = "app", stop: float = 0.0, exitstatus: int = 0,
         exitcodes: tuple[int, ...] = (0,), spawnerr: str = "", description: str = "") -> ProcessInfo:
    return ProcessInfo(group=group, name=name, state=state, stop=stop, exitstatus=exitstatus, exitcodes=exitcodes,
                       spawnerr=spawnerr, description=description)


def on(**states: Any) -> list[tuple[Instance, ProcessInfo]]:
    """``on(a=S.RUNNING, b=info(...))`` -> infos in instance order."""
    result = []
    for nick in ("a", "b", "c"):
        if nick in states:
            value = states[nick]
            result.append((BY_NICK[nick], value if isinstance(value, ProcessInfo) else info(value)))
    return result


# --------------------------------------------------------------------------------------------- §2.1 synthesis

SYNTHESIS = [
    # (id, infos, lost, state, expected_exit, running_on, identifiers, conflict, reason)
    ("one running", on(a=S.RUNNING), (), S.RUNNING, True, "a", "a", False, ""),
    ("running twice is a conflict", on(a=S.RUNNING, b=S.RUNNING), (), S.RUNNING, True, "ab", "ab", True, ""),
    ("conflict order RUNNING first", on(a=S.STARTING, b=S.BACKOFF, c=S.RUNNING), (), S.RUNNING, True, "abc",
     "abc", True, ""),
    ("conflict BACKOFF before STARTING", on(a=S.STARTING, b=S.BACKOFF), (), S.BACKOFF, True, "ab", "ab", True, ""),
    ("conflict STARTING before STOPPING", on(a=S.STOPPING, b=S.STARTING), (), S.STARTING, True, "b", "ab", True,
     ""),
    ("conflict of two STOPPING", on(a=S.STOPPING, c=S.STOPPING), (), S.STOPPING, True, "", "ac", True, ""),
    ("STOPPING dominates stopped infos", on(a=S.EXITED, b=S.STOPPING), (), S.STOPPING, True, "", "b", False, ""),
    ("running wins over a later crash", on(a=info(S.FATAL, stop=999, spawnerr="Exited too quickly"),
                                           b=S.BACKOFF), (), S.BACKOFF, True, "b", "b", False, ""),
    ("most recent stop wins", on(a=info(S.FATAL, stop=100, spawnerr="Exited too quickly"),
                                 b=info(S.EXITED, stop=200)), (), S.EXITED, True, "", "", False, ""),
    ("most recent stop wins, unexpected code", on(a=info(S.EXITED, stop=200, exitstatus=4),
                                                  b=info(S.FATAL, stop=100, spawnerr="spawn")), (),
     S.EXITED, False, "", "", False, ""),
    ("ties go to the instance listed first", on(a=info(S.STOPPED), b=info(S.EXITED)), (), S.STOPPED, True, "",
     "", False, ""),
    ("ties on a non-zero stop", on(b=info(S.EXITED, stop=50, exitstatus=9), c=info(S.STOPPED, stop=50)), (),
     S.EXITED, False, "", "", False, ""),
    ("expected exit from exitcodes", on(a=info(S.EXITED, stop=5, exitstatus=3, exitcodes=(0, 3))), (), S.EXITED,
     True, "", "", False, ""),
    ("FATAL is not expected", on(a=info(S.FATAL, spawnerr="Exited too quickly (process log may have details)")),
     (), S.FATAL, False, "", "", False, "Exited too quickly (process log may have details)"),
    ("reason is the description when no spawn error", on(a=info(S.RUNNING, description="pid 1, uptime 0:00:01")),
     (), S.RUNNING, True, "a", "a", False, "pid 1, uptime 0:00:01"),
    ("lost instance: FATAL", on(a=S.RUNNING, b=info(S.STOPPED, stop=10**9)), ("a",), S.FATAL, False, "", "",
     False, "Supervisor a lost"),
    ("lost instance: still runs elsewhere", on(a=S.RUNNING, b=S.RUNNING), ("a",), S.RUNNING, True, "b", "b",
     False, ""),
    ("lost instance where it was stopped", on(a=info(S.STOPPED, stop=5), b=info(S.EXITED, stop=9)), ("a",),
     S.EXITED, True, "", "", False, ""),
]


@pytest.mark.parametrize("infos, lost, state, expected, running, identifiers, conflict, reason",
                         [row[1:] for row in SYNTHESIS], ids=[row[0] for row in SYNTHESIS])
def test_synthesis(infos, lost, state, expected, running, identifiers, conflict, reason):
    status = synthesize("app", "p", infos, lost=frozenset(lost))
    assert status.state is state
    assert status.expected_exit is expected
    assert "".join(i.nick for i in status.running_on) == running
    assert "".join(i.nick for i in status.identifiers) == identifiers
    assert status.conflict is conflict
    assert status.reason == reason
    assert [i.nick for i, _ in status.infos] == [i.nick for i, _ in infos]


def test_lost_instance_info_becomes_fatal():
    status = synthesize("app", "p", on(a=S.RUNNING, b=S.STOPPED), lost=frozenset({"a"}))
    lost = status.info_on(A_I)
    assert lost is not None and lost.state is S.FATAL and lost.spawnerr == "Supervisor a lost"
    assert status.info_on(C_I) is None


@pytest.mark.parametrize("spawnerr, exitstatus, expected", [
    ("", 3, True),  # Supervisor clears spawnerr at spawn and sets it only for a code outside exitcodes
    ("Bad exit code 4", 4, False),
    ("Bad exit code 0", 0, False),  # exitcodes=1: only the spawn error knows
])
def test_expected_exit_without_the_configuration(spawnerr, exitstatus, expected):
    exited = ProcessInfo(group="app", name="p", state=S.EXITED, stop=5, exitstatus=exitstatus, spawnerr=spawnerr,
                         config_known=False)
    status = synthesize("app", "p", [(A_I, exited)])
    assert (status.state, status.expected_exit, status.crashed) == (S.EXITED, expected, not expected)


@pytest.mark.parametrize("state, expected, running, stopped, crashed", [
    (S.RUNNING, True, True, False, False),
    (S.STARTING, True, True, False, False),
    (S.BACKOFF, True, True, False, False),
    (S.STOPPING, True, False, False, False),
    (S.STOPPED, True, False, True, False),
    (S.EXITED, True, False, True, False),
    (S.EXITED, False, False, True, True),
    (S.FATAL, False, False, True, True),
    (S.UNKNOWN, True, False, True, True),
])
def test_process_predicates(state, expected, running, stopped, crashed):
    status = ProcessStatus("app", "p", state, expected, (), (), ProcessRules("app", "p"))
    assert (status.running, status.stopped, status.crashed) == (running, stopped, crashed)
    assert status.namespec == "app:p"


# --------------------------------------------------------------------------------------------- §2.3 application state

@pytest.mark.parametrize("states, expected", [
    ((S.STOPPING, S.STARTING), A.STOPPING),  # STOPPING dominates
    ((S.RUNNING, S.STOPPING, S.FATAL), A.STOPPING),
    ((S.BACKOFF, S.RUNNING), A.STARTING),  # BACKOFF counts as STARTING
    ((S.STARTING,), A.STARTING),
    ((S.RUNNING, S.EXITED), A.RUNNING),
    ((S.RUNNING, S.FATAL, S.STOPPED), A.RUNNING),
    ((S.STOPPED, S.STOPPED), A.STOPPED),
    ((S.EXITED, S.FATAL, S.UNKNOWN), A.STOPPED),
    ((), A.STOPPED),
])
def test_application_state(states, expected):
    assert application_state(states) is expected


# --------------------------------------------------------------------------------------------- §2.4 failures

def proc(name: str, state: ProcessState, expected: bool = True, required: bool = False) -> ProcessStatus:
    rules = ProcessRules("app", name, required=required, start_sequence=1 if required else 0)
    return ProcessStatus("app", name, state, expected, (), (), rules)


FAILURES = [
    # (id, app state, processes, managed, major, minor)
    ("required FATAL", A.RUNNING, [proc("r", S.FATAL, False, True), proc("o", S.RUNNING)], True, True, False),
    ("required UNKNOWN", A.RUNNING, [proc("r", S.UNKNOWN, required=True)], True, True, False),
    ("required EXITED unexpected", A.RUNNING, [proc("r", S.EXITED, False, True)], True, True, False),
    ("required EXITED expected is fine", A.RUNNING, [proc("r", S.EXITED, True, True)], True, False, False),
    ("crashed optional gives minor", A.RUNNING, [proc("o", S.FATAL, False), proc("r", S.RUNNING, required=True)],
     True, False, True),
    ("optional EXITED unexpected gives minor", A.RUNNING, [proc("o", S.EXITED, False)], True, False, True),
    ("optional EXITED expected", A.RUNNING, [proc("o", S.EXITED, True)], True, False, False),
    ("major resets minor", A.RUNNING, [proc("o", S.FATAL, False), proc("r", S.FATAL, False, True)], True, True,
     False),
    ("required STOPPED in a RUNNING app is major", A.RUNNING, [proc("r", S.STOPPED, required=True)], True, True,
     False),
    ("required STOPPED in a STARTING app is major", A.STARTING, [proc("r", S.STOPPED, required=True)], True, True,
     False),
    ("required STOPPED in a STOPPED app is not", A.STOPPED, [proc("r", S.STOPPED, required=True)], True, False,
     False),
    ("required FATAL in a STOPPED app is major", A.STOPPED, [proc("r", S.FATAL, False, True)], True, True, False),
    ("required STOPPING never counts", A.STOPPING, [proc("r", S.STOPPING, required=True)], True, False, False),
    ("optional STOPPED never counts", A.RUNNING, [proc("o", S.STOPPED)], True, False, False),
    ("unmanaged never fails", A.RUNNING, [proc("r", S.FATAL, False, True), proc("o", S.EXITED, False)], False,
     False, False),
]


@pytest.mark.parametrize("state, processes, managed, major, minor", [row[1:] for row in FAILURES],
                         ids=[row[0] for row in FAILURES])
def test_failures_without_formula(state, processes, managed, major, minor):
    assert failures(state, processes, managed) == (major, minor, ())


# --------------------------------------------------------------------------------------------- §2.5 formula

STATUSES = {"register_1": True, "register_2": True, "movie_1": False, "movie_2": True, "hmi": False, "a.c": True,
            "abc": False, "web": True}

FORMULAS = [
    ("all('register.*')", True),
    ("all('.*')", False),
    ("any('.*')", True),
    ("all('register.*') and any('movie.*')", True),
    ("all('register.*') and all('movie.*')", False),
    ("'hmi' or 'web'", True),
    ("not 'hmi'", True),
    ("not ('hmi' or 'web')", False),
    ("'web'", True),
    ("'movie_1'", False),
    ("all('movie_2')", True),  # a single match is wrapped into a list by any/all
    ("any('movie_1')", False),
    ("'mo.*_1'", False),  # one regex match gives a bool
    ("'a.c'", True),  # an exact name wins over the regex (which also matches abc)
    ("any('a.c')", True),
    ("all('a.c') and not 'abc'", True),
    ("'web' and ('hmi' or all('register_.'))", True),
]


@pytest.mark.parametrize("formula, expected", FORMULAS)
def test_formula(formula, expected):
    assert evaluate_formula(formula, STATUSES) is expected


FORMULA_ERRORS = [
    ("'movie.*'", "wrap the pattern"),  # several matches, not consumed
    ("'movie.*' and 'web'", "inside any() or all()"),
    ("not 'register.*'", "inside any() or all()"),
    ("any('nothing.*')", "no match for expression 'nothing.*'"),
    ("'ghost'", "no match"),
    ("len('web')", "unsupported function len"),
    ("__import__('os')", "unsupported function __import__"),
    ("os.system('x')", "unsupported function"),
    ("any('web', 'hmi')", "exactly one argument"),
    ("any()", "exactly one argument"),
    ("all(x='web')", "exactly one argument"),
    ("'web' + 'hmi'", "unsupported expression BinOp"),
    ("True", "unsupported expression Constant"),
    ("web", "unsupported expression Name"),
    ("['web']", "unsupported expression List"),
    ("'web' == 'web'", "unsupported expression Compare"),
    ("all('[')", "invalid regular expression"),
    ("x = 'web'", "exactly one expression"),
    ("'web'; 'hmi'", "exactly one expression"),
    ("all(", "not a Python expression"),
    ("", "exactly one expression"),
]


@pytest.mark.parametrize("formula, message", FORMULA_ERRORS)
def test_formula_errors(formula, message):
    with pytest.raises(FormulaError, match=None) as caught:
        evaluate_formula(formula, STATUSES)
    assert message in str(caught.value)


FORMULA_FAILURES = [
    # (id, formula, processes, major, minor, noted)
    ("formula true", "all('p.*')", [proc("p1", S.RUNNING), proc("p2", S.BACKOFF)], False, False, False),
    ("formula ignores required", "'p1'", [proc("p1", S.RUNNING), proc("r", S.STOPPED, required=True)], False,
     False, False),
    ("EXITED expected is ok for a formula", "'p1'", [proc("p1", S.EXITED, True)], False, False, False),
    ("EXITED unexpected is not ok", "'p1'", [proc("p1", S.EXITED, False)], True, False, False),
    ("STOPPED is not ok", "all('p.*')", [proc("p1", S.RUNNING), proc("p2", S.STOPPED)], True, False, False),
    ("no major: crashed gives minor", "'p1'", [proc("p1", S.RUNNING), proc("p2", S.FATAL, False)], False, True,
     False),
    ("major: no minor", "'p2'", [proc("p1", S.FATAL, False), proc("p2", S.STOPPED)], True, False, False),
    ("an error is a major failure with a note", "any('zz.*')", [proc("p1", S.RUNNING)], True, False, True),
    ("a non-bool result is a major failure", "'p.*'", [proc("p1", S.RUNNING), proc("p2", S.RUNNING)], True, False,
     True),
]


@pytest.mark.parametrize("formula, processes, major, minor, noted", [row[1:] for row in FORMULA_FAILURES],
                         ids=[row[0] for row in FORMULA_FAILURES])
def test_failures_with_formula(formula, processes, major, minor, noted):
    got_major, got_minor, notes = failures(A.RUNNING, processes, True, formula)
    assert (got_major, got_minor, bool(notes)) == (major, minor, noted)
    if noted:
        assert notes[0].startswith(f"operational_status {formula!r}: ")


def test_unmanaged_application_ignores_any_formula():
    rules = ApplicationRules("app", managed=False, status_formula="'ghost'")
    status = application_status(rules, [proc("p1", S.FATAL, False)])
    assert (status.state, status.major_failure, status.minor_failure, status.notes) == (A.STOPPED, False, False, ())


# --------------------------------------------------------------------------------------------- §2.6 operational

@pytest.mark.parametrize("state, major, minor, expected", [
    (A.RUNNING, False, False, "Operational"),
    (A.RUNNING, False, True, "Degraded"),
    (A.RUNNING, True, False, "Not Operational"),
    (A.STARTING, True, False, ""),
    (A.STOPPING, False, True, ""),
    (A.STOPPED, False, False, ""),
])
def test_operational_status(state, major, minor, expected):
    assert operational_status(state, major, minor) == expected


# --------------------------------------------------------------------------------------------- evaluate()

def snapshot(**per_instance: Any) -> Snapshot:
    """``snapshot(a=[infos], b=None)``: None makes the instance unreachable."""
    snaps = []
    for nick in ("a", "b", "c"):
        if nick not in per_instance:
            continue
        infos = per_instance[nick]
        if infos is None:
            snaps.append(InstanceSnapshot(BY_NICK[nick], "UNREACHABLE", "connection refused",
                                          error_kind=Unreachable.REFUSED))
        else:
            snaps.append(InstanceSnapshot(BY_NICK[nick], "RUNNING", processes=tuple(infos)))
    return Snapshot(tuple(snaps))


RULES = """
<application name="web">
  <start_sequence>1</start_sequence>
  <programs>
    <program name="server"><start_sequence>1</start_sequence><required>true</required>
      <expected_loading>20</expected_loading></program>
    <program name="worker"><start_sequence>2</start_sequence><expected_loading>5</expected_loading></program>
  </programs>
</application>
<application name="db">
  <start_sequence>2</start_sequence>
  <operational_status>all('db_.*')</operational_status>
  <programs><program pattern="db_"><expected_loading>7</expected_loading></program></programs>
</application>
"""


@pytest.fixture
def rules(tmp_path):
    return rules_from(tmp_path, RULES, instances="<a>127.0.0.1:61001 <b>127.0.0.1:61002 <c>127.0.0.2:61003")


def test_evaluate_applications_processes_and_loads(rules):
    snap = snapshot(
        a=[info(S.RUNNING, "server", "web"), info(S.RUNNING, "db_1", "db"), info(S.RUNNING, "tool", "misc")],
        b=[info(S.STOPPED, "server", "web"), info(S.FATAL, "worker", "web", spawnerr="Exited too quickly"),
           info(S.RUNNING, "tool", "misc")],
        c=[info(S.RUNNING, "db_1", "db"), info(S.STOPPED, "db_2", "db"), info(S.STARTING, "extra", "late")],
    )
    status = evaluate(rules, snap)
    assert list(status.applications) == ["web", "db", "misc", "late"]  # discovery order
    assert list(status.processes) == ["web:server", "db:db_1", "misc:tool", "web:worker", "db:db_2", "late:extra"]
    web, db, misc, late = status.applications.values()
    assert (web.managed, web.state, web.major_failure, web.minor_failure, web.operational_status) == (
        True, A.RUNNING, False, True, "Degraded")
    assert [p.process_name for p in web.processes] == ["server", "worker"]
    # db_2 STOPPED makes the formula false; db_1 runs on a and c: a conflict of a managed application
    assert (db.state, db.major_failure, db.minor_failure, db.operational_status) == (
        A.RUNNING, True, False, "Not Operational")
    assert (misc.managed, misc.state, misc.major_failure, misc.operational_status) == (
        False, A.RUNNING, False, "Operational")
    assert (late.managed, late.state, late.operational_status) == (False, A.STARTING, "")
    assert [p.namespec for p in status.conflicts()] == ["db:db_1"]  # misc:tool runs twice but is unmanaged
    # running twice is no conflict for an unmanaged application (issue 17 item 3): no marker in sstatus
    assert not status.processes["misc:tool"].conflict and len(status.processes["misc:tool"].running_on) == 2
    # loads: server 20 on a, db_1 7 on a and on c (conflict: both count)
    assert status.instance_loads == {"a": 27, "b": 0, "c": 7}
    assert status.node_loads == {"127.0.0.1": 27, "127.0.0.2": 7}
    assert status.unreachable == [] and status.notes == []


def test_evaluate_without_rules_everything_is_unmanaged():
    snap = snapshot(a=[info(S.FATAL, "p", "app", spawnerr="boom"), info(S.RUNNING, "q", "app")])
    status = evaluate(None, snap)
    (app,) = status.applications.values()
    assert (app.managed, app.state, app.major_failure, app.minor_failure, app.operational_status) == (
        False, A.RUNNING, False, False, "Operational")
    assert app.to_dict() == {"application_name": "app", "managed": False, "statecode": 2, "statename": "RUNNING",
                             "major_failure": False, "minor_failure": False, "operational_status": "Operational"}
    assert status.instance_loads == {"a": 0}


def test_evaluate_reports_unreachable_and_lost(rules):
    snap = snapshot(a=[info(S.RUNNING, "server", "web"), info(S.RUNNING, "worker", "web")], b=None,
                    c=[info(S.STOPPED, "server", "web"), info(S.RUNNING, "worker", "web")])
    status = evaluate(rules, snap, lost=frozenset({"a"}))
    assert [s.instance.nick for s in status.unreachable] == ["b"]
    server = status.processes["web:server"]
    assert (server.state, server.expected_exit, server.reason) == (S.FATAL, False, "Supervisor a lost")
    worker = status.processes["web:worker"]
    assert (worker.state, [i.nick for i in worker.running_on], worker.conflict) == (S.RUNNING, ["c"], False)
    web = status.applications["web"]
    assert (web.state, web.major_failure, web.operational_status) == (A.RUNNING, True, "Not Operational")
    assert status.instance_loads == {"a": 0, "b": 0, "c": 5}


def test_evaluate_formula_error_is_noted(tmp_path):
    rules = rules_from(tmp_path, "<application name='app'><operational_status>any('zz')</operational_status>"
                                 "</application>")
    status = evaluate(rules, snapshot(a=[info(S.RUNNING, "p", "app")]))
    app = status.applications["app"]
    assert app.major_failure and app.operational_status == "Not Operational"
    assert status.notes == ["app: operational_status \"any('zz')\": no match for expression 'zz'"]


def test_evaluate_is_deterministic(rules):
    snap = snapshot(a=[info(S.RUNNING, "server", "web")], b=[info(S.RUNNING, "server", "web")])
    assert evaluate(rules, snap) == evaluate(rules, snap)


def test_process_to_dict():
    status = synthesize("app", "p", on(a=S.RUNNING, b=info(S.STOPPED)))
    assert status.to_dict() == {
        "application_name": "app", "process_name": "p", "statecode": 20, "statename": "RUNNING",
        "expected_exit": True, "identifiers": ["a"], "reason": "", "conflict": False,
        "instances": {"a": "RUNNING", "b": "STOPPED"}}


def test_process_counts():
    snap = InstanceSnapshot(A_I, "RUNNING", processes=(info(S.RUNNING, "p"), info(S.RUNNING, "q"), info(S.FATAL)))
    counts = process_counts(snap)
    assert counts["RUNNING"] == 2 and counts["FATAL"] == 1 and counts["STOPPED"] == 0
    assert list(counts) == [state.name for state in ProcessState]
