"""The controller (pure state machine over snapshots): failover strategies, leadership, crashes,
budget, conciliation and automatic start (behaviour spec §3.9, decisions.md)."""

from __future__ import annotations

from dataclasses import replace

from supv_cli.controller.conciliation import Conciliation
from supv_cli.controller.core import Controller, ControllerOptions
from supv_cli.model.snapshot import Snapshot

from .plan_helpers import S, Script, info, instances, rules_of, snapshot

CLUSTER = instances("s1", "s2", "s3", "c1")
RULES = """<alias name="servers">s1,s2,s3</alias>
<application name="srv"><start_sequence>1</start_sequence><starting_strategy>LESS_LOADED</starting_strategy>
  <programs>
    <program pattern="svc_"><identifiers>servers</identifiers><start_sequence>1</start_sequence>
      <expected_loading>10</expected_loading><running_failure_strategy>RESTART_PROCESS</running_failure_strategy>
    </program>
  </programs></application>
<application name="hci"><start_sequence>2</start_sequence><distribution>SINGLE_INSTANCE</distribution>
  <identifiers>c1</identifiers><programs><program name="view"><start_sequence>1</start_sequence></program>
  </programs></application>
<application name="stopper"><programs><program name="p"><start_sequence>1</start_sequence>
  <running_failure_strategy>STOP_APPLICATION</running_failure_strategy></program>
  <program name="q"><start_sequence>1</start_sequence></program></programs></application>
<application name="restarter"><programs><program name="p"><start_sequence>1</start_sequence>
  <running_failure_strategy>RESTART_APPLICATION</running_failure_strategy></program>
  <program name="q"><start_sequence>1</start_sequence></program></programs></application>"""
SERVICES = ["srv:svc_a", "srv:svc_b", "srv:svc_c", "srv:svc_d"]
OPTIONS = ControllerOptions(interval=0.25, startup_grace=0.0, restart_budget=2, budget_window=100)


def started_cluster(extra=None):
    """srv spread over s1..s3 (svc_a, svc_d on s1), hci on c1; everything else stopped."""
    base = [info(n, stop=1.0) for n in SERVICES] + [info("hci:view", stop=1.0)]
    for app in ("stopper", "restarter"):
        base += [info(f"{app}:p", stop=1.0), info(f"{app}:q", stop=1.0)]
    running = {"s1": [info("srv:svc_a", S.RUNNING, start=1.0), info("srv:svc_d", S.RUNNING, start=1.0)],
               "s2": [info("srv:svc_b", S.RUNNING, start=1.0)], "s3": [info("srv:svc_c", S.RUNNING, start=1.0)],
               "c1": [info("hci:view", S.RUNNING, start=1.0)]}
    for nick, infos in (extra or {}).items():
        names = {i.namespec for i in infos}
        running[nick] = [i for i in running.get(nick, []) if i.namespec not in names] + infos
    return snapshot(CLUSTER, {"*": base, **running})


class Harness:
    def __init__(self, tmp_path, snap: Snapshot, local=None, options=OPTIONS, rules_body=RULES):
        self.rules = rules_of(tmp_path, rules_body, CLUSTER)
        self.script = Script(self.rules, snap)
        self.controller = Controller(self.rules, CLUSTER, CLUSTER.find(local) if local else None, options, now=0.0)
        self.now = 0.0
        self.events = []

    def run(self, seconds: float, tick: float = 0.25):
        end = self.now + seconds
        while self.now < end:
            snap = self.script.at(self.now)
            requests = self.controller.cycle(snap, self.now)
            for request, result in zip(requests, self.script.send(requests, self.now)):
                self.controller.on_result(request, result, self.now)
            self.events += self.controller.drain_events()
            self.now += tick

    def starts(self):
        return [(ns, nick) for _, method, ns, nick in self.script.log if method == "startProcess"]

    def stops(self):
        return [(ns, nick) for _, method, ns, nick in self.script.log if method == "stopProcess"]

    def kinds(self, kind):
        return [e for e in self.events if e.kind == kind]


def test_lost_server_processes_are_redistributed_less_loaded(tmp_path):
    h = Harness(tmp_path, started_cluster())
    h.run(1.0)
    assert h.starts() == []                      # everything already runs: nothing to do
    h.script.down.add("s1")
    h.run(3.0)
    # svc_a and svc_d ran on s1: re-placed by LESS_LOADED on s2 (10) and s3 (10): s2 first, then s3
    assert h.starts() == [("srv:svc_a", "s2"), ("srv:svc_d", "s3")]
    assert [e.application for e in h.kinds("lost")] == ["s1"]
    state = h.controller.status.processes
    assert {n: [i.nick for i in state[n].running_on] for n in ("srv:svc_a", "srv:svc_d")} == {
        "srv:svc_a": ["s2"], "srv:svc_d": ["s3"]}


