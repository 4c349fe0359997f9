"""The failover controller (``supv run-plan --watch``) on real supervisord.

Scenario 3 with a controller on each server, deployed as ``./scenario up`` does (the launcher's
``supv_controller`` program, SUPV_INSTANCES / SUPV_RULES in supervisord's environment): a server killed
with its programs, a frozen server, the acting controller's server killed, killed servers started again,
a crashed RESTART_PROCESS program, a lost console. Then STOP_APPLICATION and RESTART_APPLICATION on a
small cluster of our own, with the controller run alone as a subprocess.

The Scenario 3 tests share one cluster (it takes a few seconds to start) and run in file order; each
starts from a settled cluster (every scen3_srv service RUNNING exactly once) and leaves one. Deadlines
are generous (the controller needs about 2 s here): they bound the wait, they do not measure it (see
bench/failover.py); each assertion message says how long it took.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

import pytest

from supv_cli.model.instances import InstanceList
from supv_cli.model.snapshot import ProcessState
from tests.conftest import SupervisordFactory
from tests.support import waiting
from tests.support.calls import take_snapshot
from tests.support.cli import run_supv
from tests.support.scenario3 import SERVERS, Scenario3, ScenarioSupervisord, prepare, supv_env
from tests.support.supervisord import Supervisord

pytestmark = pytest.mark.integration

T = TypeVar("T")

SRV = "scen3_srv"
#: the long-running programs of scen3_srv (RESTART_PROCESS); the two check programs run once
SERVICES = tuple(f"{SRV}:{name}" for name in ("scen3_common_bus_interface", "scen3_item_manager",
                                              "scen3_system_health", "scen3_track_manager"))
HCI = tuple(f"scen3_hci_0{n}" for n in (1, 2, 3))
CONTROLLER = "supv_controller:supv_controller"
#: how long a failover may take before the test fails (it takes about 2 s)
DEADLINE = 15.0
#: how long "nothing happens" is watched: several controller cycles (0.5 s each)
HOLD = 2.5

#: namespec -> the nicks where it is RUNNING (reachable instances only)
Placement = dict[str, list[str]]


# ============================================================================================= helpers
def wait_for(what: str, probe: Callable[[], T], done: Callable[[T], bool], deadline: float = DEADLINE,
             every: float = 0.1) -> tuple[T, float]:
    """:func:`tests.support.waiting.wait_for` with this file's deadline."""
    return waiting.wait_for(what, probe, done, deadline, every)


def hold(what: str, probe: Callable[[], T], ok: Callable[[T], bool], seconds: float = HOLD) -> T:
    """:func:`tests.support.waiting.hold` for this file's HOLD (several controller cycles)."""
    return waiting.hold(what, probe, ok, seconds)


def snapshot_of(cluster: Scenario3, down: tuple[str, ...] = ()) -> Any:
    """A snapshot of the instances expected to answer (all but ``down``: a frozen one would cost a
    timeout per probe); taken again, a few times, if one of them did not answer."""
    instances = [i for i in InstanceList.parse(cluster.instance_list.split()) if i.nick not in down]
    for _ in range(3):
        snapshot = take_snapshot(instances, timeout=2)
        if not snapshot.unreachable:
            break
    return snapshot


def running(cluster: Scenario3, prefix: str = "scen3_", down: tuple[str, ...] = ()) -> Placement:
    """Where every program of the Scenario 3 applications is RUNNING now (on the instances not ``down``)."""
    found: Placement = {}
    for snap in snapshot_of(cluster, down):
        for info in snap.processes:
            if info.group.startswith(prefix) and info.state is ProcessState.RUNNING:
                found.setdefault(info.namespec, []).append(snap.instance.nick)
    return found


def pids(cluster: Scenario3, down: tuple[str, ...] = ()) -> dict[tuple[str, str], int]:
    """(nick, namespec) -> pid of every RUNNING Scenario 3 program."""
    return {(snap.instance.nick, info.namespec): info.pid for snap in snapshot_of(cluster, down)
            for info in snap.processes
            if info.group.startswith("scen3_") and info.state is ProcessState.RUNNING}


