"""supvisorsctl's names on real supervisord (issue 20 item 4): reload and shutdown act on the named
instances only (and refuse without --yes on a pipe, touching nothing), start_any_process and all_start,
the strategy-first shapes of the aliases, sversion, strategies and local_status.

One module-scoped cluster of three supervisord (each on its own loopback address of 127.0.7.x, hence
its own node); the tests run in file order and each leaves the cluster as the next expects it (the
last one shuts s3 down).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest

from supv_cli.model.instances import InstanceList
from supv_cli.model.snapshot import ProcessState
from tests.support.calls import take_snapshot
from tests.support.cli import run_supv
from tests.support.inventory_cluster import InventoryCluster, sleeper
from tests.support.supervisord import Supervisord
from tests.support.terminal import OnTerminal
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

NICKS = ("s1", "s2", "s3")

RULES = """<?xml version="1.0" encoding="UTF-8"?>
<root>
  <application name="work">
    <start_sequence>1</start_sequence>
    <starting_strategy>CONFIG</starting_strategy>
    <programs>
      <program pattern="worker_"><identifiers>s1,s2</identifiers><start_sequence>1</start_sequence>
        <expected_loading>40</expected_loading></program>
    </programs>
  </application>
  <application name="monitor">
    <programs>
      <program name="monitor"><identifiers>s1,s2</identifiers></program>
    </programs>
  </application>
