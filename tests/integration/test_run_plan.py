"""run-plan and stop-plan against real supervisord: Scenario 3, failure strategies, deadlines, a lost
server, reruns, staged stops and dry runs.

The order of stages is proven by what supervisord itself reports: ``start`` and ``stop`` of
``getProcessInfo`` (whole seconds, so every comparison below is one that truncation cannot make true
by accident: a later stage must start at least ``startsecs`` after an earlier program started, or at or
after the second an earlier wait_exit program exited) and, for stops, the millisecond time stamps of
supervisord's own log lines.
"""

from __future__ import annotations

import json
import re
import threading
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

import pytest

from supv_cli.model.instances import InstanceList
from supv_cli.model.snapshot import ProcessInfo
from tests.conftest import SupervisordFactory
from tests.support.calls import take_snapshot
from tests.support.cli import run_supv
from tests.support.scenario3 import CONSOLES, SERVERS, Scenario3, prepare
from tests.support.supervisord import Supervisord

pytestmark = pytest.mark.integration

#: nick -> namespec -> what that supervisord reports
State = dict[str, dict[str, ProcessInfo]]


def cluster_state(spec: str) -> State:
    """A snapshot of every instance of ``spec``, as plain dictionaries (every instance must answer)."""
    snapshot = take_snapshot(InstanceList.parse(spec.split()), timeout=5)
    assert not snapshot.unreachable, [s.reason for s in snapshot.unreachable]
    return {snap.instance.nick: {info.namespec: info for info in snap.processes} for snap in snapshot}


def supv_json(*args: str, code: int = 0) -> dict[str, Any]:
    """``supv ARGS... --json``: check the exit code, return the parsed stdout."""
    result = run_supv(*args, "--json")
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    return json.loads(result.stdout)


def rows_by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Report rows by ``app:process`` (start rows; a STOP strategy adds ``stop app:process`` rows)."""
    rows: dict[str, dict[str, Any]] = {}
    for row in report["processes"]:
        key = f"{row['application_name']}:{row['process_name']}"
        rows[key if row["action"] != "stop" or report["kind"] == "stop" else f"stop {key}"] = row
    return rows


def done_time(info: ProcessInfo, wait_exit: bool) -> float:
    """When a start command was done: its exit for a wait_exit program, else start + startsecs."""
    return info.stop if wait_exit else info.start + info.startsecs


_LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \w+ stopped: (\S+) ")


def stop_times(server: Supervisord) -> dict[str, datetime]:
    """Process name -> the last ``stopped:`` line of its supervisord's log (millisecond stamps)."""
    times: dict[str, datetime] = {}
    for line in server.log_path.read_text(errors="replace").splitlines():
        match = _LOG_LINE.match(line)
        if match:
            times[match.group(2)] = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f")
    return times


# ============================================================================================= Scenario 3
SRV = "scen3_srv"
HCI = [f"scen3_hci_0{n}" for n in (1, 2, 3)]
CHECKS = {"scen3_check_internal_data_bus", "scen3_check_common_data_bus"}
#: what the rules file says: application stages, and the program stages of each application
START_STAGES = [(1, [SRV]), (3, HCI)]
SRV_STAGES = [(1, ["scen3_check_internal_data_bus"]),
              (2, ["scen3_check_common_data_bus", "scen3_item_manager", "scen3_system_health",
                   "scen3_track_manager"]),
              (3, ["scen3_common_bus_interface"])]
HCI_STAGES = [(1, ["scen3_check_internal_data_bus"]), (2, ["scen3_chart_view", "scen3_item_control"])]
#: LESS_LOADED, expected_loading 2 each, ties to the first server, programs in Supervisor order
SRV_PLACEMENT = {"scen3_item_manager": "server_1", "scen3_system_health": "server_2",
                 "scen3_track_manager": "server_3", "scen3_common_bus_interface": "server_1"}


@pytest.fixture(scope="module")
def scenario3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario3]:
    """Scenario 3 copied and configured in a tmp dir, its six supervisord started on free ports."""
    scenario = Scenario3(prepare(tmp_path_factory.mktemp("scen3") / "scenario_3"))
    scenario.start()
    try:
        yield scenario
    finally:
        scenario.stop()


def scen3_args(scenario: Scenario3) -> tuple[str, ...]:
    return ("-i", scenario.instance_list, "-r", scenario.rules)


def scen3_programs(state: State) -> dict[tuple[str, str], ProcessInfo]:
    """(nick, namespec) -> info of every Scenario 3 application program (data buses left out)."""
    return {(nick, namespec): info for nick, infos in state.items() for namespec, info in infos.items()
            if info.group == SRV or info.group in HCI}


