"""The controller's view through supervisord's main log, on real supervisord (issue 18): a crash is seen as
soon as with full polls, and a supervisord whose log cannot tell its changes (loglevel = warn, logfile =
syslog, a log that is a pipe) falls back to full polls and still has its changes seen."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Iterator

import pytest

from supv_cli.cluster.session import ClusterSession
from supv_cli.cluster.settings import ClusterSettings
from supv_cli.controller.evidence import Evidence
from supv_cli.controller.pacing import paced_snapshots
from supv_cli.model.instances import InstanceList
from supv_cli.model.snapshot import Snapshot
from tests.support.scenario3 import supv_env
from tests.support.supervisord import Supervisord, stop_all

PROGRAMS = {f"p{index}": {"command": "sleep 100000", "autostart": True, "autorestart": False} for index in range(3)}


class LoggedSupervisord(Supervisord):
    """A supervisord whose main log is configured otherwise (``logfile``, ``loglevel``); ``piped``: its
    stdout a pipe (drained), for ``logfile = /dev/stdout``."""

    def __init__(self, workdir: Path, logfile: str | None = None, loglevel: str = "info", piped: bool = False) -> None:
        super().__init__(workdir, nick=workdir.name, programs=PROGRAMS)
        self.logfile, self.loglevel, self.piped = logfile, loglevel, piped

    def _config(self) -> str:
        text = super()._config().replace("loglevel=info", f"loglevel={self.loglevel}")
        if self.logfile is not None:
            # a special file is never rotated (supervisord refuses to start otherwise)
            text = text.replace(f"logfile={self.log_path}", f"logfile={self.logfile}\nlogfile_maxbytes=0")
        return text

    def start(self, timeout: float = 20.0) -> Supervisord:
        if not self.piped:
            return super().start(timeout)
        self._prepare_address()
        self._write_config()
        command = [sys.executable, "-m", "supervisor.supervisord", "-n", "-c", str(self.conf_path)]
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT,
                                        cwd=str(self.workdir), start_new_session=True)
        stdout = self.process.stdout
        assert stdout is not None
        threading.Thread(target=lambda: [None for _ in iter(lambda: stdout.read(4096), b"")], daemon=True).start()
        self.wait_ready(timeout)
        return self


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[Supervisord]]:
    started: list[Supervisord] = []
    yield started
    stop_all(started)


def watcher(servers: list[Supervisord]) -> tuple[ClusterSession, Callable[[], Snapshot]]:
    session = ClusterSession(ClusterSettings(instances=InstanceList.parse([s.spec for s in servers]), timeout=2.0))
    acting = SimpleNamespace(acting=True, leader=None, jobs=[], evidence=Evidence(), guarded=None, successor=True)
    return session, paced_snapshots(acting, session.poller)  # type: ignore[arg-type]


def state_of(snapshot: Snapshot, nick: str, name: str) -> str:
    snap = next(s for s in snapshot.instances if s.instance.nick == nick)
    return next(p.state.name for p in snap.processes if p.name == name)


def crash_seen_after(server: Supervisord, snapshot: Callable[[], Snapshot], name: str = "p1") -> float:
    """Seconds from killing ``name`` on ``server`` until the paced view shows it EXITED."""
    for _ in range(8):  # settle: the first answers, the tails known
        snapshot()
        time.sleep(0.5)
    pid = server.proxy().supervisor.getProcessInfo(name)["pid"]
    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    while time.monotonic() - killed < 40:
        if state_of(snapshot(), server.nick, name) == "EXITED":
            return time.monotonic() - killed
        time.sleep(0.5)
    raise AssertionError(f"{name} killed on {server.nick}: never seen EXITED")


CASES: list[tuple[str, dict[str, Any], str | None]] = [
    ("info", {}, None),
    ("warn", {"loglevel": "warn"}, "INFO"),
    ("syslog", {"logfile": "syslog"}, "syslog"),
    ("stdout_pipe", {"logfile": "/dev/stdout", "piped": True}, "pipe"),
]


@pytest.mark.parametrize(("nick", "options", "blind"), CASES, ids=[case[0] for case in CASES])
def test_a_crash_is_seen_within_full_every_whatever_the_main_log(tmp_path: Path, servers: list[Supervisord],
                                                                 nick: str, options: dict[str, Any],
                                                                 blind: str | None) -> None:
    server = LoggedSupervisord(tmp_path / nick, **options)
    servers.append(server)
    server.start()
    server.wait_process("p1", ["RUNNING"])
    session, snapshot = watcher([server])
    took = crash_seen_after(server, snapshot)
    # the tail is read every PROBE_EVERY (1 s) and a change brings the full answer at once; a log-blind
    # instance is asked in full every FULL_EVERY (2 s) as before; + a cycle of 0.5 s and the call
    assert took < 4.0, took
    for _ in range(6):  # the changed answer was read alone: its next full answer comes with the tail
        snapshot()
        time.sleep(0.5)
    unsure, reasons = session.poller.unsure(), session.poller.blind()
    if blind is None:
        assert reasons == {} and server.nick not in unsure
    else:  # the fallback: full answers as before, and why
        assert server.nick in unsure
        assert blind in reasons.get(server.nick, "INFO"), reasons
    assert server.process is not None and server.process.poll() is None  # supervisord never blocked
    assert server.proxy().supervisor.getState()["statename"] == "RUNNING"


def test_a_certified_answer_is_no_fresh_evidence(tmp_path: Path, servers: list[Supervisord]) -> None:
    # the tail certifies the last full answer for watching (nothing logged since), not for deciding: a move
    # logged at DEBUG only (-> STOPPING) would not show; decisions ask in full (controller/evidence.py)
    server = LoggedSupervisord(tmp_path / "fresh")
    servers.append(server)
    server.start()
    session, snapshot = watcher([server])
    kinds = []
    for _ in range(12):
        kinds.append(snapshot().fresh)
        time.sleep(0.5)
    assert any(fresh is not None and server.nick not in fresh for fresh in kinds)  # reused, certified answers
    assert session.poller.blind() == {}


STOP_ON_CRASH = """<?xml version="1.0" encoding="UTF-8"?>
<root>
  <application name="app">
    <start_sequence>1</start_sequence>
    <programs>
      <program name="crasher"><start_sequence>1</start_sequence>
        <running_failure_strategy>STOP_APPLICATION</running_failure_strategy></program>
      <program name="peer"><start_sequence>2</start_sequence></program>
    </programs>
  </application>