def test_console_loss_moves_nothing(tmp_path):
    h = Harness(tmp_path, started_cluster())
    h.run(0.5)
    h.script.down.add("c1")
    h.run(2.0)
    assert h.starts() == []
    assert any("CONTINUE" in e.message for e in h.kinds("decision"))


def test_lost_after_two_missed_polls(tmp_path):
    h = Harness(tmp_path, started_cluster())
    h.run(0.5)
    h.script.down.add("s3")
    h.run(0.25)                                  # one miss: not lost yet
    assert h.kinds("lost") == [] and h.starts() == []
    h.run(0.25)
    assert [e.application for e in h.kinds("lost")] == ["s3"]


def test_stop_application_on_loss(tmp_path):
    snap = started_cluster({"s1": [info("stopper:p", S.RUNNING)], "s2": [info("stopper:q", S.RUNNING)]})
    h = Harness(tmp_path, snap)
    h.run(0.5)
    h.script.down.add("s1")
    h.run(2.0)
    assert ("stopper:q", "s2") in h.stops()
    assert not any(ns.startswith("stopper") for ns, _ in h.starts())


def test_restart_application_on_loss_stops_then_starts(tmp_path):
    snap = started_cluster({"s1": [info("restarter:p", S.RUNNING)], "s2": [info("restarter:q", S.RUNNING)]})
    h = Harness(tmp_path, snap)
    h.run(0.5)
    h.script.down.add("s1")
    h.run(5.0)
    assert ("restarter:q", "s2") in h.stops()
    restarted = {ns for ns, _ in h.starts()}
    assert {"restarter:p", "restarter:q"} <= restarted
    first_start = min(t for t, m, ns, _ in h.script.log if m == "startProcess" and ns.startswith("restarter"))
    last_stop = max(t for t, m, ns, _ in h.script.log if m == "stopProcess" and ns.startswith("restarter"))
    assert last_stop <= first_start


def test_restart_process_is_promoted_when_the_application_stopped(tmp_path):
    snap = started_cluster()
    # only svc_a runs (on s1): losing s1 leaves srv STOPPED -> the whole application is restarted
    snap = Snapshot(tuple(replace(s, processes=tuple(
        replace(p, state=S.STOPPED) if p.namespec.startswith("srv:") and p.namespec != "srv:svc_a" else p
        for p in s.processes)) for s in snap.instances))
    h = Harness(tmp_path, snap)
    h.run(0.5)
    h.script.down.add("s1")
    h.run(4.0)
    assert any("RESTART_APPLICATION" in e.message for e in h.kinds("decision"))
    assert {ns for ns, _ in h.starts()} == set(SERVICES)


def test_crash_on_a_live_instance(tmp_path):
    snap = started_cluster({"s1": [info("stopper:p", S.RUNNING)], "s2": [info("stopper:q", S.RUNNING)]})
    h = Harness(tmp_path, snap)
    h.run(0.5)
    h.script.timeline.append((h.now, "s1", "stopper:p", (S.FATAL, 1)))
    h.script.timeline.append((h.now, "s2", "srv:svc_b", (S.FATAL, 1)))
    h.run(2.0)
    assert ("stopper:q", "s2") in h.stops()                        # STOP_APPLICATION acts
    assert not any(ns == "srv:svc_b" for ns, _ in h.starts())      # RESTART_PROCESS: left to autorestart
    assert any("autorestart" in e.message for e in h.kinds("decision"))


def test_restart_budget(tmp_path):
    snap = started_cluster({"s1": [info("restarter:p", S.RUNNING)]})
    h = Harness(tmp_path, snap, options=replace(OPTIONS, restart_budget=1))
    h.run(0.5)
    for _ in range(2):                         # the application crashes twice
        h.script.timeline.append((h.now, "s1", "restarter:p", (S.FATAL, 1)))
        h.run(3.0)
    starts = [ns for ns, _ in h.starts() if ns == "restarter:p"]
    assert len(starts) == 1
    assert h.kinds("budget") and "not restarting again" in h.kinds("budget")[0].message


