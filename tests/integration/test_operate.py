"""Operating the cluster on real supervisord: wait racing a run-plan, start/stop/restart of processes,
restart-plan and the wait_exit rerun, conflicts made by hand and conciliated, the controllers held and
released around a killed server.

One module-scoped cluster (3 servers + 2 consoles, each on its own loopback address, hence its own
node for the load cap); the tests run in file order and each leaves the cluster as the next expects it
(the last one kills server_3).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from supv_cli.model.instances import InstanceList
from supv_cli.model.snapshot import ProcessState
from tests.support.calls import take_snapshot
from tests.support.cli import run_supv
from tests.support.inventory_cluster import InventoryCluster, sleeper
from tests.support.scenario3 import ROOT, supv_env
from tests.support.supervisord import Supervisord
from tests.support.waiting import hold, wait_for

pytestmark = pytest.mark.integration

SERVERS = ("server_1", "server_2", "server_3")
CONSOLES = ("console_1", "console_2")
SERVICES = ("alpha", "beta", "gamma")

RULES = """<?xml version="1.0" encoding="UTF-8"?>
<root>
  <application name="svc">
    <start_sequence>1</start_sequence><stop_sequence>1</stop_sequence>
    <starting_strategy>LESS_LOADED</starting_strategy>
    <programs>
      <program name="check"><identifiers>server_1</identifiers><start_sequence>1</start_sequence>
        <required>true</required><wait_exit>true</wait_exit></program>
      <program name="alpha"><identifiers>server_1,server_2,server_3</identifiers><start_sequence>2</start_sequence>
        <expected_loading>30</expected_loading></program>
      <program name="beta"><identifiers>server_1,server_2,server_3</identifiers><start_sequence>2</start_sequence>
        <expected_loading>30</expected_loading></program>
      <program name="gamma"><identifiers>server_3,server_2</identifiers><start_sequence>3</start_sequence>
        <expected_loading>30</expected_loading><running_failure_strategy>RESTART_PROCESS</running_failure_strategy>
      </program>
    </programs>
  </application>
  <application name="ui">
    <start_sequence>2</start_sequence>
    <programs>
      <program name="view"><identifiers>console_1,console_2</identifiers><start_sequence>1</start_sequence>
        <expected_loading>60</expected_loading></program>
      <program name="heavy"><identifiers>console_1,console_2</identifiers><expected_loading>60</expected_loading>
      </program>
      <program name="heavy_b"><identifiers>console_1,console_2</identifiers><expected_loading>60</expected_loading>
      </program>
    </programs>
  </application>
