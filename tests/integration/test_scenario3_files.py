"""The files of use_cases/scenario_3 work with a real Supervisor.

A copy of the scenario is configured with ``configure`` (which runs ``supv breed``), its two
supervisord configuration files are loaded by Supervisor's own option parser for the six
instances, and one server and one console supervisord are started on free 127.0.0.1 ports to
check their programs over XML-RPC, including the check programs that wait for a data bus.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import socket
import subprocess
import sys
import xmlrpc.client
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SCENARIO = REPO / "use_cases" / "scenario_3"
#: upper bound of every wait of these tests (a bound against hangs, not a timing assertion)
DEADLINE = 30.0

SERVERS = ("server_1", "server_2", "server_3")
CONSOLES = ("console_1", "console_2", "console_3")
BUSES = {"common_data_bus": ["common_data_bus"], "scen3_internal_data_bus": ["scen3_internal_data_bus"]}
SRV_PROGRAMS = sorted(
    [
        "scen3_check_internal_data_bus",
        "scen3_check_common_data_bus",
        "scen3_item_manager",
        "scen3_track_manager",
        "scen3_system_health",
        "scen3_common_bus_interface",
    ]
)
HCI_PROGRAMS = sorted(["scen3_chart_view", "scen3_item_control", "scen3_check_internal_data_bus"])
HCI_GROUP_TEXT = (
    "[group:scen3_hci_{n:02d}]\n"
    "programs = scen3_chart_view,scen3_item_control,scen3_check_internal_data_bus\n"
    "\n"
)
RULES_SHA256 = "11ba0c576cfca0620acd689bbd5339638563fee1e9d90a08a7741a4f1766361a"
#: the files of etc/ once configured: the seed's tree plus the rules files (aliases, stereotypes) and the
#: inventory of the stereotype variant
CONFIGURED_TREE = sorted(
    [
        "common/group_services.ini",
        "console/console_1/group_scen3_hci_01.ini",
        "console/console_2/group_scen3_hci_02.ini",
        "console/console_3/group_scen3_hci_03.ini",
        "console/programs_console.ini",
        "server/group_server.ini",
        "supervisord_console.conf",
        "supervisord_server.conf",
        "supv.conf",
        "supvisors_rules.xml",
        "supvisors_rules_mc.xml",
    ]
)


def run_configure(scenario: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the scenario's configure with this interpreter's supv."""
    env = dict(os.environ)
    env.update(
        SUPV=f"{sys.executable} -m supv_cli",
        PYTHON=sys.executable,
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    )
    return subprocess.run(
        [str(scenario / "configure"), *args], env=env, capture_output=True, text=True, timeout=DEADLINE
    )


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A configured copy of the scenario, without the generated files of the source tree."""
    target = tmp_path_factory.mktemp("scen3") / "scenario_3"
    shutil.copytree(SCENARIO, target, ignore=shutil.ignore_patterns("run", "console", "__pycache__"))
    shutil.copytree(SCENARIO / "template_etc" / "console", target / "template_etc" / "console")
    result = run_configure(target)
    assert result.returncode == 0, result.stderr
    return target


def etc_files(scenario: Path) -> dict[str, bytes]:
    etc = scenario / "etc"
    return {path.relative_to(etc).as_posix(): path.read_bytes() for path in etc.rglob("*") if path.is_file()}


def instance_env(identifier: str, run: Path, port: int) -> dict[str, str]:
    """The environment contract of the scenario's supervisord files, on 127.0.0.1."""
    (run / identifier).mkdir(parents=True, exist_ok=True)
    return {
        "IDENTIFIER": identifier,
        "SCEN3_HOST": "127.0.0.1",
        "SCEN3_PORT": str(port),
        "SCEN3_RUN": str(run),
    }


# --- configure -------------------------------------------------------------------------------------------


def test_configure_gives_the_seed_tree(scenario: Path) -> None:
    files = etc_files(scenario)
    assert sorted(files) == CONFIGURED_TREE
    for n in (1, 2, 3):
        group_file = f"console/console_{n}/group_scen3_hci_{n:02d}.ini"
        assert files[group_file] == HCI_GROUP_TEXT.format(n=n).encode()
    programs = files["console/programs_console.ini"].decode()
    assert [line for line in programs.splitlines() if line.startswith("[")] == [
        "[program:scen3_chart_view]",
        "[program:scen3_item_control]",
        "[program:scen3_check_internal_data_bus]",
    ]
    assert "command = %(here)s/../../bin/chart_view.sh\n" in programs


def test_configure_twice_gives_the_same_files(scenario: Path) -> None:
    before = etc_files(scenario)
    result = run_configure(scenario)
    assert result.returncode == 0, result.stderr
    assert etc_files(scenario) == before


