"""Rendering of application-info, sstatus and instances from hand-built snapshots (no network)."""

from __future__ import annotations

import json

import pytest

from supv_cli.cli import application_info, instances, sstatus
from supv_cli.cli.output import render
from supv_cli.model.instances import parse_instance
from supv_cli.model.snapshot import InstanceSnapshot, ProcessInfo, ProcessState, Snapshot, Unreachable
from supv_cli.status import evaluate
from tests.support.cli import run_supv

from .rules_helpers import rules_from

S = ProcessState
SRV = parse_instance("<supv01>127.0.0.1:61000")
CON = parse_instance("<console_1>127.0.0.2:61000")
DOWN = parse_instance("<server_2>127.0.0.3:61000")


def info(group: str, name: str, state: ProcessState, **extra) -> ProcessInfo:
    return ProcessInfo(group=group, name=name, state=state, **extra)


def scenario_snapshot(unreachable: bool = False) -> Snapshot:
    srv = InstanceSnapshot(SRV, "RUNNING", processes=(
        info("common_data_bus", "common_data_bus", S.RUNNING),
        info("scen3_internal_data_bus", "scen3_internal_data_bus", S.RUNNING),
        info("scen3_srv", "scen3_item_manager", S.RUNNING),
        info("scen3_srv", "scen3_check_common_data_bus", S.EXITED, stop=10.0),
        info("scen3_srv", "scen3_track_manager", S.FATAL, stop=11.0, spawnerr="Exited too quickly"),
    ))
    con = InstanceSnapshot(CON, "RUNNING", processes=(
        info("common_data_bus", "common_data_bus", S.RUNNING),
        info("scen3_internal_data_bus", "scen3_internal_data_bus", S.RUNNING),
        info("scen3_hci_01", "scen3_chart_view", S.STARTING),
        info("scen3_hci_01", "scen3_item_control", S.STOPPED),
    ))
    snaps = [srv, con]
    if unreachable:
        snaps.append(InstanceSnapshot(DOWN, "UNREACHABLE", "connection refused", error_kind=Unreachable.REFUSED))
    return Snapshot(tuple(snaps))


RULES = """
<application name="scen3_srv"><start_sequence>1</start_sequence>
  <programs><program pattern=""><start_sequence>1</start_sequence></program>
  <program name="scen3_item_manager"><start_sequence>1</start_sequence><required>true</required>
  <expected_loading>10</expected_loading></program></programs></application>
<application name="scen3_hci_01"><start_sequence>2</start_sequence>
  <programs><program pattern=""><start_sequence>1</start_sequence><required>true</required></program></programs>
</application>
"""


@pytest.fixture
def status(tmp_path):
    rules = rules_from(tmp_path, RULES, instances="<supv01>127.0.0.1:61000 <console_1>127.0.0.2:61000")
    return evaluate(rules, scenario_snapshot())


# --------------------------------------------------------------------------------------------- application-info

def test_application_info_plain_is_supvisorsctl_layout(status):
    # spec §5.2 [verified] rows, trailing spaces included
    apps = list(status.applications.values())
    assert application_info.plain_lines(apps, apps) == [
        "Application              State     Major  Minor  ",
        "common_data_bus          RUNNING   False  False  ",
        "scen3_internal_data_bus  RUNNING   False  False  ",
        "scen3_srv                RUNNING   False  True   ",
        "scen3_hci_01             STARTING  True   False  ",
    ]


def test_application_info_width_comes_from_every_application(status):
    selected, unknown = application_info.select_applications(status, ["scen3_srv", "nope"])
    assert [a.application_name for a in selected] == ["scen3_srv"] and unknown == ["nope"]
    lines = application_info.plain_lines(list(status.applications.values()), selected)
    assert lines == ["Application              State     Major  Minor  ",
                     "scen3_srv                RUNNING   False  True   "]


def test_application_info_empty_list_layout():
    assert application_info.plain_lines([], []) == ["Application  State     Major  Minor  "]


