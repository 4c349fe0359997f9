"""``supv logs`` / ``supv events`` at their edges, against real supervisord: a reader that goes away
(``| head``), a process that never started.

The commands run as real ``python -m supv_cli`` processes; every wait has a generous deadline.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SupervisordFactory
from tests.support.cli import run_supv
from tests.support.scenario3 import supv_env
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

SLEEPER = {"command": "sleep 1000", "autostart": False, "autorestart": False, "startsecs": 0}
CHATTY = {"command": "sh -c 'seq 1 400; exec sleep 1000'", "autostart": True, "startsecs": 0}


def supv_into_closed_pipe(*args: str, read_lines: int = 0) -> tuple[int, str, list[str]]:
    """Run supv with stdout into a pipe whose reader goes after ``read_lines`` lines (as ``| head``);
    its exit status, its stderr and the lines read."""
    process = subprocess.Popen([sys.executable, "-m", "supv_cli", *args], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=supv_env())
    assert process.stdout is not None and process.stderr is not None
    lines = [process.stdout.readline() for _ in range(read_lines)]
    process.stdout.close()
    try:
        code = process.wait(30)      # a watch that printed nothing must notice the reader gone by itself
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
        raise AssertionError(f"supv {' '.join(args)} still runs with nobody reading its output") from None
    return code, process.stderr.read(), lines


def test_a_reader_going_away_ends_the_command_with_status_0(supervisord: SupervisordFactory) -> None:
    server = supervisord(nick="s1", programs={"idle": SLEEPER, "chatty": CHATTY})
    server.wait_process("chatty:chatty", ["RUNNING"])

    code, err, _ = supv_into_closed_pipe("events", "-i", server.spec, "--interval", "0.2")
    assert (code, "Traceback" not in err) == (0, True), err                     # a quiet cluster: no line ever

    code, err, lines = supv_into_closed_pipe("logs", "-i", server.spec, "-n", "300", "chatty", read_lines=1)
    assert lines == ["s1 chatty:chatty | 101\n"]
    assert (code, err) == (0, ""), err                                          # click alone says 1

    code, err, _ = supv_into_closed_pipe("logs", "-i", server.spec, "-f", "-n", "0", "--interval", "0.2", "idle")
    assert code == 0, err


def test_a_process_that_never_started_is_said_so(supervisord: SupervisordFactory) -> None:
    server = supervisord(nick="s1", programs={"idle": SLEEPER})
    result = run_supv("logs", "-i", server.spec, "idle:idle")
    assert result.exit_code == 0 and result.stdout == "", result.stderr
    assert "supv: logs: idle:idle on s1: never started since its supervisord started" in result.stderr


def test_top_live_rewrites_only_its_header_while_nothing_changes(supervisord: SupervisordFactory) -> None:
    """A quiet cluster: the header's clock moves every poll but the frame is not drawn again (a full
    redraw costs rich more than a poll); a change draws it in full."""
    import re

    from tests.support.terminal import OnTerminal

    server = supervisord(nick="s1", programs={"idle": SLEEPER})
    with OnTerminal("top", "-i", server.spec, "--interval", "0.2") as top:
        assert b"Last events" in top.read(30, until=b"Last events"), top.drawn
        top.drawn = b""
        drawn = top.read(2.5)                                    # quiet: ~12 polls
        clocks = set(re.findall(rb"\x1b7\x1b\[H.*?supv top.*?(\d\d:\d\d:\d\d)", drawn))
        assert len(clocks) >= 2, drawn                           # the clock moved on...
        assert b"Instances" not in drawn, drawn                  # ...without a full redraw
        server.proxy().supervisor.startProcess("idle:idle", False)
        drawn = top.read(20, until=b"idle:idle")
        assert b"Instances" in drawn and b"idle:idle" in drawn   # a change: the whole frame
        top.press(b"q")
        assert top.process.wait(20) == 0


def test_names_that_name_nothing_come_after_the_logs_of_the_others(supervisord: SupervisordFactory) -> None:
    server = supervisord(nick="s1", programs={"chatty": CHATTY})
    server.wait_process("chatty:chatty", ["RUNNING"])
    # RUNNING (startsecs 0) comes before supervisord has logged the 400 lines
    wait_for("chatty logged its 400 lines", lambda: server.proxy().supervisor.tailProcessStdoutLog(
        "chatty:chatty", 0, 100)[0], lambda tail: tail.endswith("400\n"), deadline=20.0, every=0.05)
    result = run_supv("logs", "-i", server.spec, "-n", "1", "nope:x", "chatty", "zz")
    assert (result.exit_code, result.stdout) == (2, "s1 chatty:chatty | 400\n"), result.stderr
    assert result.stderr.splitlines() == [f"supv: error: no instance knows {name}: check the name with supv "
                                          "sstatus (APP:PROC or APP:*)" for name in ("nope:x", "zz")]
    result = run_supv("logs", "-i", server.spec, "-f", "chatty", "zz")   # a stream: refused before it starts
    assert (result.exit_code, result.stdout) == (2, ""), result.stderr


@pytest.mark.parametrize("command", [("top", "--once"), ("events", "--count", "1", "--interval", "0.2")])
def test_the_watch_timeout_of_a_command_is_no_override_of_the_inventory(
        supervisord: SupervisordFactory, tmp_path: Path, command: tuple[str, ...]) -> None:
    # events/top poll with the controller's 1 s call timeout by default: a default of theirs, which an
    # inventory's own timeout must not be warned about as a command-line override
    flapping = {"command": "sleep 0.3", "autostart": True, "autorestart": True, "startsecs": 0}
    server = supervisord(nick="s1", programs={"flapping": flapping})  # always something for events to say
    inventory = tmp_path / "supv.conf"
    inventory.write_text(f"[supv]\ntimeout = 5\n\n[instance:s1]\nserverurl = {server.url}\n")
    result = run_supv(*command, "-c", str(inventory))
    assert result.exit_code == 0, result.stderr
    assert "overrides" not in result.stderr