</root>
"""


@pytest.mark.parametrize("loglevel", ["info", "warn"])
def test_a_controller_applies_the_running_failure_strategy_whatever_the_log(tmp_path: Path, servers: list[Supervisord],
                                                                            loglevel: str) -> None:
    # the real controller (its own process) on a supervisord whose log tells its changes, and on one whose
    # log does not (loglevel warn: the fallback to full polls)
    server = LoggedSupervisord(tmp_path / loglevel, loglevel=loglevel)
    server.programs = {name: {"command": "sleep 1000", "autostart": False, "autorestart": False, "startsecs": 1}
                       for name in ("crasher", "peer")}
    server.groups = {"app": ["crasher", "peer"]}
    servers.append(server)
    server.start()
    rules = tmp_path / "rules.xml"
    rules.write_text(STOP_ON_CRASH)
    env = {k: v for k, v in supv_env().items() if not k.startswith("SUPERVISOR_")}
    with open(tmp_path / "controller.log", "wb") as log:
        controller = subprocess.Popen([sys.executable, "-m", "supv_cli", "run-plan", "--watch", "-i", server.spec,
                                       "-r", str(rules)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=log, env=env)
    try:
        for name in ("app:crasher", "app:peer"):  # the automatic start of the application
            server.wait_process(name, ["RUNNING"], timeout=20)
        time.sleep(3)  # its tail known: the crash is seen through the log (info) or a full poll (warn)
        os.killpg(server.proxy().supervisor.getProcessInfo("app:crasher")["pid"], signal.SIGKILL)
        server.wait_process("app:peer", ["STOPPED"], timeout=20)
        assert "STOP_APPLICATION" in (tmp_path / "controller.log").read_text()
    finally:
        controller.send_signal(signal.SIGTERM)
        assert controller.wait(10) == 0


def test_a_log_that_misses_a_change_makes_its_instance_log_blind(tmp_path: Path, servers: list[Supervisord]) -> None:
    # a supervisord restarted at loglevel error on the log it wrote at info: its tail holds INFO lines, but
    # it logs no transition any more; the first full answer showing one proves it
    server = LoggedSupervisord(tmp_path / "quiet")
    servers.append(server)
    server.start()
    server.wait_process("p1", ["RUNNING"])
    server.stop()
    server.loglevel = "error"
    server.start()
    server.wait_process("p1", ["RUNNING"])
    with open(server.log_path, "a") as log:  # its last lines still at INFO (its CRIT lines at start are long)
        log.write("2026-12-07 16:50:00,123 INFO spawned: 'p1' with pid 12\n" * 4)
    session = ClusterSession(ClusterSettings(instances=InstanceList.parse([server.spec]), timeout=2.0))
    poller = session.poller
    poller.use_log = True
    for _ in range(2):  # the first answer over the connection, then one with the tail
        poller.poll(full={server.nick})
    assert server.nick not in poller.unsure() and poller.blind() == {}  # the old INFO lines look fine
    os.kill(server.proxy().supervisor.getProcessInfo("p1")["pid"], signal.SIGKILL)
    server.wait_process("p1", ["EXITED"])
    assert state_of(poller.poll(full={server.nick}), server.nick, "p1") == "EXITED"
    assert "not logged" in poller.blind()[server.nick]
    assert server.nick in poller.unsure()  # polled as before from now on


def test_an_unchanged_tail_is_recognised_by_its_bytes_and_a_crash_still_seen(tmp_path: Path,
                                                                              servers: list[Supervisord]) -> None:
    # issue 18: a probe answered with the bytes of the last one (but for the Date) gives the last full answer
    # without a call of the poller's own (``Poller._one``), the very object; a crash changes the tail, read then
    server = LoggedSupervisord(tmp_path / "echo")
    servers.append(server)
    server.start()
    server.wait_process("p1", ["RUNNING"])
    session = ClusterSession(ClusterSettings(instances=InstanceList.parse([server.spec]), timeout=2.0))
    poller = session.poller
    poller.use_log = True
    nicks = {server.nick}
    for _ in range(4):  # the first answers, then full answers with the tail: certified
        poller.poll(full=nicks)
    assert poller.unsure() == set()
    ones: list[str] = []
    one = poller._one
    poller._one = lambda client, full: ones.append(client.instance.nick) or one(client, full)  # type: ignore[method-assign]
    last = poller.poll(full=set(), probe=nicks)  # the first tail read through the pipeline: digested
    for _ in range(3):
        again = poller.poll(full=set(), probe=nicks)
        assert again.instances[0] is last.instances[0] and not again.fresh
    assert len(ones) <= 1, ones  # only the first probe went through the call
    assert session.client(session.instances[0]).transport.echo is not None
    os.kill(server.proxy().supervisor.getProcessInfo("p1")["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        moved = poller.poll(full=set(), probe=nicks)
        if state_of(moved, server.nick, "p1") == "EXITED":
            break
        time.sleep(0.2)
    assert state_of(moved, server.nick, "p1") == "EXITED" and moved.instances[0] is not last.instances[0]
