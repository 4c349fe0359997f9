"""A fake supervisord for scale benchmarks: one process serving many instances, one port each.

Each instance answers the XML-RPC calls supv makes (getState, getAllProcessInfo, getAllConfigInfo,
getProcessInfo, getPID, getIdentification, getAPIVersion, getSupervisorVersion, startProcess,
stopProcess, tail/readProcessStdoutLog, readLog, system.multicall) with the bytes supervisord 4.3 sends: the
bodies are marshalled by Supervisor's own ``supervisor.xmlrpc.xmlrpc_marshal``, the descriptions made
by its own ``_interpretProcessInfo``, the HTTP head is medusa's, connections are kept alive as there.
``bench/scale.py --check`` compares its answers with real supervisord's, byte for byte but the clock,
the pids and the random part of log file names. Each instance keeps a main log, written as
supervisord 4.3 writes its own at ``loglevel = info`` (its start, ``spawned:`` and ``success:`` for each
program started, ``stopped:`` for each stopped, a timestamp to the millisecond on each line), which
``readLog`` reads as supervisord's ``readFile`` does.

Run: python bench/fake_supervisord.py --host 127.0.5.1 --count 300 --programs 40 --running 10
It prints one JSON line ``{"nick": port, ...}`` once listening, then reads commands on stdin, one per
line: ``restart NICK`` (a new supervisord pid, its connections closed, its programs started again),
``add NICK NAME`` (a program added to the process set), ``crash NICK NAME`` (a running program exits
unexpectedly: EXITED, logged), ``stats`` (requests served per method,
one JSON line), ``quit``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import selectors
import socket
import string
import sys
import threading
import time
import xmlrpc.client
from email.utils import formatdate
from typing import Any

from supervisor.rpcinterface import SupervisorNamespaceRPCInterface
from supervisor.xmlrpc import xmlrpc_marshal

_RUNNING, _STOPPED = 20, 0
_STATENAMES = {0: "STOPPED", 10: "STARTING", 20: "RUNNING", 30: "BACKOFF", 40: "STOPPING", 100: "EXITED",
               200: "FATAL", 1000: "UNKNOWN"}
_pids = itertools.count(200000)
_describe = SupervisorNamespaceRPCInterface._interpretProcessInfo


def _suffix() -> str:
    return "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(8))


class FakeInstance:
    """What one supervisord holds: its programs (groups of ``group_size``), their states."""

    def __init__(self, nick: str, groups: dict[str, list[str]], running: set[str], logdir: str) -> None:
        self.nick = nick
        self.logdir = logdir
        self.groups = groups
        self.running = running
        self.restart()

    def restart(self) -> None:
        now = int(time.time())
        self.pid = next(_pids)
        self.log = bytearray()
        self._log("INFO", "RPC interface 'supervisor' initialized")
        self._log("INFO", f"supervisord started with pid {self.pid}")
        self.procs: dict[tuple[str, str], dict[str, Any]] = {}
        for group, names in sorted(self.groups.items()):
            for name in sorted(names):
                self._add(group, name, f"{group}:{name}" in self.running, now)
        for (_group, name), proc in self.procs.items():
            if proc["state"] == _RUNNING:
                self._started(name, proc)

    def _log(self, level: str, message: str) -> None:
        """A line of supervisord's main log (its format: ``%(asctime)s %(levelname)s %(message)s``)."""
        now = time.time()
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now)) + f",{int(now * 1000) % 1000:03d}"
        self.log += f"{stamp} {level} {message}\n".encode()

    def _started(self, name: str, proc: dict[str, Any]) -> None:
        self._log("INFO", f"spawned: '{name}' with pid {proc['pid']}")
        self._log("INFO", f"success: {name} entered RUNNING state, process has stayed up for > than 0 seconds "
                          "(startsecs)")

    def read_log(self, offset: int, length: int) -> str:
        """``supervisor.options.readFile`` over the main log."""
        if offset < 0:
            if length:
                raise xmlrpc.client.Fault(3, "BAD_ARGUMENTS")
            return self.log[max(0, len(self.log) + offset):].decode()
        if length < 0:
            raise xmlrpc.client.Fault(3, "BAD_ARGUMENTS")
        return self.log[offset:offset + length if length else None].decode()

    def crash(self, group: str, name: str) -> None:
        proc = self.procs[(group, name)]
        if proc["state"] == _RUNNING:
            proc.update(state=100, stop=int(time.time()), pid=0, exitstatus=1, spawnerr="Bad exit code 1")
            self._log("WARN", f"exited: {name} (exit status 1; not expected)")

    def _add(self, group: str, name: str, running: bool, now: int) -> None:
        self.procs[(group, name)] = {
            "start": now if running else 0, "stop": 0, "state": _RUNNING if running else _STOPPED,
            "pid": next(_pids) if running else 0, "exitstatus": 0, "spawnerr": "",
            "out": f"{self.logdir}/{name}-stdout---{self.nick}-{_suffix()}.log",
            "err": f"{self.logdir}/{name}-stderr---{self.nick}-{_suffix()}.log"}

    def add(self, name: str) -> None:
        self.groups.setdefault(name, []).append(name)
        self._add(name, name, False, int(time.time()))

    # ------------------------------------------------------------------------------ the calls
    def info(self, group: str, name: str) -> dict[str, Any]:
        proc = self.procs[(group, name)]
        info = {"name": name, "group": group, "start": proc["start"], "stop": proc["stop"], "now": int(time.time()),
                "state": proc["state"], "statename": _STATENAMES[proc["state"]], "spawnerr": proc["spawnerr"],
                "exitstatus": proc["exitstatus"], "logfile": proc["out"], "stdout_logfile": proc["out"],
                "stderr_logfile": proc["err"], "pid": proc["pid"]}
        info["description"] = _describe(None, info)
        return info

    def config(self, group: str, name: str) -> dict[str, Any]:
        proc = self.procs[(group, name)]
        return {"autostart": f"{group}:{name}" in self.running, "directory": "none", "uid": "none",
                "command": "sleep 100000", "exitcodes": [0], "group": group, "group_prio": 999, "inuse": True,
                "killasgroup": False, "name": name, "process_prio": 999, "redirect_stderr": False,
                "startretries": 3, "startsecs": 0, "stdout_capture_maxbytes": 0, "stdout_events_enabled": False,
                "stdout_logfile": proc["out"], "stdout_logfile_backups": 10, "stdout_logfile_maxbytes": 52428800,
                "stdout_syslog": False, "stopsignal": 15, "stopwaitsecs": 1, "stderr_capture_maxbytes": 0,
                "stderr_events_enabled": False, "stderr_logfile": proc["err"], "stderr_logfile_backups": 10,
                "stderr_logfile_maxbytes": 52428800, "stderr_syslog": False, "serverurl": "none"}

    def _named(self, namespec: str) -> tuple[str, str]:
        group, _, name = namespec.partition(":")
        name = name or group
        if name == "*" or (group, name) not in self.procs:
            raise xmlrpc.client.Fault(10, f"BAD_NAME: {namespec}")
        return group, name

    def dispatch(self, method: str, params: tuple[Any, ...]) -> Any:
        if method == "system.multicall":
            results = []
            for call in params[0]:
                try:
                    results.append(self.dispatch(call["methodName"], tuple(call.get("params", ()))))
                except xmlrpc.client.Fault as fault:
                    results.append({"faultCode": fault.faultCode, "faultString": fault.faultString})
            return results
        if method == "supervisor.getState":
            return {"statecode": 1, "statename": "RUNNING"}
        if method == "supervisor.getAllProcessInfo":
            return [self.info(group, name) for group, name in self.procs]
        if method == "supervisor.getAllConfigInfo":
            return sorted((self.config(group, name) for group, name in self.procs), key=lambda c: c["name"])
        if method == "supervisor.getProcessInfo":
            return self.info(*self._named(params[0]))
        if method == "supervisor.getPID":
            return self.pid
        if method == "supervisor.getIdentification":
            return self.nick
        if method == "supervisor.getAPIVersion":
            return "3.0"
        if method == "supervisor.getSupervisorVersion":
            return "4.3.0"
        if method in ("supervisor.startProcess", "supervisor.stopProcess"):
            proc = self.procs[self._named(params[0])]
            start = method == "supervisor.startProcess"
            if start and proc["state"] == _RUNNING:
                raise xmlrpc.client.Fault(60, f"ALREADY_STARTED: {params[0]}")
            if not start and proc["state"] != _RUNNING:
                raise xmlrpc.client.Fault(70, f"NOT_RUNNING: {params[0]}")
            now = int(time.time())
            name = self._named(params[0])[1]
            if start:
                proc.update(state=_RUNNING, start=now, pid=next(_pids), exitstatus=0, spawnerr="")
                self._started(name, proc)
            else:
                proc.update(state=_STOPPED, stop=now, pid=0)
                self._log("WARN", f"stopped: {name} (terminated by SIGTERM)")  # not an exit code: WARN
            return True
        if method == "supervisor.readLog":
            return self.read_log(int(params[0]), int(params[1]))
        if method == "supervisor.tailProcessStdoutLog":
            self._named(params[0])
            return ["", 0, False]
        if method == "supervisor.readProcessStdoutLog":
            self._named(params[0])
            return ""
        raise xmlrpc.client.Fault(1, "UNKNOWN_METHOD")