def test_scenario3_dry_run_then_run(scenario3: Scenario3) -> None:
    args = scen3_args(scenario3)
    before = scen3_programs(cluster_state(scenario3.instance_list))
    assert len(before) == 6 * 3 + 3 * 3  # scen3_srv on 3 servers, one scen3_hci group per console
    assert {info.state.name for info in before.values()} == {"STOPPED"}
    assert {info.start for info in before.values()} == {0}

    # --dry-run: the plan, as the rules say, and nothing started
    plan = supv_json("run-plan", *args, "--dry-run")
    assert plan["kind"] == "start"
    assert [(s["sequence"], [a["application_name"] for a in s["applications"]]) for s in plan["stages"]] \
        == START_STAGES
    planned: dict[str, dict[str, Any]] = {}
    for stage in plan["stages"]:
        for application in stage["applications"]:
            expected = SRV_STAGES if application["application_name"] == SRV else HCI_STAGES
            assert [(s["sequence"], [p["process_name"] for p in s["processes"]])
                    for s in application["stages"]] == expected
            for program_stage in application["stages"]:
                for process in program_stage["processes"]:
                    assert process["action"] == "start", process
                    planned[f"{process['application_name']}:{process['process_name']}"] = process
    after_dry_run = scen3_programs(cluster_state(scenario3.instance_list))
    assert {key: (info.state, info.start) for key, info in after_dry_run.items()} \
        == {key: (info.state, info.start) for key, info in before.items()}

    # the run
    report = supv_json("run-plan", *args)
    assert (report["kind"], report["result"]) == ("start", "success")
    rows = rows_by_name(report)
    assert set(rows) == set(planned)
    for namespec, row in rows.items():
        assert row["instance"] == planned[namespec]["instance"], namespec  # the dry run told the truth
        assert row["outcome"] == ("EXITED" if row["process_name"] in CHECKS else "RUNNING"), row

    state = cluster_state(scenario3.instance_list)
    programs = scen3_programs(state)
    # where things run: scen3_srv spread over the servers (LESS_LOADED), scen3_hci_0N on console_N only
    running = {key for key, info in programs.items() if info.state.name == "RUNNING"}
    srv_running = {namespec.split(":")[1]: nick for nick, namespec in running if namespec.startswith(SRV)}
    assert srv_running == SRV_PLACEMENT
    assert set(srv_running.values()) == set(SERVERS)
    for index, application in enumerate(HCI):
        console = CONSOLES[index]
        hosts = {nick for nick, namespec in programs if namespec.startswith(application + ":")}
        assert hosts == {console}
        assert {(nick, namespec) for nick, namespec in running if namespec.startswith(application + ":")} \
            == {(console, f"{application}:scen3_chart_view"), (console, f"{application}:scen3_item_control")}
    # the check programs exited as expected, each on the instance of the report, and ran nowhere else
    for namespec, row in rows.items():
        if row["process_name"] in CHECKS:
            info = state[row["instance"]][namespec]
            assert (info.state.name, info.exitstatus, info.expected_exit) == ("EXITED", 0, True)
            assert all(other.start == 0 for (nick, spec), other in programs.items()
                       if spec == namespec and nick != row["instance"])
    assert len(running) == 4 + 2 * 3

    # no stage started before the previous one was done
    def info_of(namespec: str) -> ProcessInfo:
        return state[rows[namespec]["instance"]][namespec]

    def stage_done(application: str, names: list[str]) -> float:
        return max(done_time(info_of(f"{application}:{n}"), planned[f"{application}:{n}"]["wait_exit"])
                   for n in names)

    def stage_start(application: str, names: list[str]) -> float:
        return min(info_of(f"{application}:{name}").start for name in names)

    for application in [SRV, *HCI]:
        stages = SRV_STAGES if application == SRV else HCI_STAGES
        for (_, earlier), (_, later) in zip(stages, stages[1:]):
            assert stage_start(application, later) >= stage_done(application, earlier), (application, later)
    srv_done = max(stage_done(SRV, names) for _, names in SRV_STAGES)
    assert min(stage_start(application, names) for application in HCI for _, names in HCI_STAGES) >= srv_done


def test_scenario3_rerun_starts_nothing(scenario3: Scenario3) -> None:
    args = scen3_args(scenario3)
    supv_json("run-plan", *args)  # whatever ran before, everything is started now
    before = scen3_programs(cluster_state(scenario3.instance_list))
    report = supv_json("run-plan", *args)
    assert (report["kind"], report["result"]) == ("start", "success")
    assert len(report["processes"]) == 6 + 3 * 3
    assert {row["outcome"] for row in report["processes"]} == {"ALREADY"}
    after = scen3_programs(cluster_state(scenario3.instance_list))
    assert {key: (i.state, i.pid, i.start, i.stop) for key, i in after.items()} \
        == {key: (i.state, i.pid, i.start, i.stop) for key, i in before.items()}


