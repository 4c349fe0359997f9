"""``supv logs``, ``supv events`` and ``supv top`` against real supervisord.

The streaming commands run as real ``python -m supv_cli`` processes (they never end on their own);
their lines are read as they come, each wait with a generous deadline (the machine is shared).
"""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Callable, Iterator

import pytest

from tests.conftest import SupervisordFactory
from tests.support.cli import run_supv
from tests.support.scenario3 import supv_env
from tests.support.supervisord import Supervisord
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

#: prints a numbered line every 0.1 s, and one on stderr
TALKER = {"command": "sh -c 'i=0; while :; do echo \"$SUPV_TAG line $i\"; echo \"err $i\" >&2; i=$((i+1)); "
                     "sleep 0.1; done'",
          "autostart": False, "autorestart": False, "startsecs": 0}
QUIET = {"command": "sleep 1000", "stdout_logfile": "NONE", "autostart": True, "startsecs": 0}
#: a coloured log: raw ESC bytes, which XML 1.0 forbids, in supervisord's XML-RPC answers
COLOURS = {"command": "sh -c 'printf \"\\033[31mred\\033[0m plain\\n\"; exec sleep 1000'", "autostart": True,
           "startsecs": 0}


class Stream:
    """``supv ARGS...`` running as a child process; its stdout and stderr lines gathered as they come."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "supv_cli", *args], stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                        env=supv_env())
        self.lines: queue.Queue[tuple[str, str]] = queue.Queue()
        self.seen: list[tuple[str, str]] = []
        for name, pipe in (("out", self.process.stdout), ("err", self.process.stderr)):
            threading.Thread(target=self._read, args=(name, pipe), daemon=True).start()

    def _read(self, name: str, pipe: IO[str] | None) -> None:
        assert pipe is not None
        for line in pipe:
            self.lines.put((name, line.rstrip("\n")))

    def wait_for(self, done: Callable[[list[tuple[str, str]]], bool], timeout: float = 20.0) -> list[tuple[str, str]]:
        """Gather lines until ``done(all lines so far)``; fail with them at the deadline."""
        deadline = time.monotonic() + timeout
        while not done(self.seen):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"not seen within {timeout}s; got: {self.seen}")
            try:
                self.seen.append(self.lines.get(timeout=min(remaining, 0.5)))
            except queue.Empty:
                if self.process.poll() is not None and self.lines.empty():
                    raise AssertionError(f"supv exited with {self.process.returncode}: {self.seen}") from None
        return self.seen

    def out(self) -> list[str]:
        return [line for name, line in self.seen if name == "out"]

    def err(self) -> list[str]:
        return [line for name, line in self.seen if name == "err"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


@pytest.fixture
def streams() -> Iterator[Callable[..., Stream]]:
    started: list[Stream] = []

    def make(*args: str) -> Stream:
        stream = Stream(*args)
        started.append(stream)
        return stream

    yield make
    for stream in started:
        stream.stop()


def two_servers(supervisord: SupervisordFactory) -> tuple[Supervisord, Supervisord]:
    servers = []
    for nick in ("s1", "s2"):
        talker = {**TALKER, "environment": f"SUPV_TAG={nick}"}
        servers.append(supervisord(nick=nick, programs={"talker": talker, "quiet": QUIET, "colours": COLOURS},
                                   groups={"app": ["talker", "quiet"]}))
    return servers[0], servers[1]


def test_logs_and_follow_across_a_move(supervisord: SupervisordFactory, streams: Callable[..., Stream]) -> None:
    s1, s2 = two_servers(supervisord)
    spec = f"{s1.spec} {s2.spec}"
    s2.proxy().supervisor.startProcess("app:talker")        # an old run on s2: never shown below
    time.sleep(0.5)
    s2.proxy().supervisor.stopProcess("app:talker")
    s1.proxy().supervisor.startProcess("app:talker")
    wait_for("the talker talks", lambda: s1.proxy().supervisor.readProcessStdoutLog("app:talker", 0, 0).count("\n"),
             lambda lines: lines >= 4, deadline=20.0)

    result = run_supv("logs", "-i", spec, "-n", "3", "app:talker")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3 and all(line.startswith("s1 app:talker | s1 line ") for line in lines), lines
    numbers = [int(line.rsplit(" ", 1)[1]) for line in lines]
    assert numbers == sorted(numbers) and numbers[2] - numbers[0] == 2
    result = run_supv("tail", "-i", spec, "-n", "1", "--stderr", "--json", "app:talker")
    data = json.loads(result.stdout)
    assert (data["instance"], data["stream"], data["line"].split()[0]) == ("s1", "stderr", "err")

    result = run_supv("logs", "-i", spec, "app:*")             # quiet logs to no file: said, exit 1
    assert result.exit_code == 1
    assert "app:quiet on s1: no stdout log file (stdout_logfile=NONE)" in result.stderr
    assert "s1 app:talker | " in result.stdout
    assert run_supv("logs", "-i", spec, "app:nope").exit_code == 2
    result = run_supv("logs", "-i", s1.spec, "colours")
    assert (result.exit_code, result.stdout) == (0, "s1 colours:colours | \x1b[31mred\x1b[0m plain\n"), result.stderr

    follow = streams("logs", "-i", spec, "-f", "-n", "0", "--interval", "0.2", "app:talker")
    follow.wait_for(lambda seen: sum(1 for name, line in seen if name == "out") >= 3)
    s1.proxy().supervisor.stopProcess("app:talker")
    s2.proxy().supervisor.startProcess("app:talker")
    follow.wait_for(lambda seen: sum(1 for name, line in seen if "s2 app:talker" in line) >= 5)
    out = follow.out()
    first_s2 = next(index for index, line in enumerate(out) if line.startswith("s2 "))
    assert all(line.startswith("s1 app:talker | s1 line ") for line in out[:first_s2])
    s2_numbers = [int(line.rsplit(" ", 1)[1]) for line in out[first_s2:]]
    assert s2_numbers[:5] == [0, 1, 2, 3, 4], out          # the new run from its first line, the old one not
    assert any("app:talker on s2: runs here now (was on s1)" in line for line in follow.err())


RULES = """<?xml version="1.0" encoding="UTF-8"?>
<root>
  <application name="app">
    <start_sequence>1</start_sequence>
    <programs>
      <program name="first"><start_sequence>1</start_sequence><identifiers>s1</identifiers></program>
      <program name="second"><start_sequence>2</start_sequence><identifiers>s1</identifiers></program>
    </programs>
  </application>
