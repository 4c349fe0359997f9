"""The controller's safety, as a pure state machine over scripted snapshots (issue 10): several
controllers over one scripted cluster, each with its own view (a partition hides instances from some of
them), the acting ones' requests applied to the script. One test per case: the double failure with the
takeover in between, one missed poll, CONTINUE, the minority side, leadership hysteresis, a controller
started by hand next to another; then the Scenario 3 requirements (1, 13, 20, 21)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from supv_cli.controller.core import Controller, ControllerOptions
from supv_cli.model.instances import InstanceList
from supv_cli.model.snapshot import InstanceSnapshot, Snapshot, Unreachable
from supv_cli.rules import Rules, load_rules
from tests.support.cli import run_supv
from tests.support.controlled import RULES

from .plan_helpers import S, Script, info, instances, snapshot

CLUSTER = instances("s1", "s2", "s3", "c1", "c2")
SERVICES = ("srv:svc_a", "srv:svc_b", "srv:svc_c", "srv:svc_d")
CONTROLLER = "supv_controller:supv_controller"
OPTIONS = ControllerOptions(interval=0.25, startup_grace=0.0, restart_budget=2, budget_window=100)


def cluster(running: dict[str, list[str]], controllers: tuple[str, ...] = ("s1", "s2")) -> Snapshot:
    """Every program known everywhere, stopped once (stop=1.0; but when cfg:p runs, it never ran
    elsewhere: stop=0), and RUNNING where ``running`` says (nick -> namespecs); a controller program
    RUNNING on ``controllers``."""
    cfg_ran = any("cfg:p" in names for names in running.values())
    base = [info(n, stop=1.0) for n in SERVICES] + [info("cfg:p", stop=0.0 if cfg_ran else 1.0),
                                                    info(CONTROLLER, stop=1.0)]
    per_nick = {nick: [info(ns, S.RUNNING, start=2.0, now=3.0) for ns in names] for nick, names in running.items()}
    for nick in controllers:
        per_nick.setdefault(nick, []).append(info(CONTROLLER, S.RUNNING, start=1.5, now=3.0))
    return snapshot(CLUSTER, {"*": base, **per_nick})


class Cluster:
    """A scripted cluster watched by controllers (``local`` nick -> Controller, None: started by hand).

    ``hidden[local]``: instances that controller cannot reach (a partition); ``script.down``: instances
    nobody reaches (killed); ``frozen``: instances that miss the next poll of everyone (one missed poll).
    """

    def __init__(self, tmp_path: Path | None, snap: Snapshot, locals_: tuple[str | None, ...] = ("s1", "s2"),
                 options: ControllerOptions = OPTIONS, cfg_strategy: str = "RESTART_PROCESS",
                 rules: Rules | None = None, instance_list: InstanceList = CLUSTER) -> None:
        if rules is None:   # the rules of the integration tests' cluster (s1..s3 servers, svc_* and cfg:p)
            assert tmp_path is not None
            path = tmp_path / "rules.xml"
            path.write_text(RULES.format(cfg_strategy=cfg_strategy))
            rules = load_rules([str(path)], instance_list)
        self.rules = rules
        self.script = Script(self.rules, snap)
        self.controllers = {local: Controller(self.rules, instance_list,
                                              instance_list.find(local) if local else None, options, now=0.0)
                            for local in locals_}
        self.hidden: dict[str | None, set[str]] = {local: set() for local in locals_}
        self.frozen: set[str] = set()
        self.now = 0.0
        self.events: dict[str | None, list] = {local: [] for local in locals_}
        self.acting_log: list[tuple[float, tuple[str | None, ...]]] = []

    def view(self, local: str | None, snap: Snapshot) -> Snapshot:
        cut = self.hidden[local] | self.frozen
        if local is not None and local in cut:       # a controller always reaches its own supervisord
            cut = cut - {local}
        return Snapshot(tuple(InstanceSnapshot(s.instance, "UNREACHABLE", "timeout", error_kind=Unreachable.TIMEOUT)
                              if s.instance.nick in cut and s.reachable else s for s in snap.instances))

    def run(self, seconds: float, tick: float = 0.25, after_send=None) -> None:
        end = self.now + seconds
        while self.now < end - 1e-9:
            self.begin_tick()
            # a controller whose server is dead is dead too
            pending = [(local, controller, self.cycle_of(local, controller))
                       for local, controller in self.controllers.items()
                       if local is None or local not in self.script.down]
            self.acting_log.append((self.now, tuple(local for local, c in self.controllers.items()
                                                    if c.state()["acting"]
                                                    and (local is None or local not in self.script.down))))
            for local, controller, requests in pending:
                reachable = [r for r in requests if r.instance.nick not in self.hidden[local]]
                results = self.script.send(reachable, self.now)
                for request, result in zip(reachable, results):
                    controller.on_result(request, result, self.now)
                self.events[local] += controller.drain_events()
            if after_send is not None and after_send(self):
                after_send = None
            self.frozen = set()
            self.now += tick

    def begin_tick(self) -> None:
        """What the cluster is at this tick (every controller sees it whole, but for cuts and freezes)."""
        self.snap = self.script.at(self.now)

    def cycle_of(self, local, controller) -> list:
        """One cycle of the controller under ``local``: the requests it sends."""
        return controller.cycle(self.view(local, self.snap), self.now)

    def starts(self) -> list[tuple[str, str]]:
        return [(ns, nick) for _, method, ns, nick in self.script.log if method == "startProcess"]

    def running(self) -> dict[str, list[str]]:
        """namespec -> where it is active (instances not down) in the script's truth."""
        found: dict[str, list[str]] = {}
        for snap in self.script.snap.instances:
            if snap.instance.nick in self.script.down:
                continue
            for p in snap.processes:
                if p.running and p.group != "supv_controller":
                    found.setdefault(p.namespec, []).append(snap.instance.nick)
        return found

    def kill(self, nick: str) -> None:
        """A power cut: the instance stops answering and what ran there is gone."""
        self.script.down.add(nick)

    def said(self, local: str | None, kind: str) -> list[str]:
        return [e.message for e in self.events[local] if e.kind == kind]