def test_scenario3_stop_plan_in_reverse_order(scenario3: Scenario3) -> None:
    args = scen3_args(scenario3)
    supv_json("run-plan", *args)
    report = supv_json("stop-plan", *args)
    assert (report["kind"], report["result"]) == ("stop", "success")
    outcomes = {(row["application_name"], row["process_name"]): row["outcome"] for row in report["processes"]}
    assert {outcome for (_, name), outcome in outcomes.items() if name in CHECKS} == {"ALREADY"}
    assert {outcome for (_, name), outcome in outcomes.items() if name not in CHECKS} == {"STOPPED"}

    state = cluster_state(scenario3.instance_list)
    programs = scen3_programs(state)
    assert not [key for key, info in programs.items() if info.running]
    # the stop stages, highest stop_sequence first: the HCI (3), then scen3_srv programs 3, then 2
    stages = [[(CONSOLES[n], f"{app}:{name}") for n, app in enumerate(HCI)
               for name in ("scen3_chart_view", "scen3_item_control")],
              [("server_1", f"{SRV}:scen3_common_bus_interface")],
              [(nick, f"{SRV}:{name}") for name, nick in SRV_PLACEMENT.items()
               if name != "scen3_common_bus_interface"]]
    for stage in stages:
        for nick, namespec in stage:
            assert state[nick][namespec].state.name == "STOPPED", (nick, namespec)
    logs = {nick: stop_times(server) for nick, server in scenario3.servers.items()}
    for earlier, later in zip(stages, stages[1:]):
        assert max(state[n][s].stop for n, s in earlier) <= min(state[n][s].stop for n, s in later)
        assert max(logs[n][s.split(":")[1]] for n, s in earlier) \
            < min(logs[n][s.split(":")[1]] for n, s in later)


# ============================================================================================= small clusters
def program(command: str = "sleep 1000", startsecs: int = 1, **options: Any) -> dict[str, Any]:
    return {"command": command, "startsecs": startsecs, "autostart": False, "autorestart": False, **options}


def write_rules(tmp_path: Path, body: str) -> str:
    path = tmp_path / "rules.xml"
    path.write_text(f'<?xml version="1.0" encoding="UTF-8"?>\n<root>\n{body}\n</root>\n')
    return str(path)


def spec_of(*servers: Supervisord) -> str:
    return " ".join(server.spec for server in servers)


def infos(spec: str, namespec: str) -> dict[str, ProcessInfo]:
    """nick -> info of one process on every instance."""
    return {nick: processes[namespec] for nick, processes in cluster_state(spec).items()
            if namespec in processes}


#: 'bad' exits 3 at once (BACKOFF, one retry, FATAL); 'peer' shares its stage; 'later' is the next stage
FAILING = {"bad": program("sh -c 'exit 3'", startretries=1), "peer": program(), "later": program()}
FAILING_RULES = """
<application name="app">
  <start_sequence>1</start_sequence>
  <starting_strategy>LESS_LOADED</starting_strategy>
  <starting_failure_strategy>{strategy}</starting_failure_strategy>
  <programs>
    <program name="bad"><start_sequence>1</start_sequence><required>true</required>
      <expected_loading>10</expected_loading></program>
    <program name="peer"><start_sequence>1</start_sequence><expected_loading>10</expected_loading></program>
    <program name="later"><start_sequence>2</start_sequence><expected_loading>10</expected_loading></program>
  </programs>
</application>"""