def _http(body: bytes) -> bytes:
    head = (f"HTTP/1.1 200 OK\r\nServer: Medusa/1.12\r\nDate: {formatdate(usegmt=True)}\r\n"
            f"Content-Type: text/xml\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode("latin-1") + body


#: requests served, per method (``stats``)
COUNTS: dict[str, int] = {}


def answer(instance: FakeInstance, request: bytes) -> bytes:
    params, method = xmlrpc.client.loads(request)
    key = method or ""
    if method == "system.multicall":
        key += "(" + ",".join(call.get("methodName", "").rpartition(".")[2] for call in params[0]) + ")"
    COUNTS[key] = COUNTS.get(key, 0) + 1
    try:
        value: Any = instance.dispatch(method or "", params)
    except xmlrpc.client.Fault as fault:
        value = fault
    return _http(xmlrpc_marshal(value).encode("utf-8"))


class FakeCluster:
    """Every instance on its own listening socket, one selector loop for all."""

    def __init__(self, host: str, instances: list[FakeInstance]) -> None:
        self.selector = selectors.DefaultSelector()
        self.instances = {instance.nick: instance for instance in instances}
        self.ports: dict[str, int] = {}
        self.listeners: dict[str, socket.socket] = {}
        self.clients: dict[str, set[socket.socket]] = {nick: set() for nick in self.instances}
        self.lock = threading.Lock()
        self.buffers: dict[socket.socket, bytes] = {}
        for nick in self.instances:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, 0))
            sock.listen(64)
            sock.setblocking(False)
            self.ports[nick] = sock.getsockname()[1]
            self.listeners[nick] = sock
            self.selector.register(sock, selectors.EVENT_READ, ("listen", nick))

    def serve(self) -> None:
        """The loop; any failure ends the whole process (a benchmark must not go on without it)."""
        try:
            self._serve()
        except BaseException:
            import traceback

            traceback.print_exc()
            os._exit(3)

    def _serve(self) -> None:
        buffers = self.buffers
        while True:
            events = self.selector.select(0.5)
            with self.lock:
                for key, _ in events:
                    role, nick = key.data
                    sock: Any = key.fileobj
                    if role == "listen":
                        try:
                            conn, _ = sock.accept()
                        except OSError:
                            continue
                        conn.setblocking(True)
                        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                        self.clients[nick].add(conn)
                        buffers[conn] = b""
                        self.selector.register(conn, selectors.EVENT_READ, ("conn", nick))
                        continue
                    if sock.fileno() < 0 or sock not in self.clients[nick]:
                        continue  # closed by a restart since select() returned
                    self._read(nick, sock, buffers)

    def _read(self, nick: str, sock: socket.socket, buffers: dict[socket.socket, bytes]) -> None:
        try:
            chunk = sock.recv(65536)
        except OSError:
            chunk = b""
        if not chunk:
            self._drop(nick, sock, buffers)
            return
        data = buffers.get(sock, b"") + chunk
        while True:
            end = data.find(b"\r\n\r\n")
            if end < 0:
                break
            length = 0
            for line in data[:end].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(data) < end + 4 + length:
                break
            body, data = data[end + 4:end + 4 + length], data[end + 4 + length:]
            try:
                sock.sendall(answer(self.instances[nick], body))
            except OSError:
                self._drop(nick, sock, buffers)
                return
        buffers[sock] = data

    def _drop(self, nick: str, sock: socket.socket, buffers: dict[socket.socket, bytes]) -> None:
        if sock.fileno() >= 0:
            self.selector.unregister(sock)
        self.clients[nick].discard(sock)
        buffers.pop(sock, None)
        sock.close()

    def restart(self, nick: str) -> None:
        """supervisord restarted: a new pid, its connections closed (as a restart does)."""
        with self.lock:
            for conn in list(self.clients[nick]):
                self.selector.unregister(conn)
                self.buffers.pop(conn, None)
                conn.close()
            self.clients[nick].clear()
            self.instances[nick].restart()


