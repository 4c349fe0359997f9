"""``supv top``: the frame of a small cluster, rendered at 80 columns, and its cut to a terminal height."""

from __future__ import annotations

import time

import pytest

from supv_cli.cli.top_render import text_lines
from supv_cli.look.changes import Change
from supv_cli.look.dashboard import AppRow, Frame, InstanceRow, build_frame, fit, load_bar
from supv_cli.model.instances import parse_instance
from supv_cli.model.snapshot import InstanceSnapshot, ProcessInfo, ProcessState, Snapshot, Unreachable
from supv_cli.status import evaluate

from .rules_helpers import rules_from

S = ProcessState
RULES = """
<application name="web"><start_sequence>1</start_sequence>
  <programs><program name="front"><expected_loading>25</expected_loading></program></programs>
</application>
<application name="db"><start_sequence>1</start_sequence>
  <programs>
    <program name="main"><required>true</required><expected_loading>40</expected_loading></program>
    <program name="backup"><expected_loading>15</expected_loading></program>
  </programs>
</application>
<application name="batch"><start_sequence>2</start_sequence></application>
"""
SPEC = "<srv1>127.0.0.11:61001 <srv2>127.0.0.12:61002 <console_1>127.0.0.21:61003"
T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def small_cluster() -> Snapshot:
    srv1, srv2, console = (parse_instance(item) for item in SPEC.split())

    def proc(group: str, name: str, state: ProcessState, **extra: object) -> ProcessInfo:
        return ProcessInfo(group, name, state, **extra)  # type: ignore[arg-type]

    return Snapshot((
        InstanceSnapshot(srv1, "RUNNING", processes=(
            proc("web", "front", S.RUNNING, pid=101), proc("db", "main", S.RUNNING, pid=102),
            proc("db", "backup", S.EXITED, exitstatus=1, spawnerr="Bad exit code 1"),
            proc("batch", "job", S.STOPPED))),
        InstanceSnapshot(srv2, "RUNNING", processes=(
            proc("web", "front", S.RUNNING, pid=201), proc("db", "main", S.STOPPED),
            proc("db", "backup", S.STOPPED), proc("batch", "job", S.STOPPED))),
        InstanceSnapshot(console, "UNREACHABLE", "connection refused", error_kind=Unreachable.REFUSED),
    ), taken_at=T0)


def test_frame_of_a_small_cluster_at_80_columns(tmp_path):
    rules = rules_from(tmp_path, RULES, instances=SPEC)
    events = [Change(T0 - 5, "process", "srv1", "STARTING", "RUNNING", "db", "main", 102),
              Change(T0 - 2, "instance", "console_1", "RUNNING", "UNREACHABLE", reason="connection refused"),
              Change(T0 - 1, "conflict", "srv1", "NONE", "CONFLICT", "web", "front", instances=("srv1", "srv2"))]
    frame = build_frame(evaluate(rules, small_cluster()), {"srv1": "acting", "srv2": "standby"}, events, 1.0)
    assert text_lines(frame, 80) == [
        "supv top  08:00:00  3 instances, 2 running  3 applications",
        "Applications",
        "Application  State     Operational        Major  Minor",
        "web          RUNNING   \u25cf Operational      False  False",
        "db           RUNNING   \u25cf Degraded         False  True",
        "batch        STOPPED                      False  False",
        "Instances",
        "Instance   State        Load             Procs  Controller  Reason",
        "srv1       RUNNING      \u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2591\u2591\u2591  65%    2/4  acting",
        "srv2       RUNNING      \u2588\u2588\u2588\u2591\u2591\u2591\u2591\u2591\u2591\u2591  25%    1/4  standby",
        "console_1  UNREACHABLE                          -           connection refused",
        "Conflicts",
        "  web:front on srv1, srv2",
        "Last events",
        "07:59:55 srv1 db:main STARTING -> RUNNING (pid 102)",
        "07:59:58 console_1 - RUNNING -> UNREACHABLE (connection refused)",
        "07:59:59 srv1,srv2 web:front NONE -> CONFLICT",
    ]
    assert all(len(line) <= 80 for line in text_lines(frame, 80))


def test_at_40_columns_nothing_wraps(tmp_path):
    rules = rules_from(tmp_path, RULES, instances=SPEC)
    frame = build_frame(evaluate(rules, small_cluster()), {}, [], 1.0)
    lines = text_lines(frame, 40)
    assert all(len(line) <= 40 for line in lines)
    assert len(lines) == 14                                   # one line per row: nothing wrapped


def rows(count: int, state: str = "RUNNING") -> tuple[InstanceRow, ...]:
    return tuple(InstanceRow(f"i{n:02d}", state, "", n, 1, 2) for n in range(count))


def app_rows(count: int) -> tuple[AppRow, ...]:
    return tuple(AppRow(f"a{n:02d}", "RUNNING", "Operational", False, False, True) for n in range(count))


def event_list(count: int) -> tuple[Change, ...]:
    return tuple(Change(T0 + n, "process", "i00", "STOPPED", "RUNNING", "a", f"p{n}") for n in range(count))