def once_each(running: dict[str, list[str]], namespecs=SERVICES) -> bool:
    return all(len(running.get(ns, [])) == 1 for ns in namespecs)


# ============================================================================================= double failure
def test_double_failure_with_the_takeover_in_between(tmp_path):
    # s3 dies; the acting controller (s1) sends the restart of svc_c (LESS_LOADED: s1, the least loaded);
    # s1 dies at once, before the standby (s2) saw the start. The standby never witnessed s3's loss as
    # the acting one: it must still restart svc_c (and s1's svc_a), from the last answers it kept.
    c = Cluster(tmp_path, cluster({"s1": ["srv:svc_a"], "s2": ["srv:svc_b", "srv:svc_d"], "s3": ["srv:svc_c"]}))
    c.run(1.0)
    assert c.controllers["s1"].acting and not c.controllers["s2"].acting
    c.kill("s3")

    def kill_s1_once_svc_c_is_sent(cluster: Cluster) -> bool:
        if ("srv:svc_c", "s1") in cluster.starts():
            cluster.kill("s1")
            return True
        return False

    c.run(2.0, after_send=kill_s1_once_svc_c_is_sent)
    assert "s1" in c.script.down, c.starts()
    c.run(4.0)
    standby = c.controllers["s2"]
    assert standby.acting
    assert once_each(c.running()), c.running()
    assert sorted(ns for ns, nick in c.running().items() if nick == ["s2"]) == list(SERVICES)
    decisions = " | ".join(c.said("s2", "decision"))
    assert "svc_c" in decisions and "svc_a" in decisions, decisions


def test_a_loss_before_this_controller_acted_is_recovered(tmp_path):
    # s3 is lost while s1 acts, but s1's controller dies (its program stops) before doing anything:
    # the standby acts on a loss it only watched
    c = Cluster(tmp_path, cluster({"s1": ["srv:svc_a"], "s2": ["srv:svc_b"], "s3": ["srv:svc_c", "srv:svc_d"]}))
    c.run(1.0)
    c.controllers.pop("s1")
    c.kill("s3")
    c.run(1.0)                                    # s2 sees s3 lost while standing by
    assert not c.controllers["s2"].acting and c.starts() == []
    c.script._set("s1", CONTROLLER, S.STOPPED, 0)  # s1's controller is gone: s2 leads
    c.run(3.0)
    assert c.controllers["s2"].acting
    assert once_each(c.running()), c.running()


