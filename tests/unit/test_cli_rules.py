"""``supv rules check`` / ``supv rules show`` through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import run_supv

from .rules_helpers import write_rules

SEED_RULES = Path(__file__).resolve().parents[2] / "use_cases" / "scenario_3" / "etc" / "supvisors_rules.xml"


@pytest.fixture
def seed_rules() -> str:
    assert SEED_RULES.exists(), "use_cases/scenario_3/etc/supvisors_rules.xml is part of the product"
    return str(SEED_RULES)


def test_check_valid_file(seed_rules):
    result = run_supv("rules", "check", seed_rules)
    assert result.exit_code == 0
    assert result.stdout == ""
    assert f"{seed_rules}: valid (2 applications, 2 models, 2 aliases)" in result.stderr


def test_check_invalid_files_exit_2_with_file_line_messages(tmp_path, seed_rules):
    bad = write_rules(tmp_path, '<application name="a">\n<start_sequence>x</start_sequence></application>')
    result = run_supv("rules", "check", seed_rules, str(bad))
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert f"{bad}:4: <start_sequence>: 'x' is not valid; expected an integer (0 to 127 for a sequence)" in lines
    assert "Traceback" not in result.stderr


def test_check_missing_file(tmp_path):
    result = run_supv("rules", "check", str(tmp_path / "nope.xml"))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{tmp_path / 'nope.xml'}: no such file")


def test_check_strict_turns_warnings_into_errors(tmp_path):
    path = write_rules(tmp_path, '<application name="a"><programs><program name="p"><required> true </required>'
                                 "<start_sequence>1</start_sequence></program></programs></application>")
    assert run_supv("rules", "check", str(path)).exit_code == 0
    result = run_supv("rules", "check", "--strict", "--json", str(path))
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    # exit 2 is "invalid" (cli.md): the report and stderr say so too, not "valid" with a warning
    assert report[0]["valid"] is False and report[0]["warnings"] == []
    assert "ignored" in report[0]["errors"][0]
    lines = result.stderr.splitlines()
    assert any(line.startswith(f"{path}:3: required ' true ' ignored") for line in lines), lines
    assert "warning" not in result.stderr and "valid (" not in result.stderr


# The resolved rules of the seed's rules file (spec §1.13; the seed sets RESTART_PROCESS on the model
# only, so the application and its check programs keep the default CONTINUE: see docs/rules.md).
SEED_EXPECTED = {
    "scen3_srv": {"application_name": "scen3_srv", "managed": True, "distribution": "ALL_INSTANCES",
                  "identifiers": ["*"], "start_sequence": 1, "stop_sequence": 1, "starting_strategy": "LESS_LOADED",
                  "starting_failure_strategy": "CONTINUE", "running_failure_strategy": "CONTINUE",
                  "status_formula": ""},
    "scen3_hci_02": {"application_name": "scen3_hci_02", "managed": True, "distribution": "SINGLE_INSTANCE",
                     "identifiers": ["console_2"], "start_sequence": 3, "stop_sequence": 3,
                     "starting_strategy": "CONFIG", "starting_failure_strategy": "CONTINUE",
                     "running_failure_strategy": "CONTINUE", "status_formula": ""},
    "common_data_bus": {"application_name": "common_data_bus", "managed": False},
}
SERVERS = ["server_1", "server_2", "server_3"]
PROCESS_EXPECTED = [
    # namespec, identifiers, start, required, wait_exit, loading, starting failure, running failure
    ("scen3_srv:scen3_check_internal_data_bus", SERVERS, 1, True, True, 0, "CONTINUE", "CONTINUE"),
    ("scen3_srv:scen3_check_common_data_bus", SERVERS, 2, True, True, 0, "CONTINUE", "CONTINUE"),
    ("scen3_srv:scen3_item_manager", SERVERS, 2, True, False, 2, "CONTINUE", "RESTART_PROCESS"),
    ("scen3_srv:scen3_track_manager", SERVERS, 2, True, False, 2, "CONTINUE", "RESTART_PROCESS"),
    ("scen3_srv:scen3_system_health", SERVERS, 2, True, False, 2, "CONTINUE", "RESTART_PROCESS"),
    ("scen3_srv:scen3_common_bus_interface", SERVERS, 3, True, False, 2, "CONTINUE", "RESTART_PROCESS"),
    ("scen3_hci_01:scen3_check_internal_data_bus", SERVERS, 1, True, True, 0, "CONTINUE", "CONTINUE"),
    ("scen3_hci_01:scen3_chart_view", ["*"], 2, False, False, 8, "CONTINUE", "CONTINUE"),
    ("scen3_hci_03:scen3_item_control", ["*"], 2, False, False, 8, "CONTINUE", "CONTINUE"),
    ("common_data_bus:common_data_bus", ["*"], 0, False, False, 0, "ABORT", "CONTINUE"),
    ("scen3_internal_data_bus", ["*"], 0, False, False, 0, "ABORT", "CONTINUE"),
]


def test_show_seed_applications_json(seed_rules):
    result = run_supv("rules", "show", "-r", seed_rules, "--json", *SEED_EXPECTED)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == list(SEED_EXPECTED.values())


@pytest.mark.parametrize("namespec, ids, start, required, wait_exit, loading, sfs, rfs", PROCESS_EXPECTED)
def test_show_seed_processes_json(seed_rules, namespec, ids, start, required, wait_exit, loading, sfs, rfs):
    result = run_supv("rules", "show", "-r", seed_rules, "--json", namespec + ("" if ":" in namespec else ":x"))
    payload = json.loads(result.stdout)[0]
    group, _, process = (namespec if ":" in namespec else namespec + ":x").partition(":")
    assert payload == {"application_name": group, "process_name": process, "identifiers": ids,
                       "start_sequence": start, "stop_sequence": start, "required": required,
                       "wait_exit": wait_exit, "expected_loading": loading, "starting_failure_strategy": sfs,
                       "running_failure_strategy": rfs}


def test_show_with_instances_maps_host_port_to_nick(seed_rules):
    instances = "<console_1>127.0.0.1:61004 <console_2>127.0.0.1:61005"
    result = run_supv("rules", "show", "-r", seed_rules, "-i", instances, "--json", "scen3_hci_03")
    # '#,consoles' filtered through the instance list: console_3 is unknown, so 3 rolls over to console_1
    assert json.loads(result.stdout)[0]["identifiers"] == ["console_1"]


def test_show_plain_layout_is_stable_for_awk(seed_rules):
    result = run_supv("rules", "show", "-r", seed_rules, "--format", "plain", "scen3_srv",
                      "scen3_srv:scen3_item_manager")
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["Application", "Managed", "Distribution", "Identifiers", "Start", "Stop",
                                "Strategy", "StartingFailure", "RunningFailure", "Formula"]
    assert lines[1].split() == ["scen3_srv", "True", "ALL_INSTANCES", "*", "1", "1", "LESS_LOADED", "CONTINUE",
                                "CONTINUE", "-"]
    assert lines[3].split()[:3] == ["Application", "Process", "Identifiers"]
    assert lines[4].split() == ["scen3_srv", "scen3_item_manager", "server_1,server_2,server_3", "2", "2", "True",
                                "False", "2", "CONTINUE", "RESTART_PROCESS", "pattern"]


def test_show_without_namespec_lists_declared_names(seed_rules):
    result = run_supv("rules", "show", "-r", seed_rules, "--json")
    names = [(r["application_name"], r.get("process_name")) for r in json.loads(result.stdout)]
    assert names == [("scen3_srv", None), ("scen3_srv", "scen3_common_bus_interface"),
                     ("scen3_srv", "scen3_check_common_data_bus"), ("scen3_srv", "scen3_check_internal_data_bus")]


def test_show_needs_rules(tmp_path):
    result = run_supv("rules", "show", "app")
    assert result.exit_code == 2
    assert "no rules file" in result.stderr


def test_show_invalid_rules_is_exit_2_file_line(tmp_path):
    bad = write_rules(tmp_path, "<bad/>")
    result = run_supv("rules", "show", "-r", str(bad), "x")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{bad}:3: unexpected element <bad> in <root>")
    assert result.stdout == ""


def test_show_hash_over_star_without_instances_is_a_clear_error(tmp_path):
    path = write_rules(tmp_path, '<application pattern="a_"><identifiers>#</identifiers></application>')
    result = run_supv("rules", "show", "-r", str(path), "a_1")
    assert result.exit_code == 2
    assert "needs the instance list; give -i" in result.stderr


def test_check_takes_the_output_options_of_every_command(tmp_path):
    """cli.md: ``--json`` or ``--format json`` (and SUPV_FORMAT) print the machine output."""
    path = write_rules(tmp_path, '<application name="a"/>')
    expected = run_supv("rules", "check", "--json", str(path)).stdout
    assert json.loads(expected)[0]["valid"] is True
    assert run_supv("rules", "check", "--format", "json", str(path)).stdout == expected
    assert run_supv("rules", "check", str(path), env={"SUPV_FORMAT": "json"}).stdout == expected
    assert run_supv("rules", "check", "--format", "plain", str(path)).stdout == ""


def test_rules_check_counts_in_the_singular_when_there_is_one(tmp_path) -> None:
    from tests.support.cli import run_supv

    path = tmp_path / "one.xml"
    path.write_text('<?xml version="1.0"?><root><application name="a"/></root>')
    result = run_supv("rules", "check", str(path))
    assert result.exit_code == 0, result.stderr
    assert f"{path}: valid (1 application, 0 models, 0 aliases)" in result.stderr