def test_application_info_selection_follows_discovery_order(status):
    selected, _ = application_info.select_applications(status, ["scen3_hci_01", "common_data_bus"])
    assert [a.application_name for a in selected] == ["common_data_bus", "scen3_hci_01"]
    everything, _ = application_info.select_applications(status, ["scen3_srv", "all"])
    assert len(everything) == 4


def test_application_info_json(status, capsys):
    render(application_info.view(status, list(status.applications.values())), "json")
    data = json.loads(capsys.readouterr().out)
    assert data[2] == {"application_name": "scen3_srv", "managed": True, "statecode": 2, "statename": "RUNNING",
                       "major_failure": False, "minor_failure": True, "operational_status": "Degraded"}
    assert [list(item) for item in data] == [["application_name", "managed", "statecode", "statename",
                                              "major_failure", "minor_failure", "operational_status"]] * 4


def test_application_info_table_has_led_column(status, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("NO_COLOR", "1")
    render(application_info.view(status, list(status.applications.values())), "table")
    out = capsys.readouterr().out
    assert "Operational" in out.splitlines()[1]
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if line.startswith("│")}
    assert "● Degraded" in rows["scen3_srv"]
    assert "● Operational" in rows["common_data_bus"]
    assert "●" not in rows["scen3_hci_01"]  # not RUNNING: no LED


def test_check_problems(status):
    apps = list(status.applications.values())
    assert application_info.check_problems(apps) == ["scen3_hci_01: STARTING with a major failure"]


# --------------------------------------------------------------------------------------------- sstatus

def test_sstatus_plain_is_supvisorsctl_layout(status):
    processes, errors = sstatus.select_processes(status, [])
    assert errors == []
    assert sstatus.plain_lines(processes) == [
        "Application              Process                      State       Expected  Supervisor",
        "common_data_bus          common_data_bus              RUNNING     n/a       ['supv01', 'console_1']",
        "scen3_internal_data_bus  scen3_internal_data_bus      RUNNING     n/a       ['supv01', 'console_1']",
        "scen3_srv                scen3_item_manager           RUNNING     n/a       ['supv01']",
        "scen3_srv                scen3_check_common_data_bus  EXITED      True      []",
        "scen3_srv                scen3_track_manager          FATAL       n/a       []",
        "scen3_hci_01             scen3_chart_view             STARTING    n/a       ['console_1']",
        "scen3_hci_01             scen3_item_control           STOPPED     n/a       []",
    ]


@pytest.mark.parametrize("args, names, errors", [
    (["scen3_srv:*"], ["scen3_item_manager", "scen3_check_common_data_bus", "scen3_track_manager"], []),
    (["scen3_hci_01:"], ["scen3_chart_view", "scen3_item_control"], []),
    (["scen3_hci_01:scen3_chart_view"], ["scen3_chart_view"], []),
    (["common_data_bus"], ["common_data_bus"], []),  # name:name, as Supervisor
    # a bare NAME is NAME:NAME (cli.md "Names"): a process of another application is hinted, not taken
    (["scen3_item_control"], [], ["scen3_item_control: ERROR (BAD_NAME: process scen3_item_control unknown; "
                                  "did you mean scen3_hci_01:scen3_item_control?)"]),
    (["scen3_srv"], [], ["scen3_srv: ERROR (BAD_NAME: process scen3_srv unknown; did you mean scen3_srv:*?)"]),
    # the same process named twice is shown once (the same words select the same processes everywhere)
    (["scen3_srv:scen3_item_manager", "scen3_srv:scen3_item_manager"], ["scen3_item_manager"], []),
    (["scen3_*:scen3_it*"], ["scen3_item_manager", "scen3_item_control"], []),  # shell globs in both parts
    (["all", "ghost"], None, ["ghost: ERROR (BAD_NAME: process ghost unknown)"]),  # names after all: checked
    (["ghost:*", "scen3_srv:ghost", "ghost", "scen3_srv:scen3_item_manager"], ["scen3_item_manager"],
     ["ghost:*: ERROR (BAD_NAME: application ghost unknown)",
      "scen3_srv:ghost: ERROR (BAD_NAME: process=ghost unknown in application=scen3_srv)",
      "ghost: ERROR (BAD_NAME: process ghost unknown)"]),
])
def test_sstatus_selection(status, args, names, errors):
    processes, got_errors = sstatus.select_processes(status, args)
    if names is None:
        assert len(processes) == len(status.processes)
    else:
        assert [p.process_name for p in processes] == names
    assert [line for _, line in got_errors] == errors