def test_fit_keeps_what_needs_attention_and_summarises_the_rest():
    instances = list(rows(30))
    instances[17] = InstanceRow("i17", "UNREACHABLE", "timeout", None, None, None)
    instances[25] = InstanceRow("i25", "RUNNING", "", 80, 3, 4, "acting")
    frame = Frame(T0, 1.0, app_rows(3), tuple(instances), (), event_list(10))
    cut = fit(frame, 24)
    # 24 lines: 7 fixed, 3 applications, instances with their summary line, the events (3 at least)
    assert [row.nick for row in cut.instances] == [f"i{n:02d}" for n in range(8)] + ["i17", "i25"]
    assert cut.more_instances == "+ 20 more instances: 20 RUNNING, load 8-29 %"
    assert len(cut.applications) == 3 and cut.more_applications == ""
    assert [change.process_name for change in cut.events] == ["p7", "p8", "p9"] and cut.more_events == 7
    lines = 7 + len(cut.applications) + len(cut.instances) + 1 + len(cut.events)   # + the summary line
    assert lines == 24


def test_fit_changes_nothing_when_everything_fits():
    frame = Frame(T0, 1.0, app_rows(3), rows(4), (("a:p", ("i00", "i01")),), event_list(2))
    assert fit(frame, 40) == frame


def test_fit_shares_a_short_terminal_between_applications_and_instances():
    frame = Frame(T0, 1.0, app_rows(20), rows(30), (), event_list(10))
    cut = fit(frame, 24)
    # 24 lines: 7 fixed, 6 applications and 6 instances each with its summary line, 3 events
    assert (len(cut.applications), len(cut.instances), len(cut.events)) == (6, 6, 3)
    assert cut.more_applications == "+ 14 more applications: 14 RUNNING"


@pytest.mark.parametrize("load, bar", [(None, " " * 10), (0, "\u2591" * 10), (44, "\u2588" * 4 + "\u2591" * 6),
                                       (45, "\u2588" * 5 + "\u2591" * 5), (100, "\u2588" * 10),
                                       (250, "\u2588" * 10)])
def test_load_bar(load, bar):
    assert load_bar(load) == bar


def test_thirty_instances_on_an_80x24_terminal():
    instances = [InstanceRow(f"server_{n:02d}", "RUNNING", "", (n * 7) % 100, 30, 40,
                             "acting" if n == 0 else ("standby" if n < 3 else "")) for n in range(30)]
    instances[12] = InstanceRow("server_12", "UNREACHABLE", "timeout (no answer within 1s)", None, None, None)
    apps = [AppRow(f"app_{n}", "RUNNING", "Operational", False, False, True) for n in range(8)]
    apps[3] = AppRow("app_3", "RUNNING", "Degraded", False, True, True)
    frame = Frame(T0, 1.0, tuple(apps), tuple(instances), (), event_list(20), instance_count=30, running_count=29,
                  application_count=8)
    lines = text_lines(fit(frame, 24), 80)
    assert len(lines) == 24 and all(len(line) <= 80 for line in lines)
    assert lines[0] == "supv top  08:00:00  30 instances, 29 running  8 applications"
    shown = [line.split()[0] for line in lines[lines.index("Instances") + 2:] if line.startswith("server_")]
    assert shown == ["server_00", "server_01", "server_02", "server_03", "server_04", "server_12"]
    assert "+ 24 more instances: 24 RUNNING, load 3-98 %" in lines
    assert any(line.startswith("app_3 ") and "Degraded" in line for line in lines)
    assert "+ 2 more applications: 2 RUNNING" in lines
    assert lines[-4] == "Last events (17 earlier not shown)"


@pytest.mark.parametrize(("loads", "summary"), [
    ((0, 0, 0), "+ 3 more instances: 3 RUNNING, load 0 %"),          # one load: not "0-0 %"
    ((5, 40, 12), "+ 3 more instances: 3 RUNNING, load 5-40 %"),
    ((None, None, None), "+ 3 more instances: 3 RUNNING"),
])
def test_the_summary_of_the_instances_left_out(loads, summary):
    instances = tuple(InstanceRow(f"i{n}", "RUNNING", "", load, 1, 2) for n, load in enumerate(loads))
    assert fit(Frame(T0, 1.0, (), instances, (), ()), 7).more_instances == summary


@pytest.mark.parametrize("width", [20, 40, 59, 60, 61, 79, 80, 100])
def test_the_header_never_reaches_the_last_column_nor_cuts_a_part(tmp_path, width):
    # issue 17 (minor): at 60 columns the live header wrapped over the title below it
    from supv_cli.cli.top_render import header

    rules = rules_from(tmp_path, RULES, instances=SPEC)
    frame = build_frame(evaluate(rules, small_cluster()), {}, [], 1.0)
    whole = "supv top  08:00:00  3 instances, 2 running  3 applications  every 1s  q: quit"
    text = header(frame, live=True, width=width).plain
    assert len(text) <= width - 1 and "\u2026" not in text
    assert whole.startswith(text) and (text == whole or whole[len(text):].startswith("  "))  # whole parts
    assert text_lines(frame, width)[0] == header(frame, live=False, width=width).plain