def test_a_program_stopped_after_the_loss_is_left_alone_and_said(tmp_path):
    # cfg:p runs on s2 (a single-program application); s2 is lost, and meanwhile cfg was stopped on
    # purpose elsewhere (stop time after the loss): not restarted, and one line says why
    c = Cluster(tmp_path, cluster({"s2": ["cfg:p"], "s1": list(SERVICES)}), locals_=("s1",))
    c.run(1.0)
    c.kill("s2")
    c.script._set("s3", "cfg:p", S.STOPPED, 0)
    c.script.snap = Snapshot(tuple(replace(s, processes=tuple(replace(p, stop=99.0) if p.namespec == "cfg:p" else p
                                                              for p in s.processes))
                                   if s.instance.nick == "s3" else s for s in c.script.snap.instances))
    c.run(3.0)
    assert ("cfg:p", "s3") not in c.starts()
    assert any("stopped after s2 was lost" in m for m in c.said("s1", "decision"))


def test_a_start_the_standby_never_saw_is_not_lost(tmp_path):
    # s1's controller starts everything (automatic start) and is cut off at once: the standby never saw
    # svc_a on s1 (its last answer of s1 predates the start); svc_a never ran anywhere, its application
    # runs: the standby starts it (and nothing that did run)
    base = [info(n) for n in SERVICES] + [info("cfg:p"), info(CONTROLLER, stop=1.0)]
    ctl = [info(CONTROLLER, S.RUNNING, start=1.5, now=3.0)]
    c = Cluster(tmp_path, snapshot(CLUSTER, {"*": base, "s1": ctl, "s2": ctl}))

    def cut_s1_once_started(cluster: Cluster) -> bool:
        if cluster.starts():
            cluster.hidden["s1"] = {"s2", "s3", "c1", "c2"}
            cluster.hidden["s2"] = {"s1"}
            return True
        return False

    c.run(0.25, after_send=cut_s1_once_started)
    first = c.starts()
    on_s1 = sorted(ns for ns, nick in first if nick == "s1")
    assert on_s1, first
    c.run(4.0)
    again = c.starts()[len(first):]
    assert sorted(ns for ns, _ in again) == on_s1 and all(nick != "s1" for _, nick in again), again
    assert any("never started" in m for m in c.said("s2", "decision"))


def test_a_start_sent_to_an_instance_lost_before_it_answered_is_not_lost(tmp_path):
    # the acting controller starts svc_c on s3 and s3 dies before answering again: its last answer
    # shows svc_c STOPPED, yet the start was sent: svc_c is placed again elsewhere
    base = [info(n) for n in SERVICES] + [info("cfg:p"), info(CONTROLLER, stop=1.0)]
    c = Cluster(tmp_path, snapshot(CLUSTER, {"*": base, "s1": [info(CONTROLLER, S.RUNNING, start=1.5, now=3.0)]}),
                locals_=("s1",))

    def kill_s3_once_started(cluster: Cluster) -> bool:
        if any(nick == "s3" for _, nick in cluster.starts()):
            cluster.kill("s3")
            return True
        return False

    c.run(0.25, after_send=kill_s3_once_started)
    on_s3 = sorted(ns for ns, nick in c.starts() if nick == "s3")
    assert on_s3 and "s3" in c.script.down, c.starts()
    c.run(4.0)
    assert all(c.running().get(ns) for ns in on_s3), c.running()


