"""Nothing stops silently when its output goes away: the controller whose stdout closes says so on
stderr and keeps deciding (exit 1 when stderr goes too), ``supv top`` whose terminal goes away exits
0 without a traceback. Real ``python -m supv_cli`` processes against a real supervisord."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import SupervisordFactory
from tests.support.scenario3 import supv_env
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

EMPTY_RULES = '<?xml version="1.0" encoding="UTF-8"?>\n<root></root>\n'


def controller(tmp_path: Path, spec: str, stderr: int | None) -> subprocess.Popen[bytes]:
    rules = tmp_path / "rules.xml"
    rules.write_text(EMPTY_RULES)
    return subprocess.Popen([sys.executable, "-m", "supv_cli", "run-plan", "--watch", "-i", spec, "-r", str(rules),
                             "--quorum", "1", "--interval", "0.2"],
                            stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL, env=supv_env())


def cycles_in(text: str) -> int:
    """The cycle count of the controller's SIGTERM line (``stopped after N cycles``)."""
    line = next(line for line in text.splitlines() if "SIGTERM: stopped after" in line)
    return int(line.rsplit("after ", 1)[1].split()[0])


def test_controller_says_its_stdout_closed_and_keeps_deciding(supervisord: SupervisordFactory,
                                                              tmp_path: Path) -> None:
    s1 = supervisord(nick="s1", programs={"p": {"command": "sleep 1000", "autostart": False}})
    log = tmp_path / "stderr"
    with log.open("wb") as err:
        process = controller(tmp_path, s1.spec, err.fileno())
        try:
            assert process.stdout is not None
            assert b'"acting": true' in process.stdout.readline()  # its first state line
            process.stdout.close()                                # the reader goes away
            wait_for("the controller says its stdout closed", log.read_bytes, lambda text: b"stdout closed" in text,
                     deadline=15.0)
            time.sleep(1.5)  # ~7 more cycles at --interval 0.2
            assert process.poll() is None                          # still deciding
            process.send_signal(signal.SIGTERM)
            assert process.wait(15) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(10)
    text = log.read_text()
    (said,) = [line for line in text.splitlines() if "stdout closed" in line]
    assert said.split(None, 1)[1] == ("error      controller: stdout closed (its reader has gone): no more state "
                                      "lines (supv instances and supv controller status no longer see this "
                                      "controller's role); still deciding")
    assert cycles_in(text) >= 5
    assert "Traceback" not in text


def test_controller_exits_1_when_stdout_and_stderr_close(supervisord: SupervisordFactory, tmp_path: Path) -> None:
    s1 = supervisord(nick="s1", programs={"p": {"command": "sleep 1000", "autostart": False}})
    process = controller(tmp_path, s1.spec, subprocess.PIPE)
    try:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.readline()
        process.stdout.close()
        process.stderr.close()      # its supervisord died: nobody reads either pipe
        assert process.wait(15) == 1
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def test_top_exits_cleanly_when_its_terminal_goes_away(supervisord: SupervisordFactory) -> None:
    """The terminal's window closes without a SIGHUP reaching top (not its controlling terminal):
    reads and writes then fail with EIO, and restoring the terminal settings with termios.error."""
    s1 = supervisord(nick="s1", programs={"p": {"command": "sleep 1000", "startsecs": 0}})
    master, slave = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "supv_cli", "top", "-i", s1.spec, "--interval", "0.2"],
                               stdin=slave, stdout=slave, stderr=subprocess.PIPE,
                               env={**supv_env(), "COLUMNS": "80", "LINES": "24"})
    try:
        drawn, deadline = b"", time.monotonic() + 30
        while b"Last events" not in drawn and time.monotonic() < deadline:
            if select.select([master], [], [], 0.2)[0]:
                drawn += os.read(master, 65536)
        assert b"Last events" in drawn
        os.close(slave)
        os.close(master)            # the terminal goes away
        assert process.wait(20) == 0
        assert process.stderr is not None
        err = process.stderr.read().decode()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert "Traceback" not in err
    assert err.startswith("supv: top: the terminal went away (") and err.endswith("); quit\n")
