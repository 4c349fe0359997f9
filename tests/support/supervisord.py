"""Real supervisord processes for integration tests.

A :class:`Supervisord` writes a supervisord.conf into its own folder, starts
``python -m supervisor.supervisord -n -c CONF`` as a child in a new session (so we own its pid), waits
until it answers XML-RPC, and at the end stops only what it started: supervisord itself by pid, and
the process groups of the programs it spawned (Supervisor puts each child in its own group).

Usage (see the ``supervisord`` fixture in tests/conftest.py)::

    server = Supervisord(tmp_path / "s1", nick="s1", programs={"sleeper": {"command": "sleep 1000"}})
    server.start()
    ... supv -i server.spec ...
    server.stop()
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

#: every Supervisord started and not yet stopped, stopped at interpreter exit as a last resort
_LIVE: set[Supervisord] = set()

ProgramOptions = Mapping[str, Any]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free right now on ``host`` (supervisord binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _ini_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(item) for item in value)
    return str(value)


class SupervisordError(RuntimeError):
    """supervisord did not start (its log is in the message)."""


class Supervisord:
    """One supervisord started for a test, on 127.0.0.1 (or ``host``) or on a unix socket."""

    def __init__(self, workdir: Path | str, nick: str = "server",
                 programs: Mapping[str, ProgramOptions] | None = None,
                 groups: Mapping[str, Sequence[str]] | None = None, unix: bool = False,
                 host: str = "127.0.0.1", username: str | None = None, password: str | None = None,
                 extra: str = "") -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.nick = nick
        self.programs = dict(programs or {})
        self.groups = {name: list(members) for name, members in (groups or {}).items()}
        self.unix = unix
        self.host = host
        self.username = username
        self.password = password
        self.extra = extra
        self.port: int | None = None
        self.socket_path: str | None = None
        self._socket_dir: str | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self._child_pids: set[int] = set()
        self.conf_path = self.workdir / "supervisord.conf"
        self.log_path = self.workdir / "supervisord.log"
        self.output_path = self.workdir / "supervisord.out"

    # ----------------------------------------------------------------------------------------- naming

    @property
    def url(self) -> str:
        if self.unix:
            return f"unix://{self.socket_path}"
        return f"http://{self.host}:{self.port}"

    @property
    def spec(self) -> str:
        """The ``-i`` item of this instance: ``<nick>host:port`` or ``<nick>unix:///path``."""
        if self.unix:
            return f"<{self.nick}>{self.url}"
        return f"<{self.nick}>{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None, "supervisord not started"
        return self.process.pid

    # ----------------------------------------------------------------------------------------- config

    def _config(self) -> str:
        lines = [
            "[supervisord]",
            f"logfile={self.log_path}",
            f"pidfile={self.workdir / 'supervisord.pid'}",
            f"childlogdir={self.workdir}",
            f"identifier={self.nick}",
            "nodaemon=true",
            "loglevel=info",
            "",
            "[rpcinterface:supervisor]",
            "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
            "",
        ]
        auth = []
        if self.username is not None:
            auth = [f"username={self.username}", f"password={self.password or ''}"]
        if self.unix:
            lines += ["[unix_http_server]", f"file={self.socket_path}", *auth, ""]
        else:
            lines += ["[inet_http_server]", f"port={self.host}:{self.port}", *auth, ""]
        for name, options in self.programs.items():
            values = {"stopwaitsecs": 1, "startsecs": 0, **options}
            lines.append(f"[program:{name}]")
            lines += [f"{key}={_ini_value(value)}" for key, value in values.items()]
            lines.append("")
        for name, members in self.groups.items():
            lines += [f"[group:{name}]", f"programs={','.join(members)}", ""]
        if self.extra:
            lines.append(self.extra)
        return "\n".join(lines) + "\n"

    def _write_config(self) -> None:
        """Write the supervisord.conf to start (a subclass may start an existing file instead)."""
        self.conf_path.write_text(self._config())

    def _environment(self) -> dict[str, str] | None:
        """The environment of supervisord (None: ours); called once the address is chosen."""
        return None

    def _prepare_address(self) -> None:
        if self.unix:
            path = self.workdir / "supervisor.sock"
            if len(str(path)) > 100:  # AF_UNIX paths are limited to about 108 bytes
                self._socket_dir = tempfile.mkdtemp(prefix="supv-sock-", dir="/tmp")
                path = Path(self._socket_dir) / f"{self.nick}.sock"
            self.socket_path = str(path)
        else:
            self.port = free_port(self.host)

    # ----------------------------------------------------------------------------------------- life

    def start(self, timeout: float = 20.0) -> Supervisord:
        """Start supervisord and wait until it answers; retry on a port taken meanwhile."""
        for attempt in range(3):
            self._prepare_address()
            self._write_config()
            with open(self.output_path, "ab") as output:
                self.process = subprocess.Popen(
                    [sys.executable, "-m", "supervisor.supervisord", "-n", "-c", str(self.conf_path)],
                    stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, cwd=str(self.workdir),
                    start_new_session=True, env=self._environment())
            _LIVE.add(self)
            try:
                self.wait_ready(timeout)
                return self
            except SupervisordError:
                if self.process.poll() is None or attempt == 2:
                    self.stop()
                    raise
                _LIVE.discard(self)
        raise AssertionError("unreachable")

    def proxy(self, timeout: float = 2.0) -> Any:
        """An XML-RPC proxy on this supervisord, through supv's own client transport."""
        from supv_cli.cluster.client import make_proxy
        from supv_cli.model.instances import parse_instance
        return make_proxy(parse_instance(self.spec), timeout, self.username, self.password)

    def wait_ready(self, timeout: float = 20.0) -> None:
        """Wait until supervisord answers getState RUNNING, or raise SupervisordError with its output."""
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise SupervisordError(f"supervisord exited with {self.process.returncode}:\n{self.output()}")
            try:
                if self.proxy(1.0).supervisor.getState()["statename"] == "RUNNING":
                    return
            except Exception as error:  # not listening yet
                last_error = error
            time.sleep(0.05)
        raise SupervisordError(f"supervisord not ready within {timeout}s ({last_error}):\n{self.output()}")

    def wait_process(self, namespec: str, states: Sequence[str], timeout: float = 10.0) -> dict[str, Any]:
        """Wait until ``namespec`` is in one of ``states``; return its process info."""
        from tests.support.waiting import wait_for

        info: dict[str, Any] = wait_for(f"{namespec} on {self.nick} in one of {', '.join(states)}",
                                        lambda: self.proxy().supervisor.getProcessInfo(namespec),
                                        lambda info: info["statename"] in states, deadline=timeout, every=0.05)[0]
        return info

    def output(self) -> str:
        text = ""
        for path in (self.output_path, self.log_path):
            if path.exists():
                text += path.read_text(errors="replace")[-4000:]
        return text

    def _record_children(self) -> None:
        """Remember the pids of supervisord's children (Linux /proc), to clean them up even when
        supervisord itself is killed with SIGKILL."""
        if self.process is None:
            return
        parent = str(self.process.pid)
        for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as stream:
                    fields = stream.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] == parent:  # field 4 of stat: ppid
                self._child_pids.add(int(entry))

    def sigstop(self) -> None:
        """Freeze supervisord (a hung instance): it keeps its socket but never answers."""
        os.kill(self.pid, signal.SIGSTOP)

    def sigcont(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    def kill9(self) -> None:
        """Kill supervisord with SIGKILL (a crashed instance); its programs are cleaned up at stop()."""
        self._record_children()
        os.kill(self.pid, signal.SIGKILL)
        assert self.process is not None
        self.process.wait(10)

    def power_cut(self) -> list[int]:
        """kill -9 supervisord and every program it runs (each is the leader of its own process group,
        found by parent pid in /proc): the host is lost. Returns the program pids killed. Start it
        again with :meth:`start`."""
        self._record_children()
        children = sorted(self._child_pids)
        os.kill(self.pid, signal.SIGKILL)
        for pid in children:
            try:
                if os.getpgid(pid) == pid:
                    os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        assert self.process is not None
        self.process.wait(10)
        self._child_pids.clear()
        return children

    def terminate(self) -> None:
        """Ask supervisord to stop (SIGTERM) without waiting: stopping several servers at once
        takes the time of one (each needs about a second to shut down)."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        self._record_children()
        try:
            os.kill(process.pid, signal.SIGCONT)  # a SIGSTOPped process cannot handle SIGTERM
            os.kill(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass

    def stop(self, timeout: float = 15.0) -> None:
        """Stop supervisord (SIGTERM, then SIGKILL) and whatever it spawned; only our own pids."""
        _LIVE.discard(self)
        process = self.process
        if process is not None and process.poll() is None:
            self.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._record_children()
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
        for pid in sorted(self._child_pids):
            try:
                if os.getpgid(pid) == pid:  # still the group leader Supervisor made it: ours
                    os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self._child_pids.clear()
        if self._socket_dir:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            self._socket_dir = None


def stop_all(servers: Sequence[Supervisord], timeout: float = 15.0) -> None:
    """Stop several supervisord at once: SIGTERM to each, then wait for each (the time of one)."""
    for server in servers:
        server.terminate()
    for server in servers:
        server.stop(timeout=timeout)


@atexit.register
def _stop_all() -> None:
    stop_all(list(_LIVE), timeout=5.0)