def layout(index: int, programs: int, running: int) -> tuple[dict[str, list[str]], set[str]]:
    """bench/idle_cost.py's: ``programs - 1`` programs in groups of ten, and mover:worker (stopped)."""
    names = [f"p{number:02d}" for number in range(programs - 1)]
    groups = {f"app{index:03d}_{g}": [n for number, n in enumerate(names) if number // 10 == g]
              for g in range((programs - 1 + 9) // 10)}
    groups["mover"] = ["worker"]
    running_set = {f"{group}:{name}" for group, members in groups.items() for name in members
                   if name != "worker" and int(name[1:]) < running}
    return groups, running_set


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.5.1")
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--programs", type=int, default=40)
    parser.add_argument("--running", type=int, default=10)
    parser.add_argument("--logdir", default="/tmp/supv-fake")
    parser.add_argument("--prefix", default="f")
    args = parser.parse_args()
    instances = []
    for index in range(args.count):
        groups, running = layout(index, args.programs, args.running)
        instances.append(FakeInstance(f"{args.prefix}{index:03d}", groups, running, args.logdir))
    cluster = FakeCluster(args.host, instances)
    threading.Thread(target=cluster.serve, daemon=True).start()
    print(json.dumps(cluster.ports), flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "quit":
            break
        if words[0] == "restart":
            for nick in words[1:]:
                cluster.restart(nick)
        elif words[0] == "crash" and len(words) == 3:
            with cluster.lock:
                cluster.instances[words[1]].crash(*cluster.instances[words[1]]._named(words[2]))
        elif words[0] == "add" and len(words) == 3:
            with cluster.lock:
                cluster.instances[words[1]].add(words[2])
        if words[0] == "stats":
            with cluster.lock:
                print(json.dumps(COUNTS), flush=True)
            continue
        print("ok", flush=True)
    os._exit(0)


if __name__ == "__main__":
    main()