</root>
"""


class Cluster(InventoryCluster):
    """Five supervisord, the rules, the inventory the controllers read, and the supv arguments."""

    def __init__(self, root: Path) -> None:
        super().__init__(root, RULES)
        controller = {"command": f"{sys.executable} -m supv_cli run-plan --watch --no-autostart -c {self.inventory} "
                                 "--interval 0.3 --startup-grace 1",
                      "startsecs": 1, "autostart": False, "autorestart": True, "stopwaitsecs": 3,
                      "environment": f'PYTHONPATH="{ROOT}"'}
        check = {"command": "sh -c 'sleep 0.4'", "startsecs": 0, "autostart": False, "autorestart": False}
        for index, nick in enumerate(SERVERS + CONSOLES, start=1):
            if nick in SERVERS:
                programs = {"check": check, **{name: sleeper() for name in SERVICES},
                            "supv_controller": controller}
                groups = {"svc": ["check", *SERVICES]}
            else:
                programs = {"view": sleeper(), "heavy": sleeper(), "heavy_b": sleeper()}
                groups = {"ui": ["view", "heavy", "heavy_b"]}
            self.servers[nick] = Supervisord(root / nick, nick=nick, programs=programs, groups=groups,
                                             host=f"127.0.5.{index}")

    def states(self, skip: tuple[str, ...] = ()) -> dict[str, dict[str, Any]]:
        """nick -> namespec -> ProcessInfo (the instances not in ``skip`` must answer)."""
        instances = [i for i in InstanceList.parse([f"<{n}>{s.url}" for n, s in self.servers.items()])
                     if i.nick not in skip]
        snapshot = take_snapshot(instances, timeout=3)
        assert not snapshot.unreachable, [s.reason for s in snapshot.unreachable]
        return {snap.instance.nick: {info.namespec: info for info in snap.processes} for snap in snapshot}

    def running(self, namespec: str, skip: tuple[str, ...] = ()) -> list[str]:
        """The nicks where ``namespec`` is RUNNING."""
        return [nick for nick, infos in self.states(skip).items()
                if namespec in infos and infos[namespec].state is ProcessState.RUNNING]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    made = Cluster(tmp_path_factory.mktemp("operate"))
    try:
        made.start()
        yield made
    finally:
        made.stop()


def supv(*args: str, code: int | None = 0) -> Any:
    result = run_supv(*args)
    if code is not None:
        assert result.exit_code == code, (args, result.exit_code, result.stdout, result.stderr)
    return result


def report(*args: str, code: int = 0) -> dict[str, Any]:
    return json.loads(supv(*args, "--json", code=code).stdout)


def outcomes(data: dict[str, Any]) -> dict[tuple[str, str], tuple[str, str | None]]:
    """(action, namespec) -> (outcome, instance) of a run report."""
    return {(r["action"], f"{r['application_name']}:{r['process_name']}"): (r["outcome"], r["instance"])
            for r in data["processes"]}


def supv_process(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "supv_cli", *args], env=supv_env(), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


# ============================================================================================= wait
def test_wait_times_out_then_races_a_run_plan(cluster: Cluster) -> None:
    as_json = json.loads(supv("wait", *cluster.args, "ui", "--timeout", "0", "--json", code=1).stdout)
    assert (as_json["result"], [m["namespec"] for m in as_json["missing"]]) == ("timeout", ["ui:view"])
    timed_out = supv("wait", *cluster.args, "--timeout", "0.3", code=1)
    assert "svc:alpha: should be RUNNING on server_" in timed_out.stderr
    assert "svc:check: should be EXITED with an expected code on server_1; now STOPPED" in timed_out.stderr

    waiter = supv_process("wait", *cluster.args, "--timeout", "60")
    time.sleep(0.3)  # wait is polling before anything starts
    runner = supv_process("run-plan", *cluster.args, "-q")
    assert waiter.wait(90) == 0, waiter.stderr.read() if waiter.stderr else ""
    # the instant wait returned: every program the plan starts is RUNNING, the check EXITED as expected
    states = cluster.states()
    for name in SERVICES:
        assert [n for n in SERVERS if states[n][f"svc:{name}"].state is ProcessState.RUNNING] != [], name
    assert [n for n in CONSOLES if states[n]["ui:view"].state is ProcessState.RUNNING] != []
    assert states["server_1"]["svc:check"].state is ProcessState.EXITED
    assert runner.wait(90) == 0
    ready = report("wait", *cluster.args, "svc", "ui", "--timeout", "5")
    assert (ready["result"], ready["missing"]) == ("ready", [])


# ============================================================================================= processes
def test_start_stop_restart_processes(cluster: Cluster) -> None:
    args = cluster.args
    already = report("start", *args, "svc:alpha")
    assert outcomes(already)[("start", "svc:alpha")][0] == "ALREADY"

    before = cluster.running("svc:beta")
    stopped = report("stop", *args, "svc:beta")
    assert outcomes(stopped)[("stop", "svc:beta")] == ("STOPPED", before[0])
    assert cluster.running("svc:beta") == []

    dry = report("start", *args, "svc:beta", "--dry-run", "--strategy", "MOST_LOADED")
    planned = dry["stages"][0]["applications"][0]["stages"][0]["processes"][0]
    assert (planned["action"], planned["instance"] in SERVERS) == ("start", True)
    assert cluster.running("svc:beta") == []          # a dry run changes nothing
    started = report("start", *args, "svc:beta", "--strategy", "MOST_LOADED")
    assert outcomes(started)[("start", "svc:beta")] == ("RUNNING", planned["instance"])
    assert cluster.running("svc:beta") == [planned["instance"]]

    pid = cluster.states()[planned["instance"]]["svc:beta"].pid
    restarted = report("restart", *args, "svc:beta")
    rows = [(r["action"], r["outcome"]) for r in restarted["processes"]]
    assert (restarted["kind"], rows) == ("restart", [("stop", "STOPPED"), ("start", "RUNNING")])
    where = cluster.running("svc:beta")
    assert len(where) == 1 and cluster.states()[where[0]]["svc:beta"].pid != pid

    # the load cap: view (60) runs on one console, heavy (60) goes to the other, heavy_b fits nowhere
    view = cluster.running("ui:view")
    heavy = report("start", *args, "ui:heavy")
    assert outcomes(heavy)[("start", "ui:heavy")][1] not in view
    no_room = report("start", *args, "ui:heavy_b", code=1)
    row = no_room["processes"][0]
    assert row["outcome"] == "NO_RESOURCE" and "exceeds 100" in row["detail"], row
    supv("stop", *args, "ui:heavy")

    unknown = supv("start", *args, "svc:nope", code=2)
    assert "unknown process 'svc:nope'" in unknown.stderr and "alpha" in unknown.stderr
    bare = supv("start", *args, "svc", code=2)
    assert "APP:PROC" in bare.stderr and "run-plan" in bare.stderr


# ============================================================================================= applications
def test_restart_plan_runs_the_check_again(cluster: Cluster) -> None:
    check_before = cluster.states()["server_1"]["svc:check"]
    pids = {n: cluster.states()[w]["svc:" + n].pid for n in SERVICES for w in cluster.running("svc:" + n)}
    dry = report("restart-plan", *cluster.args, "svc", "--dry-run")
    actions = [(p["action"], p["process_name"]) for s in dry["stages"] for a in s["applications"]
               for st in a["stages"] for p in st["processes"]]
    assert (dry["kind"], actions[-1]) == ("restart", ("start", "gamma"))
    assert ("start", "check") in actions and actions.index(("stop", "alpha")) < actions.index(("start", "check"))
    assert {n: cluster.states()[w]["svc:" + n].pid for n in SERVICES for w in cluster.running("svc:" + n)} == pids
    time.sleep(1.1)  # supervisord's start/stop times are whole seconds
    data = report("restart-plan", *cluster.args, "svc")
    rows = outcomes(data)
    assert data["kind"] == "restart"
    assert {rows[("stop", f"svc:{n}")][0] for n in SERVICES} == {"STOPPED"}
    assert rows[("start", "svc:check")][0] == "EXITED"
    assert {rows[("start", f"svc:{n}")][0] for n in SERVICES} == {"RUNNING"}
    actions = [r["action"] for r in data["processes"]]
    assert actions == sorted(actions, key=lambda a: a != "stop")      # every stop before every start
    assert cluster.states()["server_1"]["svc:check"].start > check_before.start


def test_run_plan_reruns_the_check_only_when_the_application_is_stopped(cluster: Cluster) -> None:
    args = cluster.args
    supv("stop", *args, "svc:alpha")
    partly = outcomes(report("run-plan", *args, "svc"))
    assert partly[("start", "svc:check")][0] == "ALREADY"
    assert partly[("start", "svc:alpha")][0] == "RUNNING"
    report("stop-plan", *args, "svc")
    fresh = outcomes(report("run-plan", *args, "svc"))
    assert fresh[("start", "svc:check")][0] == "EXITED"
    assert {fresh[("start", f"svc:{n}")][0] for n in SERVICES} == {"RUNNING"}


# ============================================================================================= conflicts
def test_conflict_made_by_hand_is_conciliated(cluster: Cluster) -> None:
    args = cluster.args
    assert report("conflicts", *args) == []
    home = cluster.running("svc:alpha")[0]
    other = next(n for n in SERVERS if n != home)
    time.sleep(1.1)  # the copy started by hand is younger by at least a second
    done = subprocess.run([sys.executable, "-m", "supervisor.supervisorctl", "-s", cluster.servers[other].url,
                           "start", "svc:alpha"], capture_output=True, text=True, timeout=30)
    assert "started" in done.stdout, done.stdout + done.stderr
    found = report("conflicts", *args)
    assert found == [{"application_name": "svc", "process_name": "alpha",
                      "instances": [n for n in SERVERS if n in (home, other)]}]
    supv("conflicts", *args, "--check", code=1)
    plain = supv("conflicts", *args, "--format", "plain").stdout.splitlines()
    assert plain[0].split() == ["Application", "Process", "Instances"] and plain[1].split()[:2] == ["svc", "alpha"]

    dry = report("conciliate", *args, "--dry-run")
    stops = [p for s in dry["stages"] for a in s["applications"] for _, st in enumerate(a["stages"])
             for p in st["processes"]]
    assert [(p["process_name"], p["instance"]) for p in stops] == [("alpha", other)]
    data = report("conciliate", *args)                # infanticide: the copy started last goes
    assert outcomes(data) == {("stop", "svc:alpha"): ("STOPPED", other)}
    assert cluster.running("svc:alpha") == [home]
    supv("conflicts", *args, "--check")
    assert report("conciliate", *args)["processes"] == []
    # an instance that does not answer may run a copy: "no conflict" cannot be said (exit 3)
    blind = ("-i", " ".join([server.spec for server in cluster.servers.values()] + ["<dead>127.0.0.1:1"]),
             "-r", str(cluster.rules))
    assert report("conflicts", *blind) == []                              # the view itself is fine
    unseen = supv("conflicts", *blind, "--check", code=3)
    assert unseen.stderr.strip().endswith("dead did not answer: a conflict with a copy running there cannot "
                                          "be seen"), unseen.stderr
    assert report("conciliate", *blind, code=3)["processes"] == []


# ============================================================================================= controllers
def test_hold_then_kill_a_server_nothing_moves_release_moves_it(cluster: Cluster) -> None:
    args = cluster.args
    # the released controllers never saw server_3: they re-derive gamma from the rules only while its
    # application runs on a survivor (an application entirely stopped may have been stopped on purpose,
    # docs/failover.md). In file order svc already runs; run alone, this test starts it itself
    report("run-plan", *args, "svc")
    moved = report("restart", *args, "svc:gamma", "--strategy", "CONFIG")
    assert outcomes(moved)[("start", "svc:gamma")] == ("RUNNING", "server_3")
    assert [n for n in SERVICES if cluster.running(f"svc:{n}", skip=("server_3",))] != []
    released = report("controller", "release", *args)
    assert {(r["instance"], r["outcome"]) for r in released["controllers"]} == {(n, "RUNNING") for n in SERVERS}
    roles = {"server_1": "acting", "server_2": "standby", "server_3": "standby"}
    # each controller writes its first state line when it has looked once: on a busy machine the
    # standbys may still be starting when server_1 already acts
    status, _ = wait_for("a controller acts, the others stand by",
                         lambda: json.loads(run_supv("controller", "status", *args, "--json").stdout),
                         lambda s: {c["instance"]: c["role"] for c in s["controllers"]} == roles, deadline=20.0)
    assert status["acting"] == "server_1"

    dry = report("controller", "hold", *args, "--dry-run")
    assert {(r["instance"], r["action"]) for r in dry["controllers"]} == {(n, "stop") for n in SERVERS}
    assert json.loads(supv("controller", "status", *args, "--json").stdout)["acting"] == "server_1"
    held = report("controller", "hold", *args)
    assert {(r["instance"], r["outcome"]) for r in held["controllers"]} == {(n, "STOPPED") for n in SERVERS}
    status = json.loads(supv("controller", "status", *args, "--json", code=1).stdout)
    assert {c["role"] for c in status["controllers"]} == {"held"}

    cluster.servers["server_3"].kill9()
    waited = supv("wait", *args, "svc", "--timeout", "0.5", code=3)
    assert "svc:gamma" in waited.stderr and "server_3" in waited.stderr
    hold("nobody restarts gamma", lambda: cluster.running("svc:gamma", skip=("server_3",)),  # several cycles
         lambda where: where == [], seconds=3.0, every=0.3)

    report("controller", "release", *args, code=3)     # server_3 does not answer: said, exit 3
    wait_for("gamma restarted on server_2", lambda: cluster.running("svc:gamma", skip=("server_3",)),
             lambda where: where == ["server_2"], deadline=30.0)