@pytest.mark.parametrize("strategy", ["ABORT", "STOP", "CONTINUE"])
def test_required_program_failure_applies_its_strategy(tmp_path: Path, supervisord: SupervisordFactory,
                                                       strategy: str) -> None:
    servers = [supervisord(nick=nick, programs=FAILING, groups={"app": list(FAILING)})
               for nick in ("s1", "s2")]
    spec = spec_of(*servers)
    rules = write_rules(tmp_path, FAILING_RULES.format(strategy=strategy))
    report = supv_json("run-plan", "-i", spec, "-r", rules, code=1)
    assert report["result"] == "failed"
    rows = rows_by_name(report)
    # LESS_LOADED with the pending load of the run: bad on s1, peer on s2
    assert (rows["app:bad"]["instance"], rows["app:peer"]["instance"]) == ("s1", "s2")
    assert rows["app:bad"]["outcome"] == "FAILED" and "FATAL" in rows["app:bad"]["detail"]
    assert rows["app:peer"]["outcome"] == "RUNNING"  # the members of the failed stage still finish
    bad, peer, later = (infos(spec, f"app:{name}") for name in ("bad", "peer", "later"))
    assert bad["s1"].state.name == "FATAL" and bad["s2"].start == 0
    if strategy == "CONTINUE":
        assert rows["app:later"]["outcome"] == "RUNNING"
        where = rows["app:later"]["instance"]
        assert later[where].state.name == "RUNNING"
        assert later[where].start >= max(peer["s2"].start + peer["s2"].startsecs, bad["s1"].stop)
        return
    assert rows["app:later"]["outcome"] == "NOT_STARTED"
    assert {info.start for info in later.values()} == {0}  # never started anywhere
    if strategy == "ABORT":
        assert peer["s2"].state.name == "RUNNING"
    else:  # STOP: the whole application is stopped once its start job is over
        assert rows["stop app:peer"]["outcome"] == "STOPPED"
        assert peer["s2"].state.name == "STOPPED"
        assert peer["s2"].stop >= peer["s2"].start + peer["s2"].startsecs


def test_wait_exit_program_that_never_exits_hits_its_deadline(tmp_path: Path,
                                                              supervisord: SupervisordFactory) -> None:
    programs = {"check": program(startsecs=0), "service": program()}
    server = supervisord(nick="s1", programs=programs, groups={"app": list(programs)})
    rules = write_rules(tmp_path, """
<application name="app">
  <start_sequence>1</start_sequence>
  <programs>
    <program name="check"><start_sequence>1</start_sequence><required>true</required>
      <wait_exit>true</wait_exit></program>
    <program name="service"><start_sequence>2</start_sequence></program>
  </programs>
</application>""")
    report = supv_json("run-plan", "-i", server.spec, "-r", rules, "--exit-timeout", "2", code=1)
    rows = rows_by_name(report)
    assert rows["app:check"]["outcome"] == "TIMEOUT"
    assert "no exit within 2s" in rows["app:check"]["detail"]
    assert rows["app:check"]["elapsed"] >= 2  # the deadline counts from RUNNING
    assert rows["app:service"]["outcome"] == "NOT_STARTED"  # required + ABORT (the default)
    state = cluster_state(server.spec)["s1"]
    assert state["app:check"].state.name == "RUNNING"  # a deadline fails the start, it kills nothing
    assert state["app:service"].start == 0


def test_server_killed_during_the_run(tmp_path: Path, supervisord: SupervisordFactory) -> None:
    programs = {"victim": program(startsecs=3), "steady": program(startsecs=3), "after": program()}
    servers = [supervisord(nick=nick, programs=programs, groups={"app": list(programs)})
               for nick in ("s1", "s2", "s3")]
    spec = spec_of(*servers)
    rules = write_rules(tmp_path, """
<application name="app">
  <start_sequence>1</start_sequence>
  <starting_strategy>LESS_LOADED</starting_strategy>
  <starting_failure_strategy>CONTINUE</starting_failure_strategy>
  <programs>
    <program name="victim"><identifiers>s2</identifiers><start_sequence>1</start_sequence>
      <required>true</required></program>
    <program name="steady"><identifiers>s1</identifiers><start_sequence>1</start_sequence></program>
    <program name="after"><start_sequence>2</start_sequence><required>true</required>
      <expected_loading>10</expected_loading></program>
  </programs>
</application>""")
    victim_host = servers[1]
    killed: list[BaseException] = []

    def kill_when_starting() -> None:
        try:  # about a second into the run, while the victim is STARTING (startsecs 3)
            victim_host.wait_process("app:victim", ["STARTING"], timeout=20)
            victim_host.kill9()
            victim_host.stop()  # its programs die with it
        except BaseException as error:  # reported by the test below
            killed.append(error)

    killer = threading.Thread(target=kill_when_starting, daemon=True)
    killer.start()
    result = run_supv("run-plan", "-i", spec, "-r", rules, "--json")
    killer.join(30)
    assert not killed, killed
    # s2, where the victim was STARTING at its last answer, does not answer at the end: what runs there
    # is not known, so exit 3 naming it (not 1: the victim may still run there)
    assert result.exit_code == 3, (result.stdout, result.stderr)
    assert result.stderr.strip().splitlines()[-1] == ("supv: error: s2 did not answer (connection refused): "
                                                      "app:victim may still run there")
    rows = rows_by_name(json.loads(result.stdout))
    assert rows["app:victim"]["outcome"] == "LOST" and "s2 lost" in rows["app:victim"]["detail"]
    assert rows["app:steady"]["outcome"] == "RUNNING"
    assert rows["app:after"]["outcome"] == "RUNNING"  # CONTINUE went on, on a live server
    assert rows["app:after"]["instance"] in ("s1", "s3")
    state = cluster_state(spec_of(servers[0], servers[2]))
    assert state[rows["app:after"]["instance"]]["app:after"].state.name == "RUNNING"


