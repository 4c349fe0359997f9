"""Fault injection on the controller (issue 10): the faults that lost or doubled programs, as trials.

Each trial starts a fresh cluster (tests/support/controlled.py: 3 servers + 2 consoles, real
supervisord, controllers on s1 and s2, every controller link through a userspace TCP proxy), waits until
the automatic start placed srv:svc_a..c once each and cfg:p on s2, injects one fault, and samples every
supervisord every 0.1 s. Cases:

* ``double``: kill -9 s3 (supervisord and programs); the moment s3's service is being started on s1
  (polled every 5 ms), kill -9 s1 (the acting controller's server, controller included);
* ``missed``: SIGSTOP s2 (which runs cfg:p, CONFIG on s2,s3) for 1.2-1.8 s, as the fault round did;
* ``continue``: cfg is CONTINUE; kill -9 s2: cfg:p must not be started elsewhere;
  (for these two the acting controller is restarted first: one that has not started anything
  automatically for 30 s, as in a long-running cluster);
* ``partition``: s1 (acting) cut off both ways for 10 s, then healed;
* ``flap``: the links between s1 and the others cut 0.3 s out of every 0.8 s, for 8 s;
* ``move1`` (issue 16): s1's service moved onto s3 by an operator (stopped on s1, started on s3), then
  0.3-2.5 s later kill -9 s3;
* ``move2``: the same move, kill -9 s3 1-4 s later, and kill -9 s1 the moment one of its restarts
  reached s1 or s2 (polled every 5 ms);
* ``opmove``: no fault: ``supv restart SERVICE --strategy MOST_LOADED`` (a real one, so the service moves
  to another server) at a random point of the pacing, ``--moves`` times per trial; each one must exit 0
  and leave the service running once.

Per trial: *duplicates* (programs seen active on two instances at once; during a partition the cut-off
side keeps what it ran, so only after healing + 5 s counts), *losses* (srv services or a RESTART cfg:p
running nowhere at the end, ``--linger`` seconds after convergence), *stops* (conciliation stops the
controllers logged: needless ones, as no case here makes a real second copy but the partition),
*moves* of a CONTINUE program, *minor*: programs the cut-off side started
during a partition, *dual* (samples where both controllers said they act), *leader changes*, and the
*convergence* time (from the fault, or from the healing for a partition, to every service running
exactly once).

Everything started here is stopped at the end of each trial, by pid.

Run: python bench/chaos.py [--trials 3] [--cases double,missed,continue,partition,flap,move1,move2,opmove]
     [--seed N] [--keep] [--supv DIR] [--linger 5] [--moves 5]
     (DIR: another checkout, e.g. ``git worktree add /tmp/base main``, for a baseline)
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.controlled import SERVICES, ControlledCluster, Placement, once_each, wait_until  # noqa: E402

SAMPLE = 0.1
SETTLE = 30.0
CONVERGE = 25.0


@dataclass
class Trial:
    case: str
    duplicates: set[str] = field(default_factory=set)
    losses: list[str] = field(default_factory=list)
    moves: int = 0
    dual: int = 0
    leader_changes: int = 0
    converged: float | None = None
    minority: list[str] = field(default_factory=list)
    stops: int = 0
    #: opmove: `supv restart` runs that exited non-zero, moves that did not leave the service once
    failed_moves: int = 0
    error: str = ""


class Watcher:
    """Samples the cluster: duplicates since ``count_from``, the first time everything ran once."""

    def __init__(self, cluster: ControlledCluster, trial: Trial) -> None:
        self.cluster, self.trial = cluster, trial
        self.started = time.monotonic()
        self.count_from = 0.0
        self.converge_from = 0.0
        self.last: Placement = {}

    def sample(self, seconds: float, skip: tuple[str, ...] = (), stop: Callable[[Placement], bool] | None = None,
               ) -> Placement:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            placement = self.cluster.placement(skip=skip)
            self.last = placement
            now = time.monotonic() - self.started
            if now >= self.count_from:
                self.trial.duplicates |= {ns for ns, nicks in placement.items() if len(nicks) > 1}
            if self.trial.converged is None and once_each(placement) and now >= self.converge_from:
                self.trial.converged = now - self.converge_from
            if len(self.cluster.acting()) > 1:
                self.trial.dual += 1
            if stop is not None and stop(placement):
                break
            time.sleep(SAMPLE)
        return self.last


def restart_acting(cluster: ControlledCluster) -> None:
    """Restart the acting controller (s1) and wait until it acts: a controller that has not started
    anything automatically for a while (the 30 s retry) is in the same state."""
    cluster.stop_controller("s1")
    cluster.start_controller("s1")
    wait_until("s1's new controller acting", lambda: cluster.log("s1").count("acting on s1"), lambda n: n >= 2,
               deadline=SETTLE)
    time.sleep(0.5)


def operator_move(cluster: ControlledCluster, namespec: str, supv: Path) -> int:
    """``supv restart NAMESPEC --strategy MOST_LOADED`` over the real instances; its exit code."""
    servers = " ".join(server.spec for server in cluster.servers.values())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SUPV_", "SUPERVISOR_"))}
    env["PYTHONPATH"] = str(supv)
    done = subprocess.run([sys.executable, "-m", "supv_cli", "restart", namespec, "--strategy", "MOST_LOADED",
                           "-i", servers, "-r", str(cluster.rules)], env=env, cwd=cluster.workdir,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    return done.returncode


def move_then_kill(cluster: ControlledCluster, before: Placement, rng: random.Random, delay: tuple[float, float],
                   ) -> list[str]:
    """s1's service moved onto s3 by an operator, s3 killed ``delay`` seconds later; s3's services."""
    moved = next(ns for ns in SERVICES if before[ns] == ["s1"])
    cluster.move(moved, "s1", "s3")
    time.sleep(rng.uniform(*delay))
    cluster.power_cut("s3")
    return [moved] + [ns for ns in SERVICES if before[ns] == ["s3"]]


def run_trial(case: str, rng: random.Random, keep: bool = False, supv: Path = ROOT, linger: float = 5.0,
              moves: int = 5) -> Trial:
    trial = Trial(case)
    workdir = Path(tempfile.mkdtemp(prefix=f"supv-chaos-{case}-"))
    strategy = "CONTINUE" if case in ("continue", "missed") else "RESTART_PROCESS"
    cluster = ControlledCluster(workdir, cfg_strategy=strategy, supv_root=supv)
    try:
        cluster.start()
        wait_until("settled", cluster.placement, lambda p: once_each(p) and p.get("cfg:p") == ["s2"],
                   deadline=SETTLE)
        wait_until("s1 acting", cluster.acting, lambda acting: acting == ["s1"], deadline=SETTLE)
        time.sleep(1.0)
        before = cluster.placement()
        watch = Watcher(cluster, trial)

        def minority_started(placement: Placement) -> list[str]:
            """What the cut-off s1 started during the partition."""
            return [ns for ns, nicks in placement.items() if "s1" in nicks and "s1" not in before.get(ns, [])]

        dead: tuple[str, ...] = ()

        def acting_lines() -> int:
            return sum(cluster.log(local).count("controller: acting") for local in ("s1", "s2"))

        elected = acting_lines()   # the elections so far (a restarted controller's included)
        if case == "double":
            lost = [ns for ns in SERVICES if before[ns] == ["s3"]]
            cluster.power_cut("s3")
            dead = ("s3",)
            s1 = cluster.servers["s1"].proxy(1.0)
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and not any(  # the moment a restart reaches s1
                    s1.supervisor.getProcessInfo(ns)["statename"] != "STOPPED" for ns in lost):
                time.sleep(0.005)
            cluster.power_cut("s1")
            dead = ("s1", "s3")
        elif case == "missed":
            restart_acting(cluster)
            elected = acting_lines()
            cluster.servers["s2"].sigstop()
            time.sleep(rng.uniform(1.2, 1.8))
            cluster.servers["s2"].sigcont()
        elif case == "continue":
            restart_acting(cluster)
            elected = acting_lines()
            cluster.power_cut("s2")
            dead = ("s2",)
        elif case == "partition":
            watch.count_from = float("inf")   # the cut-off side keeps what it ran: only after healing
            cluster.isolate("s1")
            started_there: set[str] = set()

            def note(placement: Placement) -> bool:
                started_there.update(minority_started(placement))
                return False

            watch.sample(10.0, stop=note)
            trial.minority = sorted(started_there)
            cluster.heal()
            watch.converge_from = time.monotonic() - watch.started
            watch.count_from = watch.converge_from + 5.0
            trial.converged = None
        elif case == "move1":
            move_then_kill(cluster, before, rng, (0.3, 2.5))
            dead = ("s3",)
        elif case == "move2":
            lost = move_then_kill(cluster, before, rng, (1.0, 4.0))
            dead = ("s3",)
            wait_until("a restart sent", lambda: cluster.restarts_reached(lost, ("s1", "s2")), bool, deadline=15,
                       every=0.005)
            cluster.power_cut("s1")
            dead = ("s1", "s3")
        elif case == "opmove":
            for _ in range(moves):
                namespec = rng.choice(SERVICES)
                time.sleep(rng.uniform(0.0, 2.0))
                code = operator_move(cluster, namespec, supv)
                time.sleep(2.0)
                if code != 0 or len(cluster.placement().get(namespec, [])) != 1:
                    trial.failed_moves += 1
        elif case == "flap":
            end = time.monotonic() + 8.0
            while time.monotonic() < end:
                cluster.isolate("s1")
                time.sleep(0.3)
                cluster.heal()
                watch.sample(0.5)
        watch.sample(CONVERGE if case != "missed" else 4.0, skip=dead,
                     stop=lambda p: trial.converged is not None and case != "partition"
                     and time.monotonic() - watch.started > 6.0)
        if case in ("move1", "move2", "opmove"):
            watch.sample(linger, skip=dead)    # still running a while later (--linger)
        final = watch.sample(1.0, skip=dead)
        trial.losses = [ns for ns in SERVICES if not final.get(ns)]
        if strategy != "CONTINUE" and not final.get("cfg:p") and "s2" not in dead:
            trial.losses.append("cfg:p")
        if case == "continue":
            trial.moves = len(final.get("cfg:p", []))
        trial.leader_changes = acting_lines() - elected   # every "acting" line after the fault: a new leader
        trial.stops = sum(cluster.log(local).count("conciliate ") for local in ("s1", "s2"))
    except Exception as error:  # a trial that breaks is reported, the others go on
        trial.error = f"{type(error).__name__}: {error}"[:300]
    finally:
        cluster.stop()
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return trial


def report(trials: list[Trial]) -> None:
    print(f"{'case':<10} {'trials':>6} {'dup':>4} {'lost':>5} {'stops':>5} {'moves':>5} {'minor':>5} {'dual':>5} "
          f"{'leader':>6} {'converge median/max (s)':>24} {'bad moves':>9} errors")
    for case in dict.fromkeys(t.case for t in trials):
        mine = [t for t in trials if t.case == case]
        times = [t.converged for t in mine if t.converged is not None]
        conv = f"{statistics.median(times):.1f} / {max(times):.1f}" if times else "-"
        print(f"{case:<10} {len(mine):>6} {sum(len(t.duplicates) for t in mine):>4} "
              f"{sum(len(t.losses) for t in mine):>5} {sum(t.stops for t in mine):>5} {sum(t.moves for t in mine):>5} "
              f"{sum(len(t.minority) for t in mine):>5} "
              f"{sum(t.dual for t in mine):>5} {sum(t.leader_changes for t in mine):>6} {conv:>24} "
              f"{sum(t.failed_moves for t in mine):>9} {sum(1 for t in mine if t.error)}")
        for t in mine:
            if t.error or t.losses or t.duplicates or t.minority:
                print(f"    {case}: duplicates={sorted(t.duplicates)} losses={t.losses} minority={t.minority} "
                      f"{t.error}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--cases", default="double,missed,continue,partition,flap,move1,move2,opmove")
    parser.add_argument("--linger", type=float, default=5.0,
                        help="move cases: seconds to keep sampling after convergence (60: 'still lost a minute later')")
    parser.add_argument("--moves", type=int, default=5, help="opmove: operator moves per trial")
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--keep", action="store_true", help="keep each trial's folder (logs) in /tmp")
    parser.add_argument("--supv", type=Path, default=ROOT, metavar="DIR",
                        help="the checkout whose supv_cli the controllers run (e.g. a worktree of main, to "
                             "compare); default this one")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    trials = []
    for case in args.cases.split(","):
        for number in range(args.trials):
            trial = run_trial(case, rng, args.keep, args.supv.resolve(), args.linger, args.moves)
            trials.append(trial)
            print(f"{case} #{number + 1}: dup={sorted(trial.duplicates)} lost={trial.losses} stops={trial.stops} "
                  f"bad_moves={trial.failed_moves} moves={trial.moves} "
                  f"minority={trial.minority} "
                  f"dual={trial.dual} leader={trial.leader_changes} converged={trial.converged} {trial.error}",
                  file=sys.stderr)
    print(f"controllers: {args.supv.resolve()}")
    report(trials)


if __name__ == "__main__":
    main()