def test_standby_takes_over_with_memory_of_the_leader(tmp_path):
    controllers = {n: [info("supv_controller:supv_controller", S.RUNNING)] for n in ("s1", "s2")}
    snap = started_cluster(controllers)
    h = Harness(tmp_path, snap, local="s2")
    h.run(1.0)
    assert h.controller.acting is False and h.controller.leader == "s1"
    h.script.down.add("s1")                       # the acting controller's server dies
    h.run(3.0)
    assert h.controller.acting is True
    assert sorted(h.starts()) == [("srv:svc_a", "s2"), ("srv:svc_d", "s3")]


def test_standby_does_nothing(tmp_path):
    controllers = {n: [info("supv_controller:supv_controller", S.RUNNING)] for n in ("s1", "s2")}
    h = Harness(tmp_path, started_cluster(controllers), local="s2")
    h.run(0.5)
    h.script.down.add("s3")
    h.run(2.0)
    assert h.starts() == [] and h.controller.acting is False


def test_never_seen_instance_is_derived_from_the_rules(tmp_path):
    # s1 never answered this (restarted) controller; svc_a runs nowhere: the rules say it may run on s1
    snap = started_cluster()
    snap = Snapshot(tuple(replace(s, processes=tuple(replace(p, state=S.STOPPED, stop=5.0)
                                                       if p.namespec in ("srv:svc_a", "srv:svc_d") else p
                                                       for p in s.processes)) for s in snap.instances))
    h = Harness(tmp_path, snap)
    h.script.down.add("s1")
    h.run(2.0)
    assert any(e.kind == "derive" for e in h.events)
    assert sorted(ns for ns, _ in h.starts()) == ["srv:svc_a", "srv:svc_d"]


def test_never_seen_instance_derives_nothing_for_an_application_entirely_stopped(tmp_path):
    # what ran on s1 is unknown and nothing of srv runs on the survivors: srv may have been stopped on
    # purpose, so nothing is derived (integration test_hold_then_kill relies on srv still running)
    snap = started_cluster()
    snap = Snapshot(tuple(replace(s, processes=tuple(replace(p, state=S.STOPPED, stop=5.0)
                                                       if p.namespec.startswith("srv:") else p
                                                       for p in s.processes)) for s in snap.instances))
    h = Harness(tmp_path, snap)
    h.script.down.add("s1")
    h.run(2.0)
    assert h.kinds("lost") and not h.kinds("derive")
    assert h.starts() == []


def test_conflict_is_conciliated_infanticide(tmp_path):
    snap = started_cluster({"s3": [info("srv:svc_a", S.RUNNING, start=50.0)]})    # younger copy on s3
    h = Harness(tmp_path, snap)
    h.run(1.0)
    assert h.stops() == [("srv:svc_a", "s3")]
    assert h.kinds("conflict")


def test_conflict_user_rule_only_reports(tmp_path):
    snap = started_cluster({"s3": [info("srv:svc_a", S.RUNNING, start=50.0)]})
    h = Harness(tmp_path, snap, options=replace(OPTIONS, conciliate=Conciliation.USER))
    h.run(1.0)
    assert h.stops() == [] and len(h.kinds("conflict")) == 1


def test_automatic_start_of_never_started_applications(tmp_path):
    base = snapshot(CLUSTER, {"*": [info(n) for n in SERVICES] + [info("hci:view")]})
    h = Harness(tmp_path, base)
    h.run(6.0)
    started = h.starts()
    assert {ns for ns, _ in started} == set(SERVICES) | {"hci:view"}
    assert [ns for ns, _ in started].index("hci:view") == 4        # start_sequence 2: after srv
    assert {nick for ns, nick in started if ns.startswith("srv")} == {"s1", "s2", "s3"}
    h.run(2.0)
    assert len(h.starts()) == len(started)                         # not started twice


def test_automatic_start_waits_for_the_instances_or_the_grace(tmp_path):
    base = snapshot(CLUSTER, {"*": [info(n) for n in SERVICES] + [info("hci:view")]})
    h = Harness(tmp_path, base, options=replace(OPTIONS, startup_grace=5.0))
    h.script.down.add("s3")
    h.run(3.0)
    assert h.starts() == []
    h.run(3.0)
    assert {nick for ns, nick in h.starts() if ns.startswith("srv")} == {"s1", "s2"}