def test_sstatus_widths_come_from_the_shown_processes(status):
    processes, _ = sstatus.select_processes(status, ["scen3_hci_01:scen3_chart_view"])
    assert sstatus.plain_lines(processes) == [
        "Application   Process           State       Expected  Supervisor",
        "scen3_hci_01  scen3_chart_view  STARTING    n/a       ['console_1']",
    ]
    assert sstatus.plain_lines([]) == []


def test_sstatus_json(status, capsys):
    processes, _ = sstatus.select_processes(status, ["scen3_srv:*"])
    render(sstatus.view(processes), "json")
    data = json.loads(capsys.readouterr().out)
    assert data[2] == {"application_name": "scen3_srv", "process_name": "scen3_track_manager", "statecode": 200,
                       "statename": "FATAL", "expected_exit": False, "identifiers": [],
                       "reason": "Exited too quickly", "conflict": False, "instances": {"supv01": "FATAL"}}


# --------------------------------------------------------------------------------------------- instances

def test_instances_rows(tmp_path):
    rules = rules_from(tmp_path, RULES, instances="<supv01>127.0.0.1:61000 <console_1>127.0.0.2:61000")
    status = evaluate(rules, scenario_snapshot(unreachable=True))
    rows = [instances.summarize(status, snap) for snap in status.snapshot.instances]
    assert rows[0]["nick"] == "supv01" and rows[0]["load"] == 10 and rows[0]["node_load"] == 10
    assert (rows[0]["running"], rows[0]["stopped"], rows[0]["failed"], rows[0]["total"]) == (3, 1, 1, 5)
    assert rows[0]["processes"]["RUNNING"] == 3 and rows[0]["processes"]["EXITED"] == 1
    assert (rows[1]["running"], rows[1]["stopped"], rows[1]["failed"], rows[1]["load"]) == (3, 1, 0, 0)
    assert rows[2] == {"nick": "server_2", "url": "http://127.0.0.3:61000", "identifier": "127.0.0.3:61000",
                       "node": "127.0.0.3", "stereotypes": [], "state": "UNREACHABLE", "reason": "connection refused",
                       "error_kind": "REFUSED", "elapsed": 0.0, "load": None, "node_load": None, "running": None,
                       "stopped": None, "failed": None, "total": None, "processes": None, "controller": None}
    rows[0]["controller"] = {"acting": True, "leader": "supv01", "lost": ["server_2"]}
    assert instances.plain_lines(rows) == [
        "Nick       URL                     State        Load  Running  Stopped  Failed  Total  Stereotypes  "
        "Controller  Reason",
        "supv01     http://127.0.0.1:61000  RUNNING      10%   3        1        1       5      -            acting",
        "console_1  http://127.0.0.2:61000  RUNNING      0%    3        1        0       4      -            -",
        "server_2   http://127.0.0.3:61000  UNREACHABLE  -     -        -        -       -      -            -"
        "           connection refused",
    ]


# --------------------------------------------------------------------------------------------- the commands

@pytest.mark.parametrize("command", ["application-info", "application_info", "sstatus", "instances"])
def test_help_has_examples(command):
    result = run_supv(command, "--help")
    assert result.exit_code == 0
    assert "Examples:" in result.stdout and "Exit status:" in result.stdout


def test_commands_listed_in_root_help():
    result = run_supv("--help")
    for name in ("application-info", "sstatus", "instances", "application_info"):
        assert name in result.stdout


@pytest.mark.parametrize("command", ["application-info", "sstatus", "instances"])
def test_no_instances_is_a_usage_error(command):
    result = run_supv(command)
    assert result.exit_code == 2
    assert result.stderr.startswith("supv: error: no instances")
    assert result.stdout == ""