def services_once(placement: Placement) -> bool:
    return all(len(placement.get(ns, [])) == 1 for ns in SERVICES)


def settle(cluster: Scenario3) -> Placement:
    """Wait until every scen3_srv service runs exactly once (the state each test starts from)."""
    placement, _ = wait_for("every scen3_srv service RUNNING exactly once", lambda: running(cluster),
                            services_once, deadline=40.0)
    return placement


def on(placement: Placement, nick: str) -> list[str]:
    """The scen3_srv services RUNNING on ``nick``."""
    return sorted(ns for ns in SERVICES if nick in placement.get(ns, []))


def moved_away(namespecs: list[str], nick: str) -> Callable[[Placement], bool]:
    """Each of ``namespecs`` RUNNING on exactly one instance, not ``nick``."""
    return lambda placement: all(len(placement.get(ns, [])) == 1 and placement[ns] != [nick]
                                 for ns in namespecs)


def controller_states(cluster: Scenario3) -> dict[str, Any]:
    """``supv instances --json``: nick -> the state line of the controller running there."""
    result = run_supv("instances", "-i", cluster.instance_list, "-r", cluster.rules, "--json")
    assert result.exit_code == 0, (result.exit_code, result.stderr)
    return {row["nick"]: row["controller"] for row in json.loads(result.stdout) if row["controller"]}


def acting(states: dict[str, Any]) -> list[str]:
    return [nick for nick, state in states.items() if state.get("acting")]


def start_again(server: ScenarioSupervisord) -> None:
    """Start a killed supervisord again (same port) and wait until its controller, if any, is RUNNING."""
    server.start()
    if server.nick in SERVERS:
        server.wait_process(CONTROLLER, ["RUNNING"], timeout=DEADLINE)