# ============================================================================================= one missed poll
def test_one_missed_poll_starts_nothing_and_moves_no_leadership(tmp_path):
    # cfg (CONFIG, identifiers s2,s3) runs on s2 only; s2 and the leader's s1 miss one poll each
    c = Cluster(tmp_path, cluster({"s2": ["cfg:p"], "s1": ["srv:svc_a", "srv:svc_b"], "s3": ["srv:svc_c",
                                                                                                "srv:svc_d"]}))
    c.run(1.0)
    for nick in ("s2", "s1", "s2"):
        c.frozen = {nick}
        c.run(0.25)
        c.run(0.5)
    assert c.starts() == []
    assert all(acting == ("s1",) for _, acting in c.acting_log), c.acting_log
    assert not any(e.kind in ("lost", "leader") for e in c.events["s2"][1:]), c.events["s2"]


# ============================================================================================= CONTINUE
def test_continue_is_not_bypassed_by_the_automatic_start(tmp_path):
    # cfg is CONTINUE and ran on s2: s2 dies; neither the recovery nor the automatic start moves it to s3
    c = Cluster(tmp_path, cluster({"s2": ["cfg:p"], "s1": list(SERVICES)}), cfg_strategy="CONTINUE")
    c.run(1.0)
    c.kill("s2")
    c.run(4.0)
    assert [s for s in c.starts() if s[0] == "cfg:p"] == []
    continues = [m for m in c.said("s1", "decision") if m.startswith("CONTINUE")]
    assert continues == ["CONTINUE (lost s2): nothing restarted"]          # said once, not every cycle


# ============================================================================================= quorum
def test_the_minority_side_starts_and_stops_nothing_then_conflicts_are_conciliated(tmp_path):
    # s1 (acting) is cut off from everyone: alone it sees 1 of 5 instances; the majority (s2) moves s1's
    # programs; after healing, every program runs exactly once within 5 s
    c = Cluster(tmp_path, cluster({"s1": ["srv:svc_a", "srv:svc_b"], "s2": ["srv:svc_c"], "s3": ["srv:svc_d"]}))
    c.run(1.0)
    c.hidden["s1"] = {"s2", "s3", "c1", "c2"}
    c.hidden["s2"] = {"s1"}
    c.run(5.0)
    assert not any(nick == "s1" for _, nick in c.starts())
    minority = c.said("s1", "quorum")
    assert len(minority) == 1 and "minority side, starting and stopping nothing" in minority[0]
    assert c.controllers["s2"].acting and c.controllers["s2"].in_quorum
    assert {ns for ns, _ in c.starts()} == {"srv:svc_a", "srv:svc_b"}
    assert all(len(acting) <= 1 for _, acting in c.acting_log), "two controllers acted at once"
    c.hidden = {local: set() for local in c.hidden}
    healed = c.now
    c.run(5.0)
    assert once_each(c.running()), c.running()
    assert len(c.said("s1", "quorum")) == 2                                  # "sees 5 of 5 again"
    # back from the minority side, s1 acts again only once s2 stood by: never both at once
    assert all(len(acting) <= 1 for _, acting in c.acting_log), [a for a in c.acting_log if a[0] >= healed]
    assert c.acting_log[-1][1] == ("s1",)


def test_quorum_1_acts_alone(tmp_path):
    c = Cluster(tmp_path, cluster({"s1": ["srv:svc_a"], "s2": ["srv:svc_b"], "s3": ["srv:svc_c", "srv:svc_d"]}),
                locals_=("s1",), options=replace(OPTIONS, quorum=1))
    c.run(1.0)
    c.hidden["s1"] = {"s2", "s3", "c1", "c2"}
    c.run(3.0)
    assert c.controllers["s1"].in_quorum and c.said("s1", "quorum") == []
    assert {ns for ns, nick in c.starts() if nick == "s1"} == {"srv:svc_b", "srv:svc_c", "srv:svc_d"}


def test_two_servers_of_five_dying_leave_a_majority_that_recovers(tmp_path):
    c = Cluster(tmp_path, cluster({"s1": ["srv:svc_a"], "s2": ["srv:svc_b"], "s3": ["srv:svc_c", "srv:svc_d"]}),
                locals_=("s1",))
    c.run(1.0)
    c.kill("s2")
    c.kill("s3")
    c.run(4.0)
    assert getattr(c.controllers["s1"], "in_quorum", True)
    assert c.running() == {ns: ["s1"] for ns in SERVICES}