def test_configure_fewer_consoles_then_all_again(scenario: Path) -> None:
    before = etc_files(scenario)
    result = run_configure(scenario, "2")
    assert result.returncode == 0, result.stderr
    assert sorted(path for path in etc_files(scenario) if path.startswith("console/")) == [
        "console/console_1/group_scen3_hci_01.ini",
        "console/console_2/group_scen3_hci_02.ini",
        "console/programs_console.ini",
    ]
    assert not (scenario / "etc" / "console" / "console_3").exists()
    result = run_configure(scenario)
    assert result.returncode == 0, result.stderr
    assert etc_files(scenario) == before


@pytest.mark.parametrize("argument", ["4", "0", "x"])
def test_configure_refuses_a_bad_number_of_consoles(scenario: Path, argument: str) -> None:
    before = etc_files(scenario)
    result = run_configure(scenario, argument)
    assert result.returncode == 2
    assert result.stderr.startswith("configure: error: ")
    assert etc_files(scenario) == before


def test_the_rules_file_is_the_seed_one() -> None:
    # the rules file of the seed page (scenario_3.rst, "Here follows the resulting rules file"),
    # dedented by its 4 spaces: the users' reference, kept byte for byte
    text = (SCENARIO / "etc" / "supvisors_rules.xml").read_bytes()
    assert hashlib.sha256(text).hexdigest() == RULES_SHA256


# --- Supervisor's own parsing of the six instances --------------------------------------------------------


def load_instance(
    monkeypatch: pytest.MonkeyPatch, scenario: Path, identifier: str, run: Path, port: int
) -> tuple[Any, Any]:
    """Read the instance's supervisord file as supervisord and supervisorctl would."""
    from supervisor.options import ClientOptions, ServerOptions

    role = "server" if identifier.startswith("server") else "console"
    conf = scenario / "etc" / f"supervisord_{role}.conf"
    for name, value in instance_env(identifier, run, port).items():
        monkeypatch.setenv(name, value)
    server = ServerOptions()
    server.configfile = str(conf)
    server.here = str(conf.parent)
    section = server.read_config(str(conf))
    client = ClientOptions()
    client.realize(args=["-c", str(conf)])
    return section, client


@pytest.mark.parametrize("index, identifier", list(enumerate(SERVERS + CONSOLES, start=1)))
def test_supervisor_loads_every_instance(
    monkeypatch: pytest.MonkeyPatch, scenario: Path, tmp_path: Path, index: int, identifier: str
) -> None:
    port = 61000 + index
    section, client = load_instance(monkeypatch, scenario, identifier, tmp_path / "run", port)
    groups = {
        group.name: sorted(process.name for process in group.process_configs)
        for group in section.process_group_configs
    }
    expected = dict(BUSES)
    if identifier.startswith("server"):
        expected["scen3_srv"] = SRV_PROGRAMS
    else:
        expected[f"scen3_hci_{identifier[-1]:0>2}"] = HCI_PROGRAMS
    assert groups == expected
    assert section.identifier == identifier
    assert section.nodaemon is True
    assert section.pidfile == str(tmp_path / "run" / identifier / "supervisord.pid")
    assert [(c["host"], c["port"]) for c in section.server_configs] == [("127.0.0.1", port)]
    assert client.serverurl == f"http://127.0.0.1:{port}"
    for group in section.process_group_configs:
        for process in group.process_configs:
            script = process.command.split()[0]
            assert os.access(script, os.X_OK), script
            assert process.stdout_logfile.startswith(str(tmp_path / "run" / identifier) + os.sep)
            assert process.autostart is (group.name in BUSES)


# --- real supervisord ------------------------------------------------------------------------------------


class TimeoutTransport(xmlrpc.client.Transport):
    """An XML-RPC transport whose connections give up after a few seconds."""

    def make_connection(self, host: Any) -> http.client.HTTPConnection:
        connection = super().make_connection(host)
        connection.timeout = 10
        return connection


@dataclass
class Supervisord:
    process: subprocess.Popen[bytes]
    rpc: Any
    run: Path

    def info(self, namespec: str) -> dict[str, Any]:
        info: dict[str, Any] = self.rpc.supervisor.getProcessInfo(namespec)
        return info

    def log(self, namespec: str) -> str:
        return str(self.rpc.supervisor.readProcessStdoutLog(namespec, 0, 0))

    def wait_state(self, namespec: str, states: set[str]) -> dict[str, Any]:
        info: dict[str, Any] = wait_for(namespec, lambda: self.info(namespec),
                                        lambda info: info["statename"] in states, DEADLINE)[0]
        return info


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def start_supervisord(scenario: Path, tmp_path: Path) -> Iterator[Callable[..., Supervisord]]:
    """Start scenario supervisord instances; stop exactly those at the end, by pid."""
    started: list[subprocess.Popen[bytes]] = []

    def start(identifier: str, **extra_env: str) -> Supervisord:
        role = "server" if identifier.startswith("server") else "console"
        port = free_port()
        run = tmp_path / "run"
        env = {k: v for k, v in os.environ.items() if k not in ("SUPV_USERNAME", "SUPV_PASSWORD")}
        env.update(instance_env(identifier, run, port))
        env["SUPV_SUPERVISORCTL"] = f"{sys.executable} -m supervisor.supervisorctl"
        env.update(extra_env)
        conf = scenario / "etc" / f"supervisord_{role}.conf"
        with open(run / identifier / "console.txt", "wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "supervisor.supervisord", "-c", str(conf)],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        started.append(process)
        rpc: Any = xmlrpc.client.ServerProxy(f"http://127.0.0.1:{port}/RPC2", transport=TimeoutTransport())

        def state() -> str:
            if process.poll() is not None:
                output = (run / identifier / "console.txt").read_text()
                pytest.fail(f"supervisord {identifier} exited: {output}")
            try:
                return str(rpc.supervisor.getState()["statename"])
            except OSError:
                return "unreachable"

        wait_for(f"supervisord {identifier}", state, lambda name: name == "RUNNING", DEADLINE)
        return Supervisord(process, rpc, run / identifier)

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
    for process in started:
        try:
            process.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=DEADLINE)


