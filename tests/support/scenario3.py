"""Scenario 3 (use_cases/scenario_3) on free ports, for integration tests and benchmarks.

:func:`prepare` copies the scenario into a folder and runs its ``configure`` (with supv from this
checkout); :class:`Scenario3` starts its six supervisord with the scenario's own confs and environment
variables (IDENTIFIER, SCEN3_HOST, SCEN3_PORT, SCEN3_RUN, SUPV_SUPERVISORCTL), each on its own loopback
address (servers 127.0.0.11..13, consoles 127.0.0.21..23) and a port free on that address, and stops
them by pid (their programs too, see :class:`tests.support.supervisord.Supervisord`).

``Scenario3(dir, controllers=True)`` deploys the supv controller as ``./scenario up`` does: the
launcher's ``supv_controller`` program written to ``run/controller/supv_controller.ini`` (which the server
conf includes) and SUPV_INSTANCES / SUPV_RULES / PYTHONPATH in every supervisord's environment, so the
ports are chosen before anything starts and kept when a server is started again.

Usage::

    scenario = Scenario3(prepare(tmp_path / "scenario_3"))
    scenario.start()
    ... supv -i scenario.instance_list -r scenario.rules ...
    scenario.servers["server_2"].power_cut(); scenario.servers["server_2"].start()
    scenario.stop()
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Sequence

from tests.support.supervisord import Supervisord, free_port

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "use_cases" / "scenario_3"
SERVERS = ("server_1", "server_2", "server_3")
CONSOLES = ("console_1", "console_2", "console_3")
#: what configure writes and a run leaves behind: never copied
_GENERATED = ("run", "console_1", "console_2", "console_3", "__pycache__")


def supv_env() -> dict[str, str]:
    """Our environment with this checkout first on PYTHONPATH and no SUPV_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUPV_")}
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def prepare(destination: Path) -> Path:
    """Copy the scenario to ``destination`` and run its ``configure`` there (supv breed); return it."""
    shutil.copytree(SOURCE, destination, ignore=shutil.ignore_patterns(*_GENERATED))
    env = {**supv_env(), "SUPV": f"{sys.executable} -m supv_cli", "PYTHON": sys.executable}
    done = subprocess.run([str(destination / "configure")], cwd=destination, env=env, timeout=60,
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        raise RuntimeError(f"configure failed ({done.returncode}):\n{done.stdout.decode(errors='replace')}")
    return destination


def launcher() -> Any:
    """The scenario's launcher script (``use_cases/scenario_3/scenario``) as a module."""
    loader = importlib.machinery.SourceFileLoader("scenario3_launcher", str(SOURCE / "scenario"))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def write_controller(scenario_dir: Path, args: Sequence[str] = ()) -> Path:
    """The launcher's controller program (``supv run-plan --watch ARGS``), in ``run/controller``."""
    folder = scenario_dir / "run" / "controller"
    folder.mkdir(parents=True, exist_ok=True)
    command = shlex.join([sys.executable, "-m", "supv_cli", "run-plan", "--watch", *args])
    path = folder / "supv_controller.ini"
    temporary = path.with_suffix(".tmp")
    temporary.write_text(launcher().CONTROLLER_INI.format(command=command.replace("%", "%%")))
    os.replace(temporary, path)
    return path


def write_sampler(scenario_dir: Path, period: float = 5.0) -> Path:
    """The launcher's statistics sampler (``supv sampler``), in ``run/stats``: every instance includes it."""
    folder = scenario_dir / "run" / "stats"
    folder.mkdir(parents=True, exist_ok=True)
    command = shlex.join([sys.executable, "-m", "supv_cli", "sampler", "--stats-interval", str(period)])
    path = folder / "supv_sampler.ini"
    temporary = path.with_suffix(".tmp")
    temporary.write_text(launcher().SAMPLER_INI.format(command=command.replace("%", "%%")))
    os.replace(temporary, path)
    return path


def host_of(nick: str) -> str:
    """server_N -> 127.0.0.1N, console_N -> 127.0.0.2N (each instance a node of its own)."""
    return f"127.0.0.{(10 if nick.startswith('server') else 20) + int(nick[-1])}"


class ScenarioSupervisord(Supervisord):
    """One Scenario 3 supervisord: the scenario's conf, its environment variables, a free port."""

    def __init__(self, scenario_dir: Path, nick: str) -> None:
        self.scenario_dir = scenario_dir
        run_dir = scenario_dir / "run"
        # the conf puts its log and pid file in $SCEN3_RUN/$IDENTIFIER: that is our workdir
        super().__init__(run_dir / nick, nick=nick, host=host_of(nick))
        self.run_dir = run_dir
        role = "server" if nick.startswith("server") else "console"
        self.conf_path = scenario_dir / "etc" / f"supervisord_{role}.conf"
        #: added to supervisord's environment (the controller's settings, which its programs inherit)
        self.extra_env: dict[str, str] = {}
        #: keep ``port`` when (re)started: the instance list given to the controllers names it
        self.keep_port = False

    def _write_config(self) -> None:
        """The scenario's conf is used as it is."""

    def _prepare_address(self) -> None:
        if not (self.keep_port and self.port):
            super()._prepare_address()

    def _environment(self) -> dict[str, str]:
        return {**supv_env(), "IDENTIFIER": self.nick, "SCEN3_HOST": self.host, "SCEN3_PORT": str(self.port),
                "SCEN3_RUN": str(self.run_dir),
                "SUPV_SUPERVISORCTL": f"{sys.executable} -m supervisor.supervisorctl", **self.extra_env}


class Scenario3:
    """The six supervisord of Scenario 3 (servers first, then consoles: the instance-list order)."""

    def __init__(self, scenario_dir: Path, controllers: bool = False,
                 controller_args: Sequence[str] = ()) -> None:
        self.dir = scenario_dir
        self.rules = str(scenario_dir / "etc" / "supvisors_rules.xml")
        self.servers = {nick: ScenarioSupervisord(scenario_dir, nick) for nick in SERVERS + CONSOLES}
        self.controllers = controllers
        if controllers:
            # every controller needs the whole list when it starts: ports first, then supervisord
            for server in self.servers.values():
                server.port = free_port(server.host)
                server.keep_port = True
            for server in self.servers.values():
                server.extra_env = {"SUPV_INSTANCES": self.instance_list, "SUPV_RULES": self.rules}
            write_controller(scenario_dir, controller_args)

    @property
    def instance_list(self) -> str:
        """The ``-i`` value: ``<server_1>127.0.0.11:PORT ...``."""
        return " ".join(server.spec for server in self.servers.values())

    def start(self, timeout: float = 30.0) -> Scenario3:
        """Start the six supervisord at once and wait until each answers RUNNING."""
        with ThreadPoolExecutor(len(self.servers)) as pool:
            futures = [pool.submit(server.start, timeout) for server in self.servers.values()]
            errors = [f.exception() for f in futures if f.exception() is not None]
        if errors:
            self.stop()
            raise errors[0]  # type: ignore[misc]
        return self

    def stop(self) -> None:
        """SIGTERM to every supervisord (they stop their programs), then wait; killpg/SIGKILL fallback."""
        for server in self.servers.values():
            server.terminate()
        for server in self.servers.values():
            server.stop()