</root>
"""


def test_events_during_a_run_plan_and_a_killed_instance(tmp_path: Path, supervisord: SupervisordFactory,
                                                        streams: Callable[..., Stream]) -> None:
    program = {"command": "sleep 1000", "autostart": False, "autorestart": False, "startsecs": 1}
    s1 = supervisord(nick="s1", programs={"first": program, "second": program},
                     groups={"app": ["first", "second"]})
    s2 = supervisord(nick="s2", programs={"other": program})
    rules = tmp_path / "rules.xml"
    rules.write_text(RULES)
    spec = f"{s1.spec} {s2.spec}"
    events = streams("events", "-i", spec, "-r", str(rules), "--json", "--interval", "0.2")
    events.wait_for(lambda seen: any("watching 2 instance(s)" in line for name, line in seen))  # after the baseline
    result = run_supv("run-plan", "-i", spec, "-r", str(rules))
    assert result.exit_code == 0, result.stderr

    def running(name: str) -> Callable[[list[tuple[str, str]]], bool]:
        return lambda seen: any(f'"process_name": "{name}"' in line and '"to": "RUNNING"' in line for _, line in seen)

    events.wait_for(running("second"))
    changes = [json.loads(line) for line in events.out()]
    for name in ("first", "second"):
        mine = [(c["from"], c["to"]) for c in changes if c["kind"] == "process" and c["process_name"] == name]
        assert mine == [("STOPPED", "STARTING"), ("STARTING", "RUNNING")], changes
        pids = {c["pid"] for c in changes if c["process_name"] == name}
        assert pids == {s1.proxy().supervisor.getProcessInfo(f"app:{name}")["pid"]}
        assert all(c["instance"] == "s1" and c["application_name"] == "app" for c in changes
                   if c["process_name"] == name)
    order = [(c["process_name"], c["to"]) for c in changes]
    assert order.index(("first", "RUNNING")) < order.index(("second", "STARTING"))   # stage by stage

    s2.kill9()
    events.wait_for(lambda seen: any('"kind": "instance"' in line for _, line in seen))
    lost = [json.loads(line) for line in events.out() if '"kind": "instance"' in line][0]
    assert (lost["instance"], lost["from"], lost["to"], lost["process_name"]) == ("s2", "RUNNING", "UNREACHABLE", None)
    assert lost["reason"]


def test_events_count_and_plain_lines(supervisord: SupervisordFactory, streams: Callable[..., Stream]) -> None:
    program = {"command": "sleep 1000", "autostart": False, "autorestart": False, "startsecs": 0}
    s1 = supervisord(nick="s1", programs={"p": program})
    events = streams("events", "-i", s1.spec, "--count", "1", "--interval", "0.2")
    events.wait_for(lambda seen: any("watching" in line for _, line in seen))     # the baseline is taken
    s1.proxy().supervisor.startProcess("p:p", False)
    events.wait_for(lambda seen: len([1 for name, _ in seen if name == "out"]) >= 1)
    assert events.process.wait(20) == 0                         # --count 1: done after one event
    line, = events.out()
    assert line.split(" ", 1)[1].startswith("s1 p:p STOPPED -> ")


def test_top_once(tmp_path: Path, supervisord: SupervisordFactory) -> None:
    program = {"command": "sleep 1000", "autostart": True, "startsecs": 0}
    s1 = supervisord(nick="s1", programs={"first": program, "second": {**program, "autostart": False}},
                     groups={"app": ["first", "second"]})
    rules = tmp_path / "rules.xml"               # second required and stopped: a major failure
    rules.write_text(RULES.replace("<start_sequence>2</start_sequence>",
                                   "<start_sequence>2</start_sequence><required>true</required>"))
    s1.wait_process("app:first", ["RUNNING"])
    result = run_supv("top", "-i", f"{s1.spec} <gone>127.0.0.1:1", "-r", str(rules), "--once",
                      env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("supv top  ") and lines[0].endswith("2 instances, 1 running  1 application")
    app_line = next(line for line in lines if line.startswith("app "))
    assert app_line.split() == ["app", "RUNNING", "\u25cf", "Not", "Operational", "True", "False"], app_line
    s1_line = next(line for line in lines if line.startswith("s1 "))
    assert s1_line.split()[1] == "RUNNING" and s1_line.split()[-2:] == ["1/2", "-"]
    gone = next(line for line in lines if line.startswith("gone "))
    assert "UNREACHABLE" in gone and "connection refused" in gone
    assert "Conflicts: none" in lines and "Last events: none yet" in lines
    assert all(len(line) <= 80 for line in lines) and len(lines) == 10


def test_top_live_quits_on_q_and_restores_the_terminal(supervisord: SupervisordFactory) -> None:
    """On a (pseudo) terminal: the full-screen frame is drawn, q quits with 0, the screen and the
    terminal settings (echo, canonical mode) are as they were."""
    import termios

    from tests.support.terminal import OnTerminal

    s1 = supervisord(nick="s1", programs={"p": {"command": "sleep 1000", "startsecs": 0}})
    with OnTerminal("top", "-i", s1.spec, "--interval", "0.2") as top:
        before = termios.tcgetattr(top.slave)
        drawn = top.read(30, until=b"Last events")
        assert b"Last events" in drawn and b"\x1b[?1049h" in drawn       # the alternate screen
        top.press(b"q")
        assert top.process.wait(20) == 0
        drawn = top.read(10, until=b"\x1b[?1049l")                        # written on its way out
        assert b"\x1b[?1049l" in drawn                                    # the screen restored
        assert termios.tcgetattr(top.slave) == before                     # echo and line mode back
