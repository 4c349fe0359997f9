"""The operate commands at the command line, offline: the Supvisors names line, shell completion of
names from the rules files, and wait's --timeout / --call-timeout split."""

from __future__ import annotations

from pathlib import Path

import pytest

from supv_cli.cli import ALIASES, cli
from tests.support.cli import BASE_ENV, make_runner, run_supv

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "use_cases" / "scenario_3" / "etc" / "supvisors_rules.xml"


def complete(words: str, env: dict[str, str] | None = None) -> list[str]:
    """What bash completion offers for the last word of ``words``."""
    argv = words.split()
    result = make_runner().invoke(cli, [], prog_name="supv", catch_exceptions=False, env={
        **BASE_ENV, **(env or {}), "_SUPV_COMPLETE": "bash_complete", "COMP_WORDS": words,
        "COMP_CWORD": str(len(argv) - 1)})
    return [line.split(",", 1)[1] for line in result.stdout.splitlines() if "," in line]


def test_supvisors_names_on_one_help_line():
    lines = [line for line in run_supv("--help").stdout.splitlines() if "Supvisors names" in line]
    assert len(lines) == 1
    assert set(ALIASES) >= {"restart_application", "start_process", "stop_process", "restart_process"}


@pytest.mark.parametrize("alias, command", [("restart_application", "restart-plan"), ("start_process", "start"),
                                            ("stop_process", "stop"), ("restart_process", "restart")])
def test_aliases_run_the_same_command(alias, command):
    assert run_supv(alias, "--help").stdout.splitlines()[2:] == run_supv(command, "--help").stdout.splitlines()[2:]


@pytest.mark.parametrize("words, env, expected", [
    (f"supv start -r {RULES} scen3_srv:scen3_check_c", None, ["scen3_srv:scen3_check_common_data_bus"]),
    ("supv stop scen3_s", {"SUPV_RULES": str(RULES)}, ["scen3_srv:*", "scen3_srv:scen3_common_bus_interface",
                                                       "scen3_srv:scen3_check_common_data_bus",
                                                       "scen3_srv:scen3_check_internal_data_bus"]),
    ("supv restart-plan sc", {"SUPV_RULES": str(RULES)}, ["scen3_srv"]),
    # the commands of issue 9 that take applications or processes complete the same names
    (f"supv run-plan -r {RULES} sc", None, ["scen3_srv"]),
    ("supv stop-plan sc", {"SUPV_RULES": str(RULES)}, ["scen3_srv"]),
    ("supv application-info sc", {"SUPV_RULES": str(RULES)}, ["scen3_srv"]),
    ("supv sstatus scen3_srv:scen3_check_i", {"SUPV_RULES": str(RULES)}, ["scen3_srv:scen3_check_internal_data_bus"]),
    # issue 17: logs (and its alias tail), conflicts and rules show complete too; --strategy as written
    (f"supv logs -r {RULES} scen3_srv:scen3_check_i", None, ["scen3_srv:scen3_check_internal_data_bus"]),
    (f"supv tail -r {RULES} -n 3 scen3_srv:scen3_check_i", None, ["scen3_srv:scen3_check_internal_data_bus"]),
    ("supv conflicts scen3_srv:scen3_check_i", {"SUPV_RULES": str(RULES)}, ["scen3_srv:scen3_check_internal_data_bus"]),
    (f"supv rules show -r {RULES} scen3_srv", None, ["scen3_srv", "scen3_srv:*", "scen3_srv:scen3_common_bus_interface",
                                                    "scen3_srv:scen3_check_common_data_bus",
                                                    "scen3_srv:scen3_check_internal_data_bus"]),
    ("supv start --strategy less", None, ["LESS_LOADED", "LESS_LOADED_NODE"]),
    ("supv restart --strategy Mo", None, ["MOST_LOADED", "MOST_LOADED_NODE"]),
    ("supv wait sc", None, []),                                      # no rules: nothing, no error
    ("supv wait -r /nonexistent.xml sc", None, []),
])
def test_completion_of_names_from_the_rules(words, env, expected):
    assert complete(words, env) == expected


def test_wait_timeout_is_the_deadline_and_call_timeout_the_call():
    help_text = run_supv("wait", "--help").stdout
    assert "--call-timeout" in help_text and "Give up after this long" in help_text
    bad = run_supv("wait", "-i", "127.0.0.1:1", "--timeout", "-1")
    assert bad.exit_code == 2


def test_a_bad_strategy_is_answered_with_the_names_in_capitals():
    result = run_supv("start", "-i", "127.0.0.1:1", "a:p", "--strategy", "bogus")
    assert result.exit_code == 2
    # click's wording (and its quotes) vary with its version; the names must be the strategies' own
    listed = result.stderr.split("is not one of", 1)[1].replace("'", "").rstrip(".\n")
    assert [name.strip() for name in listed.split(",")] == \
        ["CONFIG", "LESS_LOADED", "MOST_LOADED", "LOCAL", "LESS_LOADED_NODE", "MOST_LOADED_NODE"], result.stderr
    # any case is accepted: the command goes on, to the instance (nothing listens on 127.0.0.1:1: exit 3)
    accepted = run_supv("start", "-i", "127.0.0.1:1", "-r", str(RULES), "a:p", "--strategy", "less_loaded",
                        "--dry-run")
    assert accepted.exit_code == 3, accepted.stderr
    assert "no instance answered" in accepted.stderr