def test_a_loss_during_a_job_is_deferred_not_forgotten(tmp_path):
    # two servers of four lost: no majority left, --quorum 2 lets the rest act
    h = Harness(tmp_path, started_cluster(), options=replace(OPTIONS, quorum=2))
    h.run(0.5)
    h.script.down.add("s1")
    h.run(0.6)                                   # s1 lost: a RESTART_PROCESS job starts svc_a, svc_d
    h.script.down.add("s2")                      # s2 dies while that job runs
    h.run(4.0)
    running = {n: [i.nick for i in p.running_on] for n, p in h.controller.status.processes.items()
               if n.startswith("srv:")}
    assert running == {n: ["s3"] for n in SERVICES}
    assert any("deferred" in e.message for e in h.kinds("decision"))


def test_a_failed_restart_is_retried_within_the_budget(tmp_path):
    h = Harness(tmp_path, started_cluster(), options=replace(OPTIONS, restart_budget=3))
    h.run(0.5)
    h.script.outcomes["srv:svc_b"] = ("FATAL", 0.3)      # the first restart of svc_b fails
    h.script.down.add("s2")
    h.run(1.3)
    h.script.outcomes.pop("srv:svc_b")                   # then it works
    h.run(4.0)
    tries = [nick for ns, nick in h.starts() if ns == "srv:svc_b"]
    assert len(tries) >= 2
    assert [i.nick for i in h.controller.status.processes["srv:svc_b"].running_on] != []


def test_local_strategy_restarts_on_the_controller_instance(tmp_path):
    # LOCAL in the controller's own starts means the instance it runs on (it was None: NO_RESOURCE)
    rules = RULES + """<application name="loc"><start_sequence>1</start_sequence>
  <starting_strategy>LOCAL</starting_strategy><programs><program name="w"><identifiers>s1,s2,s3</identifiers>
    <start_sequence>1</start_sequence><running_failure_strategy>RESTART_PROCESS</running_failure_strategy>
  </program></programs></application>"""
    snap = snapshot(CLUSTER, {"*": [info("loc:w", stop=1.0)], "s1": [info("loc:w", S.RUNNING, start=1.0)],
                              "s2": [info("supv_controller:supv_controller", S.RUNNING)]})
    h = Harness(tmp_path, snap, local="s2", rules_body=rules)
    h.run(0.5)
    assert h.controller.acting
    h.script.down.add("s1")
    h.run(3.0)
    assert h.starts() == [("loc:w", "s2")]
    assert not h.kinds("failed")


def test_a_loss_is_not_held_back_by_the_rest_of_the_automatic_start(tmp_path):
    # one automatic-start run for srv and hci: once srv is started, a loss of srv is acted on at once,
    # not after hci (20 s startsecs) is up
    base = snapshot(CLUSTER, {"*": [info(n) for n in SERVICES] + [info("hci:view", startsecs=20)]})
    h = Harness(tmp_path, base)
    h.run(3.0)
    assert {ns for ns, _ in h.starts()} == set(SERVICES) | {"hci:view"}
    lost = sorted(ns for ns, nick in h.starts() if nick == "s1")
    h.script.down.add("s1")
    h.run(2.0)
    assert sorted(ns for ns, _ in h.starts()[len(SERVICES) + 1:]) == lost
    assert not any("deferred" in e.message for e in h.kinds("decision"))


def test_moves_after_instance_losses_are_not_charged_to_the_budget(tmp_path):
    h = Harness(tmp_path, started_cluster(), options=replace(OPTIONS, restart_budget=1, quorum=2))
    h.run(0.5)
    for victim in ("s1", "s2"):            # svc_a moves twice: s1 -> s2, then s2 -> s3
        h.script.down.add(victim)
        h.run(3.0)
    assert [nick for ns, nick in h.starts() if ns == "srv:svc_a"] == ["s2", "s3"]
    assert h.kinds("budget") == []


def test_a_never_started_application_is_started_again_later(tmp_path):
    # hci's only instance (c1) is down at first: nothing to start; when c1 answers, hci is started at the
    # next automatic start (every AUTOSTART_RETRY seconds), as a console that reboots gets its HCI again
    from supv_cli.controller.core import AUTOSTART_RETRY

    base = snapshot(CLUSTER, {"*": [info(n) for n in SERVICES] + [info("hci:view")]})
    h = Harness(tmp_path, base)
    h.script.down.add("c1")
    h.run(3.0)
    assert {ns for ns, _ in h.starts()} == set(SERVICES)
    h.script.down.discard("c1")
    h.run(AUTOSTART_RETRY)
    assert ("hci:view", "c1") in h.starts()