def controller_log(cluster: Scenario3, nick: str) -> list[tuple[datetime, str]]:
    """The stderr log of the controller of ``nick`` (supervisord writes it in the run folder), stamped."""
    lines = []
    path = cluster.dir / "run" / nick / "supv_controller.log"
    for line in path.read_text(errors="replace").splitlines():
        stamp, _, rest = line.partition(" ")
        try:
            lines.append((datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f"), rest))
        except ValueError:
            continue
    return lines


def since(log: list[tuple[datetime, str]], start: datetime) -> list[tuple[datetime, str]]:
    # the log has whole seconds: a line of the same second as ``start`` counts
    return [(stamp, text) for stamp, text in log if stamp >= start.replace(microsecond=0)]


# ============================================================================================= Scenario 3
@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario3]:
    """Scenario 3 with a controller on each server; the controllers start every application."""
    scenario = Scenario3(prepare(tmp_path_factory.mktemp("failover") / "scenario_3"), controllers=True)
    scenario.start()
    try:
        placement = settle(scenario)
        wait_for("every scen3_hci application RUNNING", lambda: running(scenario, "scen3_hci"),
                 lambda p: len(p) == 6, deadline=30.0)
        assert sorted(acting(controller_states(scenario))) == ["server_1"], placement
        yield scenario
    finally:
        scenario.stop()


DOWN_2 = ("server_2",)


def test_killed_server_programs_run_elsewhere_then_it_comes_back(cluster: Scenario3) -> None:
    before = settle(cluster)
    lost = on(before, "server_2")
    assert lost, f"LESS_LOADED puts a scen3_srv service on each server: {before}"
    untouched = {key: pid for key, pid in pids(cluster).items() if key[0] != "server_2"}
    cluster.servers["server_2"].power_cut()
    try:
        after, took = wait_for(f"{lost} RUNNING on server_1/server_3", lambda: running(cluster, down=DOWN_2),
                               moved_away(lost, "server_2"))
        assert all(after[ns][0] in ("server_1", "server_3") for ns in lost), after
        # what ran elsewhere was left alone (same pids)
        still = {key: pid for key, pid in pids(cluster, DOWN_2).items() if key in untouched}
        assert still == untouched, f"after {took:.1f}s"
    finally:
        start_again(cluster.servers["server_2"])
    # server_2 is back with every program STOPPED: nothing runs twice, nothing moves back
    hold("every service once, none on server_2", lambda: running(cluster),
         lambda p: services_once(p) and not on(p, "server_2"))


def test_frozen_server_programs_run_elsewhere_and_the_controller_keeps_going(cluster: Scenario3) -> None:
    before = settle(cluster)
    nick = max(("server_2", "server_3"), key=lambda n: len(on(before, n)))   # not the acting controller's
    frozen = on(before, nick)
    assert frozen, before
    server = cluster.servers[nick]
    started = datetime.now()
    server.sigstop()
    try:
        after, took = wait_for(f"{frozen} of the frozen {nick} RUNNING elsewhere",
                               lambda: running(cluster, down=(nick,)), moved_away(frozen, nick))
        # still frozen: a second copy of a service started by hand is a conflict the controller must see
        # and settle (infanticide: the younger copy is stopped), so its cycles go on with a hung instance
        target = next(ns for ns in SERVICES if ns not in frozen)
        home = after[target][0]
        other = next(n for n in SERVERS if n not in (home, nick))
        proxy = cluster.servers[other].proxy(5)
        proxy.supervisor.startProcess(target, False)   # returns once spawned: STARTING
        _, settled = wait_for(f"the copy of {target} started on {other} stopped",
                              lambda: proxy.supervisor.getProcessInfo(target)["statename"],
                              lambda state: state == "STOPPED")
        assert running(cluster, down=(nick,)).get(target) == [home]
        log = since(controller_log(cluster, "server_1"), started)
        texts = "\n".join(text for _, text in log)
        assert f"lost       {nick}" in texts and f"conciliate {target}" in texts, texts
        stamps = [started.replace(microsecond=0)] + [stamp for stamp, _ in log] + [datetime.now()]
        gap = max((b - a).total_seconds() for a, b in zip(stamps, stamps[1:]))
        assert gap <= 6, f"the acting controller was silent {gap:.0f}s while {nick} was frozen:\n{texts}"
    finally:
        server.sigcont()
    # the woken server still runs its programs: every copy but one is stopped (the oldest is kept)
    woke, conciliated = wait_for("every service on exactly one instance after SIGCONT",
                                 lambda: running(cluster), services_once)
    assert on(woke, nick) == frozen, (woke, f"failover {took:.1f}s, conflict {settled:.1f}s, "
                                            f"conciliation {conciliated:.1f}s")
    hold("every service once after conciliation", lambda: running(cluster), services_once)


def test_acting_controller_server_killed_a_standby_takes_over(cluster: Scenario3) -> None:
    before = settle(cluster)
    assert acting(controller_states(cluster)) == ["server_1"]
    lost = on(before, "server_1")
    assert lost, before
    cluster.servers["server_1"].power_cut()
    try:
        _, took = wait_for(f"{lost} of server_1 RUNNING elsewhere",
                           lambda: running(cluster, down=("server_1",)), moved_away(lost, "server_1"))
        states, _ = wait_for("the controller of server_2 acting, server_1 lost",
                             lambda: controller_states(cluster),
                             lambda s: acting(s) == ["server_2"] and "server_1" in s["server_2"]["lost"])
        assert set(states) == {"server_2", "server_3"} and not states["server_3"]["acting"], states
        assert states["server_3"]["leader"] == "server_2", states
    finally:
        start_again(cluster.servers["server_1"])
    # the first server of the list leads again; its programs stay where they were moved
    states, _ = wait_for("the controller of server_1 acting again", lambda: controller_states(cluster),
                         lambda s: acting(s) == ["server_1"] and set(s) == set(SERVERS))
    hold(f"every service once, none back on server_1 (failover took {took:.1f}s)", lambda: running(cluster),
         lambda p: services_once(p) and not on(p, "server_1"))


def test_crashed_restart_process_program_is_left_to_supervisor(cluster: Scenario3) -> None:
    before = settle(cluster)
    target = f"{SRV}:scen3_track_manager"
    nick = before[target][0]
    server = cluster.servers[nick]
    pid = server.proxy().supervisor.getProcessInfo(target)["pid"]
    os.killpg(pid, signal.SIGKILL)   # the program and its children: a crash (autorestart=unexpected)
    _, took = wait_for(f"{target} RUNNING again on {nick}",
                       lambda: server.proxy().supervisor.getProcessInfo(target),
                       lambda info: info["statename"] == "RUNNING" and info["pid"] != pid)
    hold(f"{target} only on {nick} (back after {took:.1f}s)", lambda: running(cluster),
         lambda p: p.get(target) == [nick] and services_once(p))


def test_lost_console_moves_nothing(cluster: Scenario3) -> None:
    settle(cluster)
    before = pids(cluster)
    assert {ns for nick, ns in before if nick == "console_2"} >= {"scen3_hci_02:scen3_chart_view",
                                                                  "scen3_hci_02:scen3_item_control"}
    started = datetime.now()
    cluster.servers["console_2"].power_cut()
    try:
        _, took = wait_for("console_2 lost for the acting controller", lambda: controller_states(cluster),
                           lambda s: "console_2" in s.get("server_1", {}).get("lost", []))
        after = hold("nothing restarted", lambda: pids(cluster, down=("console_2",)),
                     lambda now: not any(ns.startswith("scen3_hci_02") for _, ns in now))
        elsewhere = {key: pid for key, pid in before.items() if key[0] != "console_2"}
        assert after == elsewhere, f"lost in {took:.1f}s"
        texts = [text for _, text in since(controller_log(cluster, "server_1"), started)]
        decision = "decision   scen3_hci_02: CONTINUE (lost console_2)"
        assert any(text.startswith(decision) for text in texts), texts
    finally:
        start_again(cluster.servers["console_2"])


def test_frozen_console_is_probed_lazily_still_lost_and_moves_nothing(cluster: Scenario3) -> None:
    # a console runs nothing the controller would act on (its HCI has CONTINUE): the acting controller
    # probes it every 5 s, not every second (issue 18); frozen, it is still noticed and declared lost
    settle(cluster)
    before = pids(cluster)
    console = cluster.servers["console_3"]
    started = datetime.now()
    console.sigstop()
    try:
        _, took = wait_for("console_3 lost for the acting controller", lambda: controller_states(cluster),
                           lambda s: "console_3" in s.get("server_1", {}).get("lost", []), deadline=30.0)
        after = hold("nothing restarted", lambda: pids(cluster, down=("console_3",)),
                     lambda now: not any(ns.startswith("scen3_hci_03") for _, ns in now))
        elsewhere = {key: pid for key, pid in before.items() if key[0] != "console_3"}
        assert {key: pid for key, pid in after.items() if key in elsewhere} == elsewhere, f"lost in {took:.1f}s"
        texts = [text for _, text in since(controller_log(cluster, "server_1"), started)]
        assert any(text.startswith("lost       console_3") and "timeout" in text for text in texts), texts
        assert any(text.startswith("decision   scen3_hci_03: CONTINUE (lost console_3)") for text in texts), texts
    finally:
        console.sigcont()
    # woken, it runs its HCI as before: nothing to conciliate, nothing moved
    wait_for("console_3 answering the acting controller again", lambda: controller_states(cluster),
             lambda s: "console_3" not in s.get("server_1", {}).get("lost", []), deadline=30.0)
    own = {key: pid for key, pid in before.items() if key[0] == "console_3"}
    assert {key: pid for key, pid in pids(cluster).items() if key[0] == "console_3"} == own, own


# ============================================================================================= strategies
STRATEGY_RULES = """<?xml version="1.0" encoding="UTF-8"?>
<root>
  <application name="app">
    <start_sequence>1</start_sequence>
    <programs>
      <program name="crasher"><start_sequence>1</start_sequence>
        <running_failure_strategy>{strategy}</running_failure_strategy></program>
      <program name="peer"><start_sequence>2</start_sequence></program>
    </programs>
  </application>
</root>
"""


@pytest.fixture
def solo_controller(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start ``supv run-plan --watch`` as a subprocess (not started by a supervisord of the list: it acts
    alone); stopped by pid (SIGTERM, which must exit 0) at the end."""
    started: list[subprocess.Popen[bytes]] = []

    def start(*args: str) -> subprocess.Popen[bytes]:
        env = {k: v for k, v in supv_env().items() if not k.startswith("SUPERVISOR_")}
        with open(tmp_path / "controller.out", "ab") as out, open(tmp_path / "controller.log", "ab") as err:
            process = subprocess.Popen([sys.executable, "-m", "supv_cli", "run-plan", "--watch", *args],
                                       stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
            raise
        log = (tmp_path / "controller.log").read_text(errors="replace")
        assert code == 0, f"the controller exited {code} on SIGTERM:\n{log}"


def strategy_cluster(tmp_path: Path, supervisord: SupervisordFactory, solo_controller: Callable[..., Any],
                     strategy: str) -> Supervisord:
    """One supervisord with app = crasher (stage 1) + peer (stage 2), started by a solo controller."""
    programs = {name: {"command": "sleep 1000", "autostart": False, "autorestart": False, "startsecs": 1}
                for name in ("crasher", "peer")}
    server = supervisord(programs=programs, groups={"app": ["crasher", "peer"]})
    rules = tmp_path / "rules.xml"
    rules.write_text(STRATEGY_RULES.format(strategy=strategy))
    solo_controller("-i", server.spec, "-r", str(rules))
    for name in ("app:crasher", "app:peer"):       # the automatic start of the never-started application
        server.wait_process(name, ["RUNNING"], timeout=DEADLINE)
    return server


def test_stop_application_on_a_crash(tmp_path: Path, supervisord: SupervisordFactory,
                                     solo_controller: Callable[..., Any]) -> None:
    server = strategy_cluster(tmp_path, supervisord, solo_controller, "STOP_APPLICATION")
    os.killpg(server.proxy().supervisor.getProcessInfo("app:crasher")["pid"], signal.SIGKILL)
    server.wait_process("app:peer", ["STOPPED"], timeout=DEADLINE)
    log = (tmp_path / "controller.log").read_text()
    assert "STOP_APPLICATION" in log, log
    hold("app stays stopped",
         lambda: {i["name"]: i["statename"] for i in server.proxy().supervisor.getAllProcessInfo()},
         lambda states: states == {"crasher": "EXITED", "peer": "STOPPED"})


def test_restart_application_on_a_crash(tmp_path: Path, supervisord: SupervisordFactory,
                                        solo_controller: Callable[..., Any]) -> None:
    server = strategy_cluster(tmp_path, supervisord, solo_controller, "RESTART_APPLICATION")
    before = {i["name"]: i["pid"] for i in server.proxy().supervisor.getAllProcessInfo()}
    os.killpg(before["crasher"], signal.SIGKILL)

    def infos() -> dict[str, tuple[str, int]]:
        return {i["name"]: (i["statename"], i["pid"]) for i in server.proxy().supervisor.getAllProcessInfo()}

    after, took = wait_for("app stopped then started again (new pids)", infos,
                           lambda now: all(now[n][0] == "RUNNING" and now[n][1] != before[n] for n in before))
    log = (tmp_path / "controller.log").read_text()
    assert "RESTART_APPLICATION" in log, log
    # stopped before started: the peer's stop comes before the crasher's new start (supervisord's own log)
    events = [line.split(" ", 3)[-1] for line in server.log_path.read_text().splitlines()]
    stopped = max(i for i, e in enumerate(events) if e.startswith("stopped: peer"))
    spawned = [i for i, e in enumerate(events) if e.startswith("spawned: 'crasher'")]
    assert len(spawned) == 2 and stopped < spawned[1], (events, f"restarted in {took:.1f}s")
