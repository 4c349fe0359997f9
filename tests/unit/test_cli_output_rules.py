"""Output and names (issue 9, item 10): NO_COLOR is plain text, a run's live view is not left on the
terminal above its report, unknown names follow one rule, run-plan takes applications only."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest

from supv_cli.cli.output import make_console, print_rich_table
from supv_cli.cli.progress import Progress
from supv_cli.errors import ClusterError, ExitCode, UsageError, unknown_names
from supv_cli.plan.planner import build_start_plan, build_stop_plan

from .plan_helpers import info, instances, rules_of, snapshot, status_of

ESC = "\x1b"


def test_no_color_tables_carry_no_escape_at_all(monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")      # as on a terminal
    monkeypatch.setenv("NO_COLOR", "1")
    print_rich_table(["Application", "State"], [["[dim]app[/]", "[bold red]FATAL[/]"]])
    out = capsys.readouterr().out
    assert "app" in out and "FATAL" in out
    assert ESC not in out
    monkeypatch.delenv("NO_COLOR")
    print_rich_table(["Application", "State"], [["[dim]app[/]", "[bold red]FATAL[/]"]])
    assert ESC in capsys.readouterr().out       # the check above can fail: colours do show without it


def test_the_live_view_is_cleared_before_the_report() -> None:
    buffer = io.StringIO()
    console = make_console(file=buffer, force_terminal=True, width=100)
    run = SimpleNamespace(kind="start", report=lambda: [
        {"sequence": "1.1", "application_name": "app", "process_name": "p", "instance": "s1",
         "outcome": "RUNNING", "elapsed": 1.0, "detail": ""}])
    with Progress(run, live=True, console=console) as progress:
        progress.events([])
    written = buffer.getvalue()
    assert "RUNNING" in written                                # it was shown while waiting...
    last_table_line = written.rfind("└")
    assert written.rfind(f"{ESC}[2K") > last_table_line       # ...and erased at the end


CLUSTER = instances("1", "2")


@pytest.mark.parametrize(("build", "command"), [(build_start_plan, "start"), (build_stop_plan, "stop")])
def test_plans_take_applications_and_point_to_the_process_commands(tmp_path, build, command) -> None:
    rules = rules_of(tmp_path, '<application name="a"><start_sequence>1</start_sequence></application>', CLUSTER)
    snap = snapshot(CLUSTER, {"*": [info("a:p")]})
    with pytest.raises(UsageError) as caught:
        build(rules, snap, status_of(rules, snap), ["a:p"])
    plan = "run-plan" if command == "start" else "stop-plan"
    assert str(caught.value) == (f"a:p: {plan} takes applications; name applications here, or use "
                                 f"`supv {command} a:p` for processes")
    assert "unknown application" not in str(caught.value)


def test_restart_plan_points_to_restart(tmp_path) -> None:
    rules = rules_of(tmp_path, '<application name="a"><start_sequence>1</start_sequence></application>', CLUSTER)
    snap = snapshot(CLUSTER, {"*": [info("a:p")]})
    with pytest.raises(UsageError, match=r"a:p: restart-plan takes applications; name applications here, or use "
                                         r"`supv restart a:p` for processes"):
        build_stop_plan(rules, snap, status_of(rules, snap), ["a:p"], "restart-plan")


def test_unknown_names_are_usage_errors_unless_an_instance_did_not_answer() -> None:
    error = unknown_names("application", ["nope"], ["a", "b"])
    assert isinstance(error, UsageError) and error.exit_code == ExitCode.USAGE
    assert str(error) == "unknown application nope: no reachable instance has it; known: a, b"
    maybe = unknown_names("application", ["nope"], ["a"], unreachable=1)
    assert isinstance(maybe, ClusterError) and maybe.exit_code == ExitCode.UNREACHABLE
    assert str(maybe).endswith("1 instance(s) did not answer and may have it")


def test_wait_takes_applications_and_says_so_itself() -> None:
    """``supv wait APP:PROC`` is refused by wait (not in run-plan's name) before any instance is asked."""
    from tests.support.cli import run_supv

    result = run_supv("wait", "-i", "127.0.0.1:1", "a:p", "b")
    assert result.exit_code == ExitCode.USAGE, result.stderr
    assert result.stderr.strip() == "supv: error: a:p: wait takes applications; name applications here " \
                                    "(APP, not APP:PROC)"