# ============================================================================================= leadership
def test_leadership_moves_only_on_a_declared_loss_and_returns_after_lost_after_answers(tmp_path):
    c = Cluster(tmp_path, cluster({"s1": ["srv:svc_a"], "s2": ["srv:svc_b"], "s3": ["srv:svc_c", "srv:svc_d"]}))
    c.run(1.0)
    # a lossy link to s1: every other poll lost, for a while: never two in a row, so never lost
    for _ in range(10):
        c.hidden["s2"] = {"s1"}
        c.run(0.25)
        c.hidden["s2"] = set()
        c.run(0.25)
    assert [e for e in c.events["s2"] if e.kind == "leader"] == c.events["s2"][:1]
    assert all(acting == ("s1",) for _, acting in c.acting_log)
    c.hidden["s2"] = {"s1"}
    c.run(0.5)                                    # two missed polls: s1 lost for s2...
    assert "s1" in c.controllers["s2"].members.lost and not c.controllers["s2"].acting
    c.run(0.25)                                   # ...which acts one poll later
    assert c.controllers["s2"].acting
    c.hidden["s2"] = set()
    c.run(0.25)                                   # s1 answers once: s2 keeps acting
    assert c.controllers["s2"].acting
    c.run(0.25)                                   # twice (lost_after): s1 leads again
    assert not c.controllers["s2"].acting and c.controllers["s2"].leader == "s1"


def test_an_instance_never_seen_is_presumed_to_lead_until_it_answers_or_is_lost(tmp_path):
    # s2's controller starts while s1 (the leader) does not answer: it does not act at once (s1's
    # controller may be acting), only once s1 is lost
    c = Cluster(tmp_path, cluster({"s1": ["srv:svc_a"], "s2": ["srv:svc_b"], "s3": ["srv:svc_c", "srv:svc_d"]}),
                locals_=("s2",))
    c.hidden["s2"] = {"s1"}
    c.run(0.25)
    assert not c.controllers["s2"].acting and c.controllers["s2"].leader == "s1"
    c.run(0.25)
    assert c.controllers["s2"].acting


def test_quorum_larger_than_the_instance_list_is_refused(tmp_path):
    rules = tmp_path / "rules.xml"
    rules.write_text("<root/>")
    result = run_supv("run-plan", "--watch", "-i", "<a>127.0.3.1:9 <b>127.0.3.2:9", "-r", str(rules),
                      "--quorum", "3")
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert "--quorum" in result.stderr and "2 instances" in result.stderr and "Traceback" not in result.stderr


# ============================================================================================= a second controller
def test_a_controller_started_by_hand_says_another_one_acts(tmp_path):
    c = Cluster(tmp_path, cluster({"s1": ["srv:svc_a"], "s2": ["srv:svc_b"], "s3": ["srv:svc_c", "srv:svc_d"]}),
                locals_=("s1", None))
    c.run(1.5)
    rivals = c.said(None, "rival")
    assert len(rivals) == 2 and "s1" in rivals[0] and "s2" in rivals[1], rivals
    assert c.said("s1", "rival") == []


# ============================================================================================= crashes
def test_a_crash_seen_by_the_standby_is_handled_after_the_takeover(tmp_path):
    rules = "STOP_APPLICATION"
    c = Cluster(tmp_path, cluster({"s2": ["cfg:p", "srv:svc_b"], "s1": ["srv:svc_a"], "s3": ["srv:svc_c"]}),
                cfg_strategy=rules)
    c.run(1.0)
    c.controllers.pop("s1")                        # the acting controller dies...
    c.script.timeline.append((c.now, "s2", "cfg:p", (S.FATAL, 1)))    # ...as cfg:p crashes
    c.run(0.5)
    c.script._set("s1", CONTROLLER, S.STOPPED, 0)
    c.run(1.0)
    assert c.controllers["s2"].acting
    assert any(e.kind == "crash" and e.process == "p" for e in c.events["s2"])