#: stops in about a second (its TERM trap sleeps 1 s): every stop stage lasts at least a second
SLOW_STOP = program("""sh -c "trap 'sleep 1; exit 0' TERM; while :; do sleep 0.2; done\"""", startsecs=0,
                    stopwaitsecs=5, stopasgroup=True)


def test_stop_plan_stops_in_reverse_order(tmp_path: Path, supervisord: SupervisordFactory) -> None:
    s1 = supervisord(nick="s1", programs={"f1": SLOW_STOP, "f2": SLOW_STOP}, groups={"front": ["f1", "f2"]})
    s2 = supervisord(nick="s2", programs={"b1": SLOW_STOP}, groups={"base": ["b1"]})
    spec = spec_of(s1, s2)
    rules = write_rules(tmp_path, """
<application name="base"><start_sequence>1</start_sequence>
  <programs><program name="b1"><start_sequence>1</start_sequence></program></programs></application>
<application name="front"><start_sequence>2</start_sequence>
  <programs><program name="f1"><start_sequence>1</start_sequence></program>
            <program name="f2"><start_sequence>2</start_sequence></program></programs></application>""")
    supv_json("run-plan", "-i", spec, "-r", rules)
    started = cluster_state(spec)
    where = (("s1", "front:f1"), ("s1", "front:f2"), ("s2", "base:b1"))
    assert [started[nick][namespec].state.name for nick, namespec in where] == ["RUNNING"] * 3
    plan = supv_json("stop-plan", "-i", spec, "-r", rules, "--dry-run")
    assert [[a["application_name"] for a in stage["applications"]] for stage in plan["stages"]] \
        == [["front"], ["base"]]
    assert {key: (i.state, i.pid) for key, i in cluster_state(spec)["s1"].items()} \
        == {key: (i.state, i.pid) for key, i in started["s1"].items()}  # the dry run stopped nothing
    report = supv_json("stop-plan", "-i", spec, "-r", rules)
    assert (report["kind"], report["result"]) == ("stop", "success")
    assert [(r["process_name"], r["outcome"]) for r in report["processes"]] \
        == [("f2", "STOPPED"), ("f1", "STOPPED"), ("b1", "STOPPED")]
    state = cluster_state(spec)
    f2, f1, b1 = state["s1"]["front:f2"], state["s1"]["front:f1"], state["s2"]["base:b1"]
    assert [info.state.name for info in (f2, f1, b1)] == ["STOPPED"] * 3
    # each stop takes a second and starts once the previous stage is stopped: whole seconds apart
    assert f2.stop < f1.stop < b1.stop


ONE_APP = """<application name="app"><start_sequence>1</start_sequence>
  <programs><program name="p"><start_sequence>1</start_sequence></program></programs></application>"""


@pytest.mark.parametrize("command", ["run-plan", "stop-plan", "restart-plan"])
def test_the_first_snapshot_is_evaluated_once(tmp_path: Path, supervisord: SupervisordFactory,
                                              monkeypatch: pytest.MonkeyPatch, command: str) -> None:
    """Issue 19: the snapshot the plan is made from is evaluated once; the run's first step takes it and
    its status as they are (it was evaluated twice: once for the plan, once more by the first step)."""
    import supv_cli.status

    server = supervisord(nick="s1", programs={"p": program()}, groups={"app": ["p"]})
    rules = write_rules(tmp_path, ONE_APP)
    if command != "run-plan":
        supv_json("run-plan", "-i", server.spec, "-r", rules)
    evaluated: list[Any] = []
    real = supv_cli.status.evaluate

    def counting(rules: Any, snapshot: Any, *args: Any, **kwargs: Any) -> Any:
        evaluated.append(snapshot)
        return real(rules, snapshot, *args, **kwargs)

    monkeypatch.setattr(supv_cli.status, "evaluate", counting)
    report = supv_json(command, "-i", server.spec, "-r", rules)
    assert report["result"] == "success"
    assert len(evaluated) >= 2                                     # the first snapshot, then those of the run
    assert sum(1 for snapshot in evaluated if snapshot is evaluated[0]) == 1
