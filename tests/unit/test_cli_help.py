"""Help is part of the product: every command has help with examples and a man page; entry points work."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from supv_cli import __version__
from supv_cli.cli import ALIASES, COMMANDS
from supv_cli.errors import ExitCode
from tests.support.cli import run_supv

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help_with_examples(command):
    result = run_supv(command, "--help")
    assert result.exit_code == 0
    assert "Examples:" in result.stdout
    assert COMMANDS[command][2].split()[0] in result.stdout          # the summary's first word


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_a_man_page(command):
    page = ROOT / "man" / f"supv-{command}.1"
    assert page.is_file(), f"missing {page}"
    text = page.read_text()
    assert text.startswith(".TH ") and ".SH EXAMPLES" in text and ".SH EXIT STATUS" in text


def test_root_help_lists_commands_aliases_and_exit_codes():
    result = run_supv("--help")
    assert result.exit_code == 0
    for name in list(COMMANDS) + list(ALIASES):
        assert name in result.stdout
    for code in ExitCode:
        assert f"  {code.value:<4}" in result.stdout


def test_alias_runs_the_same_command():
    alias, command = run_supv("application_info", "--help"), run_supv("application-info", "--help")
    assert alias.exit_code == command.exit_code == 0
    assert alias.stdout.splitlines()[2:] == command.stdout.splitlines()[2:]     # past the usage line


def test_unknown_command_is_a_usage_error():
    result = run_supv("nope")
    assert result.exit_code == 2
    assert "No such command" in result.stderr


@pytest.mark.parametrize("argv", [[sys.executable, "-m", "supv_cli", "--version"],
                                  [str(Path(sys.executable).parent / "supv"), "--version"]])
def test_entry_points(argv):
    """``python -m supv_cli`` and the installed ``supv`` console script are the same program."""
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"supv, version {__version__}"


def test_errors_never_show_a_traceback(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text("<root><nope/></root>")
    done = subprocess.run([sys.executable, "-m", "supv_cli", "rules", "show", "-r", str(bad), "x"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith(f"{bad}:1: ")


def test_run_plan_help_gives_the_quorum_trade_off():
    # issue 10 item 3: --quorum is documented with its price in --help, not only in the man page
    text = " ".join(run_supv("run-plan", "--help").stdout.split())
    quorum = text[text.index("--quorum N"):text.index("--no-autostart")]
    assert "majority" in quorum and "down" in quorum and "partition" in quorum, quorum