# ============================================================================================= nothing lost silently
def test_an_orphan_that_cannot_be_restarted_says_why(tmp_path):
    # svc_b's restart keeps failing (FATAL): the move is free, then each retry is charged to the budget,
    # and when it is spent one line says so (not one per cycle)
    c = Cluster(tmp_path, cluster({"s1": ["srv:svc_a"], "s2": ["srv:svc_b"], "s3": ["srv:svc_c", "srv:svc_d"]}),
                locals_=("s1",))
    c.script.outcomes["srv:svc_b"] = ("FATAL", 0.3)
    c.run(1.0)
    c.kill("s2")
    c.run(8.0)
    tries = [nick for ns, nick in c.starts() if ns == "srv:svc_b"]
    assert len(tries) == 1 + OPTIONS.restart_budget, tries     # the free move, then the budget
    budget = c.said("s1", "budget")
    assert len(budget) == 1 and "not restarting again" in budget[0]


# ============================================================================================= Scenario 3
SCEN3_RULES = Path(__file__).resolve().parents[2] / "use_cases" / "scenario_3" / "etc" / "supvisors_rules.xml"
SCEN3 = instances("server_1", "server_2", "server_3", "console_1", "console_2", "console_3")
SRV_SERVICES = tuple(f"scen3_srv:scen3_{n}" for n in ("common_bus_interface", "item_manager", "system_health",
                                                      "track_manager"))
SRV_CHECKS = ("scen3_srv:scen3_check_common_data_bus", "scen3_srv:scen3_check_internal_data_bus")
HCI = tuple(f"scen3_hci_0{n}" for n in (1, 2, 3))
HCI_PROGRAMS = ("scen3_chart_view", "scen3_item_control", "scen3_check_internal_data_bus")


def scenario3() -> Cluster:
    """Scenario 3 freshly booted (nothing ever started), controllers on the three servers."""
    rules = load_rules([str(SCEN3_RULES)], SCEN3)
    servers = [info(ns) for ns in SRV_SERVICES + SRV_CHECKS]
    consoles = [info(f"{hci}:{name}") for hci in HCI for name in HCI_PROGRAMS]
    per_nick = {}
    for nick in ("server_1", "server_2", "server_3"):
        per_nick[nick] = servers + [info(CONTROLLER, S.RUNNING, start=1.0, now=1.0)]
    for nick in ("console_1", "console_2", "console_3"):
        per_nick[nick] = list(consoles)
    c = Cluster(None, snapshot(SCEN3, per_nick), locals_=("server_1", "server_2"), rules=rules,
                instance_list=SCEN3, options=replace(OPTIONS, restart_budget=3))
    for check in SRV_CHECKS + tuple(f"{hci}:scen3_check_internal_data_bus" for hci in HCI):
        c.script.outcomes[check] = ("EXIT", 0.2, 0)
    return c


def test_scenario3_requirements_1_13_20_21():
    c = scenario3()
    c.run(10.0)
    placed = c.running()
    # Requirement 1: scen3_srv started automatically, on the servers only (Req 10), spread (Req 11)
    assert once_each(placed, SRV_SERVICES), placed
    assert {placed[ns][0] for ns in SRV_SERVICES} == {"server_1", "server_2", "server_3"}
    # Requirement 20: one scen3_hci on each console (scen3_hci_0N on console_N)
    for n, hci in enumerate(HCI, start=1):
        assert placed[f"{hci}:scen3_chart_view"] == [f"console_{n}"], placed
    # Requirement 13: server_2 fails: its services are re-distributed on the other servers, LESS_LOADED
    lost = [ns for ns in SRV_SERVICES if placed[ns] == ["server_2"]]
    c.kill("server_2")
    c.run(4.0)
    after = c.running()
    assert once_each(after, SRV_SERVICES), after
    assert all(after[ns][0] in ("server_1", "server_3") for ns in lost)
    loads = [sum(1 for ns in SRV_SERVICES if after[ns] == [nick]) for nick in ("server_1", "server_3")]
    assert sorted(loads) == [2, 2], after
    # Requirement 21: console_2 fails: scen3_hci_02 is not restarted on another console
    c.kill("console_2")
    c.run(4.0)
    assert not any(ns.startswith("scen3_hci_02") for ns in c.running()), c.running()
    assert "CONTINUE (lost console_2): nothing restarted" in c.said("server_1", "decision")
