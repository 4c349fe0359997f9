"""A small cluster watched by real controllers, with a proxy on every link, for fault injection.

Three servers ``s1..s3`` and two consoles ``c1, c2`` (real supervisord on 127.0.0.1, free ports); each
server runs the programs ``srv:svc_a..svc_c`` (``sleep``) and ``cfg:p``, and the servers named in
``controlled`` run a ``supv_controller`` program (what the election looks for). The controllers are
``supv run-plan --watch --local NICK`` subprocesses, one per controlled server; each reaches every
instance through its own :class:`~tests.support.proxy.TcpProxy`, so that a partition is a matter of
cutting proxies, and a server started again on a new port keeps its address.

Used by tests/integration/test_controller_safety.py and bench/chaos.py. Everything started here is
stopped by :meth:`ControlledCluster.stop`, by pid.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, Sequence

from tests.support.proxy import TcpProxy
from tests.support.supervisord import Supervisord
from tests.support.waiting import wait_for as wait_until

ROOT = Path(__file__).resolve().parents[2]
NICKS = ("s1", "s2", "s3", "c1", "c2")
SERVERS = ("s1", "s2", "s3")
SERVICES = ("srv:svc_a", "srv:svc_b", "srv:svc_c")
RULES = """<?xml version="1.0" encoding="UTF-8"?>
<root>
  <alias name="servers">s1,s2,s3</alias>
  <application name="srv"><start_sequence>1</start_sequence><starting_strategy>LESS_LOADED</starting_strategy>
    <programs><program pattern="svc_"><identifiers>servers</identifiers><start_sequence>1</start_sequence>
      <expected_loading>10</expected_loading><running_failure_strategy>RESTART_PROCESS</running_failure_strategy>
    </program></programs></application>
  <application name="cfg"><start_sequence>1</start_sequence><starting_strategy>CONFIG</starting_strategy>
    <programs><program name="p"><identifiers>s2,s3</identifiers><start_sequence>1</start_sequence>
      <running_failure_strategy>{cfg_strategy}</running_failure_strategy></program></programs></application>