def test_server_instance(start_supervisord: Callable[..., Supervisord]) -> None:
    # a short check timeout, to see a check give up; every check below starts with its bus settled
    server = start_supervisord("server_1", SCEN3_CHECK_TIMEOUT="2")
    infos = server.rpc.supervisor.getAllProcessInfo()
    assert sorted((info["group"], info["name"]) for info in infos) == sorted(
        [(group, name) for group, names in BUSES.items() for name in names]
        + [("scen3_srv", name) for name in SRV_PROGRAMS]
    )
    assert server.info("scen3_srv:scen3_item_manager")["stdout_logfile"] == str(
        server.run / "scen3_srv_scen3_item_manager.log"
    )
    for bus in BUSES:
        server.wait_state(bus, {"RUNNING"})

    # with its bus RUNNING, a check exits 0
    checks = {
        "scen3_check_internal_data_bus": "scen3_internal_data_bus",
        "scen3_check_common_data_bus": "common_data_bus",
    }
    for check, bus in checks.items():
        server.rpc.supervisor.startProcess(f"scen3_srv:{check}")
        info = server.wait_state(f"scen3_srv:{check}", {"EXITED", "FATAL"})
        assert (info["statename"], info["exitstatus"]) == ("EXITED", 0)
        assert f"{bus} is RUNNING" in server.log(f"scen3_srv:{check}")

    # with its bus stopped, a check gives up after SCEN3_CHECK_TIMEOUT and exits 1
    server.rpc.supervisor.stopProcess("common_data_bus")
    server.rpc.supervisor.startProcess("scen3_srv:scen3_check_common_data_bus")
    info = server.wait_state("scen3_srv:scen3_check_common_data_bus", {"EXITED", "FATAL"})
    assert (info["statename"], info["exitstatus"]) == ("EXITED", 1)
    log = server.log("scen3_srv:scen3_check_common_data_bus")
    assert "common_data_bus is not RUNNING after 2 s, giving up" in log

    # a long-running program logs its heartbeat and exits 0 on SIGTERM
    server.rpc.supervisor.startProcess("scen3_srv:scen3_item_manager")
    assert server.info("scen3_srv:scen3_item_manager")["statename"] == "RUNNING"
    wait_for("heartbeat of scen3_item_manager", lambda: server.log("scen3_srv:scen3_item_manager"),
             lambda text: "scen3_item_manager alive" in text, DEADLINE)
    server.rpc.supervisor.stopProcess("scen3_srv:scen3_item_manager")
    info = server.info("scen3_srv:scen3_item_manager")
    assert (info["statename"], info["exitstatus"]) == ("STOPPED", 0)


def test_console_instance(start_supervisord: Callable[..., Supervisord]) -> None:
    console = start_supervisord("console_2")
    infos = console.rpc.supervisor.getAllProcessInfo()
    assert sorted((info["group"], info["name"]) for info in infos) == sorted(
        [(group, name) for group, names in BUSES.items() for name in names]
        + [("scen3_hci_02", name) for name in HCI_PROGRAMS]
    )
    assert console.rpc.supervisor.getIdentification() == "console_2"
    assert console.info("scen3_hci_02:scen3_chart_view")["stdout_logfile"] == str(
        console.run / "scen3_hci_02_scen3_chart_view.log"
    )

    # the check waits while its bus is stopped, and exits 0 once the bus is RUNNING
    console.wait_state("scen3_internal_data_bus", {"RUNNING"})
    console.rpc.supervisor.stopProcess("scen3_internal_data_bus")
    check = "scen3_hci_02:scen3_check_internal_data_bus"
    console.rpc.supervisor.startProcess(check)
    wait_for(check, lambda: console.log(check), lambda text: "scen3_internal_data_bus is STOPPED" in text, DEADLINE)
    assert console.info(check)["statename"] == "RUNNING"
    console.rpc.supervisor.startProcess("scen3_internal_data_bus")
    info = console.wait_state(check, {"EXITED", "FATAL"})
    assert (info["statename"], info["exitstatus"]) == ("EXITED", 0)
    assert console.log(check).rstrip().endswith("scen3_internal_data_bus is RUNNING")
