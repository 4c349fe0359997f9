"""Soak test of the failover controller (issue: the controller, ``supv run-plan --watch``). Not in CI.

Scenario 3 with a controller on each server (as bench/failover.py), then N minutes of random trouble
over the six instances, one action every few seconds:

* kill -9 an instance with its programs (a power cut), or freeze it (SIGSTOP: a hung host);
* bring a killed instance back (start its supervisord again) or wake a frozen one (SIGCONT);
* crash a scen3_srv program (kill -9 of its process group; Supervisor's autorestart brings it back).

At most two instances are in trouble at once and at least one server is always up. ``--spare`` (default
server_1) is frozen but never killed, so one controller process lives through the whole soak (it hands
over and takes back the lead each time its server is frozen and woken) and its memory is measured.

At the end every instance is brought back, and the checks are:

* every required program of scen3_srv (the long-running services) runs exactly once;
* no program of a managed application runs on two instances;
* exactly one controller acts, and it has no lost instance;
* the resident memory (VmRSS, /proc/PID/status) of every controller process that lived through the
  soak grew less than 10 % from the end of the warm-up to the end.

The controllers run with their defaults but a larger restart budget (``--budget``, default 1000): the
default (3 restarts of a program per 300 s, moves after an instance loss included) would, by design,
leave a program that was moved a fourth time stopped until an operator runs ``supv run-plan``.

Every supervisord started here (and its programs) is stopped at the end, by pid.

Run: python bench/soak.py [--minutes 5] [--seed N] [--period 6] [--spare server_1] [--budget 1000]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.failover import (  # noqa: E402
    CONTROLLER,
    SERVICES,
    acting_controllers,
    instances_of,
    placement,
    wait_settled,
)
from supv_cli.model.snapshot import ProcessState  # noqa: E402
from tests.support.calls import take_snapshot  # noqa: E402
from tests.support.scenario3 import CONSOLES, SERVERS, Scenario3, prepare  # noqa: E402

RSS_LIMIT = 0.10


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def controller_pids(cluster: Scenario3, trouble: dict[str, str]) -> dict[str, int]:
    """nick -> pid of its RUNNING controller (servers not in trouble)."""
    found = {}
    for nick in SERVERS:
        if nick in trouble:
            continue
        try:
            info = cluster.servers[nick].proxy(2).supervisor.getProcessInfo(CONTROLLER)
        except Exception:
            continue
        if info["statename"] == "RUNNING":
            found[nick] = int(info["pid"])
    return found


class Soak:
    def __init__(self, cluster: Scenario3, chooser: random.Random, spare: str) -> None:
        self.cluster = cluster
        self.chooser = chooser
        self.spare = spare
        self.trouble: dict[str, str] = {}    # nick -> "killed" | "frozen"
        self.counts: dict[str, int] = {}

    def log(self, elapsed: float, message: str) -> None:
        print(f"[{elapsed:6.1f}s] {message}", file=sys.stderr)

    def count(self, kind: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1

    def restore(self, nick: str) -> None:
        server = self.cluster.servers[nick]
        if self.trouble.pop(nick) == "frozen":
            server.sigcont()
            self.count("woken")
        else:
            server.start()
            self.count("restarted")

    def act(self, elapsed: float) -> None:
        healthy_servers = [n for n in SERVERS if n not in self.trouble]
        candidates = [n for n in SERVERS + CONSOLES if n not in self.trouble
                      and not (n in SERVERS and len(healthy_servers) == 1)]
        roll = self.chooser.random()
        if self.trouble and (roll < 0.4 or len(self.trouble) >= 2 or not candidates):
            nick = self.chooser.choice(sorted(self.trouble))
            what = self.trouble[nick]
            self.restore(nick)
            self.log(elapsed, f"{nick}: {'woken (SIGCONT)' if what == 'frozen' else 'started again'}")
        elif roll > 0.85 and healthy_servers:
            self.crash_a_program(elapsed, healthy_servers)
        else:
            nick = self.chooser.choice(candidates)
            server = self.cluster.servers[nick]
            if nick == self.spare or self.chooser.random() < 0.3:
                server.sigstop()
                self.trouble[nick] = "frozen"
                self.count("frozen")
                self.log(elapsed, f"{nick}: frozen (SIGSTOP)")
            else:
                server.power_cut()
                self.trouble[nick] = "killed"
                self.count("killed")
                self.log(elapsed, f"{nick}: killed with its programs (kill -9)")

    def crash_a_program(self, elapsed: float, servers: list[str]) -> None:
        snapshot = take_snapshot([i for i in instances_of(self.cluster) if i.nick in servers], timeout=2)
        running = [(s.instance.nick, i.namespec, i.pid) for s in snapshot for i in s.processes
                   if i.namespec in SERVICES and i.state is ProcessState.RUNNING and i.pid]
        if not running:
            return
        nick, namespec, pid = self.chooser.choice(running)
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        self.count("crashed")
        self.log(elapsed, f"{namespec} on {nick}: crashed (kill -9, pid {pid})")


def final_checks(cluster: Scenario3) -> list[tuple[bool, str]]:
    snapshot = wait_settled(cluster, deadline=90.0)
    checks = []
    where = placement(snapshot)
    found = ", ".join(f"{ns.split(':')[1]} on {','.join(where.get(ns, [])) or 'NOTHING'}" for ns in SERVICES)
    checks.append((all(len(where.get(ns, [])) == 1 for ns in SERVICES),
                   f"every required scen3_srv program runs exactly once: {found}"))
    active: dict[str, list[str]] = {}
    for snap in snapshot:
        for info in snap.processes:
            if info.group.startswith(("scen3_srv", "scen3_hci")) and info.running:
                active.setdefault(info.namespec, []).append(snap.instance.nick)
    twice = {ns: nicks for ns, nicks in active.items() if len(nicks) > 1}
    checks.append((not twice, f"no managed program on two instances{': ' + str(twice) if twice else ''}"))
    acting = acting_controllers(snapshot)
    checks.append((len(acting) == 1 and not any(s.get("lost") for s in acting.values()),
                   f"one acting controller ({', '.join(acting) or 'none'}), no lost instance"))
    hci = sorted({ns.split(":")[0] for ns in active if ns.startswith("scen3_hci")})
    print(f"scen3_hci applications running at the end: {', '.join(hci) or 'none'} (CONTINUE: a lost "
          "console's HCI is not restarted; a new leader starts one that looks never started)",
          file=sys.stderr)
    return checks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: a new one, printed)")
    parser.add_argument("--period", type=float, default=6.0, help="mean seconds between two actions")
    parser.add_argument("--warmup", type=float, default=30.0,
                        help="seconds of soak before the reference RSS is read (imports, first decisions)")
    parser.add_argument("--spare", default="server_1", help="frozen but never killed ('' for none)")
    parser.add_argument("--budget", type=int, default=1000, help="the controllers' --restart-budget")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    chooser = random.Random(seed)
    print(f"soak: {args.minutes:g} min, seed {seed}, an action every {args.period:g}s on average, "
          f"restart budget {args.budget}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="supv-bench-soak-") as tmp:
        cluster = Scenario3(prepare(Path(tmp) / "scenario_3"), controllers=True,
                            controller_args=("--restart-budget", str(args.budget)))
        cluster.start()
        soak = Soak(cluster, chooser, args.spare)
        try:
            wait_settled(cluster)
            start = time.monotonic()
            reference: dict[int, tuple[str, int]] = {}   # pid -> (nick, RSS KiB) after the warm-up
            first: dict[int, int] = {pid: rss_kib(pid) or 0 for pid in controller_pids(cluster, {}).values()}
            while time.monotonic() - start < args.minutes * 60:
                elapsed = time.monotonic() - start
                if not reference and elapsed >= args.warmup:
                    reference = {pid: (nick, rss_kib(pid) or 0) for nick, pid in
                                 controller_pids(cluster, soak.trouble).items()}
                soak.act(elapsed)
                time.sleep(chooser.uniform(args.period / 2, args.period * 1.5))
            for nick in sorted(soak.trouble):
                soak.restore(nick)
            soak.log(time.monotonic() - start, "every instance back; waiting for the controllers to settle")
            checks = final_checks(cluster)
            end = controller_pids(cluster, {})
            growths = []
            for pid, (nick, before) in sorted(reference.items()):
                after = rss_kib(pid)
                if after is None or pid not in end.values() or not before:
                    continue
                growth = (after - before) / before
                since_start = f"; {first[pid]} KiB at the start" if pid in first else ""
                growths.append((growth, f"controller of {nick} (pid {pid}): RSS {before} -> {after} KiB "
                                        f"after the warm-up, {growth:+.1%}{since_start}"))
            checks.append((bool(growths) and all(g < RSS_LIMIT for g, _ in growths),
                           f"RSS growth under {RSS_LIMIT:.0%} for the {len(growths)} controller(s) alive "
                           "throughout"))
        finally:
            cluster.stop()
    print(f"actions: {', '.join(f'{count} {kind}' for kind, count in sorted(soak.counts.items()))}")
    for _, line in growths:
        print(f"  {line}")
    for ok, line in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {line}")
    sys.exit(0 if all(ok for ok, _ in checks) else 1)


if __name__ == "__main__":
    main()