</root>
"""
#: namespec -> nicks where it is STARTING/RUNNING/BACKOFF
Placement = dict[str, list[str]]

__all__ = ["NICKS", "RULES", "SERVERS", "SERVICES", "ControlledCluster", "Placement", "once_each", "wait_until"]


def _programs(controller: bool) -> dict[str, dict[str, Any]]:
    sleeper = {"command": "sleep 100000", "autostart": False, "autorestart": False, "startsecs": 1,
               "stopsignal": "KILL"}
    programs = {name: dict(sleeper) for name in ("svc_a", "svc_b", "svc_c", "p")}
    if controller:  # what the leader election looks for; the real controller is our subprocess
        programs["supv_controller"] = {"command": "sleep 100000", "autostart": True, "startsecs": 0,
                                       "stopsignal": "KILL"}
    return programs


class ControlledCluster:
    """Five supervisord, controllers on ``controlled`` servers, proxies on every controller's links."""

    def __init__(self, workdir: Path, controlled: Sequence[str] = ("s1", "s2"), cfg_strategy: str = "CONTINUE",
                 controller_args: Sequence[str] = (), supv_root: Path = ROOT) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.controlled = tuple(controlled)
        self.controller_args = tuple(controller_args)
        #: the checkout whose supv_cli the controllers run (bench/chaos.py --supv compares two)
        self.supv_root = Path(supv_root)
        self.rules = self.workdir / "rules.xml"
        self.rules.write_text(RULES.format(cfg_strategy=cfg_strategy))
        self.servers: dict[str, Supervisord] = {}
        for nick in NICKS:
            groups = {"srv": ["svc_a", "svc_b", "svc_c"], "cfg": ["p"]}
            self.servers[nick] = Supervisord(self.workdir / nick, nick=nick, programs=_programs(nick in controlled),
                                             groups=groups)
        #: (controller nick, instance nick) -> the proxy that controller goes through
        self.proxies: dict[tuple[str, str], TcpProxy] = {}
        self.controllers: dict[str, subprocess.Popen[bytes]] = {}

    # ------------------------------------------------------------------ life
    def start(self) -> ControlledCluster:
        for server in self.servers.values():
            server.start()
        for local in self.controlled:
            for nick, server in self.servers.items():
                self.proxies[(local, nick)] = TcpProxy(("127.0.0.1", server.port or 0)).start()
        for local in self.controlled:
            self.start_controller(local)
        return self

    def instance_list(self, local: str) -> str:
        return " ".join(f"<{nick}>{self.proxies[(local, nick)].address}" for nick in NICKS)

    def start_controller(self, local: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SUPV_", "SUPERVISOR_"))}
        env["PYTHONPATH"] = str(self.supv_root) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        with open(self.workdir / f"controller-{local}.out", "ab") as out, \
                open(self.workdir / f"controller-{local}.log", "ab") as err:
            self.controllers[local] = subprocess.Popen(
                [sys.executable, "-m", "supv_cli", "run-plan", "--watch", "-i", self.instance_list(local),
                 "-r", str(self.rules), "--local", local, *self.controller_args],
                stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env, start_new_session=True,
                cwd=self.workdir)   # not ours: ``-m`` puts the working directory first on sys.path

    def stop_controller(self, local: str, sig: int = signal.SIGTERM) -> int | None:
        process = self.controllers.pop(local, None)
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(sig)
        try:
            return process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
            return None

    def stop(self) -> dict[str, int | None]:
        """Stop everything started here; the controllers' exit codes on SIGTERM."""
        codes = {local: self.stop_controller(local) for local in list(self.controllers)}
        for proxy in self.proxies.values():
            proxy.stop()
        for server in self.servers.values():
            server.terminate()
        for server in self.servers.values():
            server.stop()
        return codes

    # ------------------------------------------------------------------ faults
    def power_cut(self, nick: str) -> None:
        """kill -9 the supervisord of ``nick``, its programs and its controller (the host is gone)."""
        if nick in self.controllers:
            self.stop_controller(nick, signal.SIGKILL)
        self.servers[nick].power_cut()

    def power_on(self, nick: str) -> None:
        """Start a cut server again (a new port, behind the same proxies) and its controller."""
        self.servers[nick].start()
        for local in self.controlled:
            self.proxies[(local, nick)].retarget(("127.0.0.1", self.servers[nick].port or 0))
        if nick in self.controlled:
            self.start_controller(nick)

    def isolate(self, nick: str) -> None:
        """A partition: ``nick`` and the rest no longer reach each other (both ways)."""
        for (local, target), proxy in self.proxies.items():
            if (local == nick) != (target == nick):
                proxy.cut()

    def heal(self) -> None:
        for proxy in self.proxies.values():
            proxy.heal()

    def move(self, namespec: str, source: str, target: str) -> None:
        """An operator's move (``supv restart NAMESPEC --strategy ...`` placing it elsewhere): stopped on
        ``source`` (waiting for STOPPED), then started on ``target`` (not waiting)."""
        self.servers[source].proxy(5.0).supervisor.stopProcess(namespec, True)
        self.servers[target].proxy(5.0).supervisor.startProcess(namespec, False)

    def restarts_reached(self, namespecs: Sequence[str], nicks: Sequence[str]) -> bool:
        """One of ``namespecs`` is no longer STOPPED on one of ``nicks`` (a start sent there arrived)."""
        for nick in nicks:
            try:
                infos = self.servers[nick].proxy(1.0).supervisor.getAllProcessInfo()
            except Exception:
                continue
            if any(f"{i['group']}:{i['name']}" in namespecs and i["statename"] != "STOPPED" for i in infos):
                return True
        return False

    # ------------------------------------------------------------------ looking
    def placement(self, skip: Sequence[str] = ()) -> Placement:
        """Where each managed program is active, straight from every supervisord not in ``skip``."""
        found: Placement = {}
        for nick, server in self.servers.items():
            if nick in skip or server.process is None or server.process.poll() is not None:
                continue
            try:
                infos = server.proxy(2.0).supervisor.getAllProcessInfo()
            except Exception:
                continue
            for info in infos:
                if info["group"] in ("srv", "cfg") and info["statename"] in ("STARTING", "RUNNING", "BACKOFF"):
                    found.setdefault(f"{info['group']}:{info['name']}", []).append(nick)
        return found

    def log(self, local: str) -> str:
        return (self.workdir / f"controller-{local}.log").read_text(errors="replace")

    def states(self, local: str) -> list[dict[str, Any]]:
        """The state lines the controller of ``local`` printed."""
        lines = (self.workdir / f"controller-{local}.out").read_text(errors="replace").splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def acting(self) -> list[str]:
        """The controllers whose last state line says they act."""
        result = []
        for local in self.controllers:
            states = self.states(local)
            if states and states[-1].get("acting"):
                result.append(local)
        return result


def once_each(placement: Placement, namespecs: Sequence[str] = SERVICES) -> bool:
    return all(len(placement.get(ns, [])) == 1 for ns in namespecs)