</root>
"""


class Cluster(InventoryCluster):
    def __init__(self, root: Path) -> None:
        super().__init__(root, RULES)
        for index, nick in enumerate(NICKS, start=1):
            programs = {"keeper": sleeper(autostart=True), "monitor": sleeper(),
                        # a stand-in controller: `controller hold` / `release` stop and start the program
                        "supv_controller": sleeper(autostart=True),
                        **{f"worker_{n}": sleeper() for n in (1, 2, 3)}}
            self.servers[nick] = Supervisord(root / nick, nick=nick, programs=programs,
                                             groups={"work": ["worker_1", "worker_2", "worker_3"]},
                                             host=f"127.0.7.{index}")

    def states(self, nicks: tuple[str, ...] = NICKS) -> dict[str, dict[str, Any]]:
        """nick -> namespec -> ProcessInfo of the instances ``nicks`` (they must answer)."""
        instances = [i for i in InstanceList.parse([f"<{n}>{s.url}" for n, s in self.servers.items()])
                     if i.nick in nicks]
        snapshot = take_snapshot(instances, timeout=3)
        assert not snapshot.unreachable, [s.reason for s in snapshot.unreachable]
        return {snap.instance.nick: {info.namespec: info for info in snap.processes} for snap in snapshot}

    def running(self, namespec: str, nicks: tuple[str, ...] = NICKS) -> list[str]:
        return [nick for nick, infos in self.states(nicks).items()
                if infos[namespec].state is ProcessState.RUNNING]

    def pids(self, namespec: str, nicks: tuple[str, ...] = NICKS) -> dict[str, int]:
        return {nick: infos[namespec].pid for nick, infos in self.states(nicks).items()}

    def starts_logged(self, nick: str) -> int:
        return (self.root / nick / "supervisord.log").read_text().count("supervisord started with pid")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    made = Cluster(tmp_path_factory.mktemp("names"))
    try:
        made.start()
        for nick in NICKS:
            made.servers[nick].wait_process("keeper:keeper", ["RUNNING"])
            made.servers[nick].wait_process("supv_controller:supv_controller", ["RUNNING"])
        yield made
    finally:
        made.stop()


def supv(*args: str, code: int | None = 0) -> Any:
    result = run_supv(*args)
    if code is not None:
        assert result.exit_code == code, (args, result.exit_code, result.stdout, result.stderr)
    return result


def test_reload_and_shutdown_refuse_without_yes_on_a_pipe(cluster: Cluster) -> None:
    keepers = cluster.pids("keeper:keeper")
    controllers = cluster.pids("supv_controller:supv_controller")
    for name in ("reload", "sreload", "shutdown", "sshutdown"):
        result = supv(name, *cluster.args, code=2)                  # CliRunner: stdin is not a terminal
        assert result.stdout == ""
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "--yes" in lines[0] and "nothing was touched" in lines[0], lines
    assert cluster.pids("keeper:keeper") == keepers                   # nothing restarted,
    assert cluster.pids("supv_controller:supv_controller") == controllers   # no controller held
    assert all(cluster.starts_logged(nick) == 1 for nick in NICKS)
    assert supv("reload", *cluster.args, "--instance", "nope", "--yes", code=2).stderr.count("\n") == 1


def test_reload_asks_on_a_terminal_and_a_no_touches_nothing(cluster: Cluster) -> None:
    keepers = cluster.pids("keeper:keeper")
    with OnTerminal("reload", *cluster.args, "--instance", "s1") as terminal:
        assert b"Restart supervisord on s1" in terminal.read(20, until=b"[y/N]")
        terminal.press(b"n\r")
        assert terminal.process.wait(20) == 2
        assert b"not confirmed; nothing was touched" in terminal.read(2, until=b"touched")
    assert cluster.pids("keeper:keeper") == keepers and cluster.starts_logged("s1") == 1


def test_reload_restarts_the_named_instance_only_with_the_controllers_held(cluster: Cluster) -> None:
    keepers = cluster.pids("keeper:keeper")
    supervisords = {nick: server.pid for nick, server in cluster.servers.items()}
    result = supv("reload", *cluster.args, "--instance", "s2", "--yes", "--json")
    data = json.loads(result.stdout)
    assert data["kind"] == "reload" and data["result"] == "success"
    assert [(r["instance"], r["outcome"]) for r in data["instances"]] == [("s2", "RESTARTED")]
    assert data["held"] == list(NICKS)
    assert "holding the controllers first" in result.stderr and "releasing" in result.stderr
    assert cluster.starts_logged("s2") == 2 and cluster.starts_logged("s1") == cluster.starts_logged("s3") == 1
    after = cluster.pids("keeper:keeper")
    assert after["s1"] == keepers["s1"] and after["s3"] == keepers["s3"]    # untouched
    assert after["s2"] != keepers["s2"]                                    # autostarted again
    assert {nick: server.pid for nick, server in cluster.servers.items()} == supervisords  # same process
    # released again: every controller runs (s2's came back by autostart, the others by release)
    wait_for("every controller running", lambda: cluster.running("supv_controller:supv_controller"),
             lambda nicks: nicks == list(NICKS), 10)


def test_start_any_process_starts_one_stopped_match_each_time(cluster: Cluster) -> None:
    first = supv("start_any_process", *cluster.args, "work:worker_", "--json")
    assert "work:worker_1" in first.stderr
    assert json.loads(first.stdout)["result"] == "success"
    assert cluster.running("work:worker_1") == ["s1"]                      # CONFIG: the first identifier
    # supvisorsctl's shape: the strategy first; worker_1 runs, so worker_2 is the one started
    second = supv("start_any_process", *cluster.args, "LESS_LOADED", "worker_[0-9]")
    assert "work:worker_2" in second.stderr
    assert cluster.running("work:worker_2") == ["s2"]                      # s1 carries worker_1's 40 %
    none = supv("start_any_process", *cluster.args, "^monitor:nothing$", code=1)
    assert "no process matches it" in none.stderr
    assert supv("start_any_process", *cluster.args, "work:(", code=2).stderr.count("\n") == 1
    supv("stop", *cluster.args, "work:*")


def test_all_start_starts_the_process_where_its_rules_allow(cluster: Cluster) -> None:
    dry = json.loads(supv("all_start", *cluster.args, "monitor", "--dry-run", "--json").stdout)
    assert sorted(r["instance"] for r in dry["processes"]) == ["s1", "s2"]
    assert cluster.running("monitor:monitor") == []
    data = json.loads(supv("all_start", *cluster.args, "monitor:monitor", "--json").stdout)
    assert data["result"] == "success"
    assert sorted((r["instance"], r["outcome"]) for r in data["processes"]) == [("s1", "RUNNING"), ("s2", "RUNNING")]
    assert cluster.running("monitor:monitor") == ["s1", "s2"]              # not s3: the rules say s1,s2
    again = json.loads(supv("all_start", *cluster.args, "monitor", "--json").stdout)
    assert {r["outcome"] for r in again["processes"]} == {"ALREADY"}
    supv("stop", *cluster.args, "monitor:monitor")


def test_aliases_take_supvisorsctl_shapes(cluster: Cluster) -> None:
    plan = supv("test_start_application", *cluster.args, "MOST_LOADED", "work").stdout
    assert cluster.running("work:worker_1") == []                          # a dry run
    assert [line.split()[4] for line in plan.splitlines()[1:]] == ["s2", "s2", "s1"], plan
    rules = json.loads(supv("application_rules", *cluster.args, "work", "--json").stdout)
    assert rules[0]["application_name"] == "work" and rules[0]["managed"] is True
    assert supv("instance_status", *cluster.args).stdout.count("RUNNING") == 3
    process = json.loads(supv("process_rules", *cluster.args, "work:worker_2", "--json").stdout)
    assert process[0]["expected_loading"] == 40 and process[0]["identifiers"] == ["s1", "s2"]
    # the stand-in controllers print no state line: none is seen acting (exit 1), each is listed
    master = json.loads(supv("master", *cluster.args, "--json", code=1).stdout)
    assert master["acting"] is None and [c["instance"] for c in master["controllers"]] == list(NICKS)
    supv("start_application", *cluster.args, "MOST_LOADED", "work", "-q")
    # MOST_LOADED (not the application's CONFIG, which would fill s1 first): s2 wins the tie, then is
    # the most loaded until full
    assert [cluster.running(f"work:worker_{n}") for n in (1, 2, 3)] == [["s2"], ["s2"], ["s1"]]
    supv("stop_application", *cluster.args, "work", "-q")
    assert cluster.running("work:worker_1") == []


def test_sversion_strategies_and_local_status(cluster: Cluster) -> None:
    versions = json.loads(supv("sversion", *cluster.args, "--json").stdout)
    assert [r["instance"] for r in versions["instances"]] == list(NICKS)
    assert all(r["api_version"] and r["supervisor_version"] for r in versions["instances"])
    strategies = supv("strategies", *cluster.args).stdout
    assert "Conciliation:" in strategies and "Starting:     CONFIG" in strategies
    local = json.loads(supv("local_status", *cluster.args, "--local", "s3", "keeper", "--json").stdout)
    assert local["instance"] == "s3" and [p["statename"] for p in local["processes"]] == ["RUNNING"]
    assert supv("local_status", *cluster.args, code=2).stderr.count("\n") == 1   # no local instance known


def test_shutdown_stops_the_named_instance_only_and_keeps_the_controllers_held(cluster: Cluster) -> None:
    keepers = cluster.pids("keeper:keeper", ("s1", "s2"))
    result = supv("sshutdown", *cluster.args, "--instance", "s3", "--yes", "--json")
    data = json.loads(result.stdout)
    assert [(r["instance"], r["outcome"]) for r in data["instances"]] == [("s3", "SHUT_DOWN")]
    wait_for("s3's supervisord exits", lambda: cluster.servers["s3"].process.poll(), lambda code: code is not None,
             10)
    assert cluster.pids("keeper:keeper", ("s1", "s2")) == keepers                   # the others untouched
    assert "controllers stay held" in result.stderr
    assert cluster.running("supv_controller:supv_controller", ("s1", "s2")) == []
