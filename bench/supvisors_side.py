"""Scenario 3 under Supvisors, for bench/idle_cost.py ``--supvisors PYTHON`` (issue 18: side by side).

The same scenario folder as supv's (tests/support/scenario3.py ``prepare``: the same programs, the same
rules file ``etc/supvisors_rules.xml``), started on six supervisord of another virtual environment, the
one of PYTHON, which has Supvisors installed: each supervisord reads the scenario's own conf (server or
console) plus what Supvisors' documentation asks for, written next to it in ``etc/``::

    [rpcinterface:supvisors]
    supervisor.rpcinterface_factory = supvisors.plugin:make_supvisors_rpcinterface
    supvisors_list = <server_1>127.0.0.1:P1,...,<console_3>127.0.0.1:P6
    rules_files = <scenario>/etc/supvisors_rules.xml

    [ctlplugin:supvisors]
    supervisor.ctl_factory = supvisors.supvisorsctl:make_supvisors_controller_plugin

Each supervisord runs through bench/supvisors_loopback.py (see there why: this machine's only
non-loopback interface has no reverse name, so Supvisors 0.19.1 cannot find itself in supvisors_list
without it). Supvisors starts the applications itself (the rules' start_sequence) once its six instances have
synchronised: nothing else is run. Every instance listens on 127.0.0.1 with a free port, not on the
scenario's own loopback addresses: Supvisors finds which ``supvisors_list`` item it is by comparing
the item's host with the names and addresses of the machine's network interfaces (with the wrapper,
lo's 127.0.0.1 and localhost), so an address like 127.0.0.11, which the kernel serves but no interface
carries, matches no item and Supvisors refuses to start. Supvisors 0.19 talks between instances over
their supervisord XML-RPC ports (no port of its own unless an event link is configured).
"""

from __future__ import annotations

import subprocess
import time
import xmlrpc.client
from pathlib import Path
from typing import Any

from tests.support.scenario3 import CONSOLES, SERVERS, ScenarioSupervisord
from tests.support.supervisord import free_port

LOOPBACK = Path(__file__).resolve().parent / "supvisors_loopback.py"
PLUGIN = """
[rpcinterface:supvisors]
supervisor.rpcinterface_factory = supvisors.plugin:make_supvisors_rpcinterface
supvisors_list = {supvisors_list}
rules_files = {rules}

[ctlplugin:supvisors]
supervisor.ctl_factory = supvisors.supvisorsctl:make_supvisors_controller_plugin
"""


class SupvisorsUnavailable(Exception):
    """Supvisors cannot be run here: the message says why."""


def check_python(python: str) -> str:
    """The version of Supvisors under ``python``, or SupvisorsUnavailable saying why not."""
    try:
        done = subprocess.run([python, "-c", "import supervisor, supvisors.plugin, importlib.metadata as m; "
                               "print(m.version('supvisors'))"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SupvisorsUnavailable(f"cannot run {python}: {error}") from error
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise SupvisorsUnavailable(f"{python} cannot import supervisor and supvisors.plugin: {last}")
    return done.stdout.strip()


class SupvisorsSupervisord(ScenarioSupervisord):
    """A Scenario 3 supervisord of another venv, with the Supvisors plugin, on 127.0.0.1."""

    def __init__(self, scenario_dir: Path, nick: str, python: str) -> None:
        super().__init__(scenario_dir, nick)
        self.host = "127.0.0.1"
        self.python = python
        self.port = free_port(self.host)
        self.keep_port = True
        self.conf_path = scenario_dir / "etc" / f"supvisors_{nick}.conf"

    def write_conf(self, supvisors_list: str, rules: str) -> None:
        role = "server" if self.nick.startswith("server") else "console"
        # the includes are relative to the conf's folder: the same folder as the scenario's own conf
        own = (self.scenario_dir / "etc" / f"supervisord_{role}.conf").read_text()
        self.conf_path.write_text(own + PLUGIN.format(supvisors_list=supvisors_list, rules=rules))

    def start(self, timeout: float = 20.0) -> SupvisorsSupervisord:
        """Start this supervisord with the venv's Python (the conf is written already)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        with open(self.output_path, "ab") as output:
            self.process = subprocess.Popen(
                [self.python, str(LOOPBACK), "-n", "-c", str(self.conf_path)],
                stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, cwd=str(self.workdir),
                start_new_session=True, env=self._environment())
        self.wait_ready(timeout)
        return self


def running_count(servers: list[SupvisorsSupervisord]) -> tuple[int, list[str]]:
    """Processes RUNNING over the six, and the Supvisors state of each (or why it did not answer)."""
    running = 0
    states = []
    for server in servers:
        proxy: Any = xmlrpc.client.ServerProxy(f"http://{server.host}:{server.port}")
        try:
            running += sum(1 for info in proxy.supervisor.getAllProcessInfo() if info["statename"] == "RUNNING")
            states.append(str(proxy.supvisors.get_supvisors_state()["fsm_statename"]))
        except (OSError, xmlrpc.client.Error) as error:
            states.append(f"no answer ({error})")
    return running, states


def start_supvisors(scenario_dir: Path, python: str, expected: int,
                    deadline: float = 180.0) -> list[SupvisorsSupervisord]:
    """Six supervisord with Supvisors, settled: every instance in OPERATION and ``expected`` processes
    RUNNING (what supv's run-plan starts), stable for 3 s. SupvisorsUnavailable when it does not."""
    servers = [SupvisorsSupervisord(scenario_dir, nick, python) for nick in SERVERS + CONSOLES]
    supvisors_list = ",".join(f"<{s.nick}>{s.host}:{s.port}" for s in servers)
    rules = str(scenario_dir / "etc" / "supvisors_rules.xml")
    for server in servers:
        server.write_conf(supvisors_list, rules)
    try:
        for server in servers:
            server.start(timeout=60)
    except Exception as error:
        stop(servers)
        raise SupvisorsUnavailable(f"a supervisord with Supvisors did not start: {error}") from error
    end = time.monotonic() + deadline
    stable_since = None
    last: tuple[int, list[str]] = (0, [])
    while time.monotonic() < end:
        last = running_count(servers)
        if last[0] >= expected and all(state == "OPERATION" for state in last[1]):
            stable_since = stable_since or time.monotonic()
            if time.monotonic() - stable_since >= 3:
                return servers
        else:
            stable_since = None
        time.sleep(1)
    stop(servers)
    raise SupvisorsUnavailable(f"Supvisors did not settle within {deadline:g} s: {last[0]} processes running "
                               f"of {expected} expected, states {last[1]}; see {scenario_dir / 'run'}")


def stop(servers: list[SupvisorsSupervisord]) -> None:
    for server in servers:
        if server.process is not None:
            server.terminate()
    for server in servers:
        if server.process is not None:
            server.stop()
