"""The command line's one error boundary and its options (issue 9): ``--debug`` anywhere and without
changing exit codes (item 6), and where each cluster option came from (item 3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import run_supv

RULES = ('<?xml version="1.0"?>\n<root>\n<application name="app"><start_sequence>1</start_sequence></application>\n'
         "</root>\n")


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rules.xml").write_text(RULES)
    (tmp_path / "bad.xml").write_text("<root><oops/></root>")
    (tmp_path / "inv.conf").write_text("[supv]\nrules_files = rules.xml\n[instance:from_file]\n"
                                       "serverurl = http://127.0.2.1:61001\n")
    return tmp_path


# (arguments, exit status): errors raised inside commands, through the one boundary
FAILURES = [
    (["instances", "-i", "<a>127.0.2.1:1 <b>127.0.2.1:1"], 2),         # configuration error
    (["run-plan", "-i", "127.0.2.1:1", "-r", "nothing*.xml"], 2),       # no rules file
    (["rules", "show", "-r", "bad.xml", "app"], 2),                     # rules error, in a subcommand
    (["sstatus", "-c", "missing.conf"], 2),
]


@pytest.mark.parametrize(("args", "code"), FAILURES)
def test_debug_keeps_the_exit_code_and_adds_a_traceback(work: Path, args: list[str], code: int) -> None:
    plain = run_supv(*args)
    assert plain.exit_code == code, plain.stderr
    assert "Traceback" not in plain.stderr
    last_line = plain.stderr.strip().splitlines()[-1]
    for debug_args in (["--debug", *args], [*args, "--debug"]):
        debug = run_supv(*debug_args)
        assert debug.exit_code == code, debug.stderr
        assert "Traceback (most recent call last)" in debug.stderr
        assert debug.stderr.strip().splitlines()[-1] == last_line      # the same one-line error, last
    env_debug = run_supv(*args, env={"SUPV_DEBUG": "1"})
    assert env_debug.exit_code == code and "Traceback" in env_debug.stderr


@pytest.mark.parametrize("args", [["instances", "--debug", "--help"], ["rules", "check", "--debug", "--help"],
                                  ["rules", "--debug", "--help"]])
def test_debug_is_accepted_after_the_command(args: list[str]) -> None:
    result = run_supv(*args)
    assert result.exit_code == 0, result.stderr
    assert "--debug" in result.stdout


# ------------------------------------------------------------------ item 3: which source wins

def show(*args: str, env: dict[str, str | None] | None = None):
    """``rules show`` works offline and names the instances it was given: '#' over '*' needs them."""
    return run_supv("rules", "show", "--json", *args, "app", env=env)


def test_a_config_file_on_the_command_line_beats_exported_instances(work: Path) -> None:
    result = show("-c", "inv.conf", env={"SUPV_INSTANCES": "<exported>127.0.2.9:61009"})
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines() == [f"supv: warning: instances: -c {work / 'inv.conf'} (command line) "
                                          "overrides SUPV_INSTANCES (environment)"]


def test_exported_instances_beat_an_exported_config_file(work: Path) -> None:
    result = show(env={"SUPV_CONFIG": "inv.conf", "SUPV_INSTANCES": "<exported>127.0.2.9:61009"})
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines() == [f"supv: warning: instances: SUPV_INSTANCES (environment) overrides "
                                          f"SUPV_CONFIG={work / 'inv.conf'} (environment)"]


def test_an_option_over_its_own_exported_variable_is_named(work: Path) -> None:
    result = show("-r", "rules.xml", env={"SUPV_RULES": "other.xml"})
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines() == ["supv: warning: rules: -r (command line) overrides SUPV_RULES "
                                          "(environment)"]


def test_no_warning_when_nothing_is_overridden(work: Path) -> None:
    result = show("-c", "inv.conf", env={"SUPV_RULES": ""})
    assert result.exit_code == 0 and result.stderr == ""
