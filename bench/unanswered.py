"""Benchmark of commands with a frozen (SIGSTOP) instance, on Scenario 3 (issue 9, items 1 and 2).

(a) ``supv run-plan scen3_hci_01`` (console_1 only) with console_3 frozen, against the same start with
    every instance answering, measured in the same run. Aim: the frozen run takes about ``--timeout``
    (one wait, for the first snapshot) + 1 s more than the baseline, not one timeout per poll.
(b) ``supv stop-plan scen3_srv`` with server_2 frozen (scen3_srv runs on the three servers): its wall time
    against the baseline stop, and its exit code (3: server_2 may still run programs of scen3_srv).

(c) the controllers of Scenario 3 (``run-plan --watch``, 1 s timeout, 0.5 s cycle): how long after a
    server is frozen the acting controller declares it lost (``--lost-after 2`` missed polls).
(d) the same with the acting controller's own server frozen (as a host that vanishes without closing
    its connections): how long until a standby says it acts.

Each command runs in a new interpreter (what a user waits for), with the default ``--timeout`` (5 s).
Every supervisord started here (and its programs) is stopped at the end, by pid.

Run: python bench/unanswered.py [--timeout 5] [--trials 4] [--parts abcd]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import failover  # noqa: E402  (bench/failover.py: the Scenario 3 controller helpers)

from tests.support.calls import take_snapshot  # noqa: E402
from tests.support.scenario3 import SERVERS, Scenario3, prepare, supv_env  # noqa: E402

SUPV = [sys.executable, "-m", "supv_cli"]
ENV = {**supv_env(), "NO_COLOR": "1"}


def supv(scenario: Scenario3, timeout: float, *args: str) -> tuple[float, int, str]:
    """One supv command in a new process: (wall time, exit code, last stderr line)."""
    started = time.perf_counter()
    done = subprocess.run(SUPV + list(args) + ["-i", scenario.instance_list, "-r", scenario.rules, "--timeout",
                                              f"{timeout:g}", "-q"], env=ENV, cwd=str(ROOT), capture_output=True,
                          text=True, check=False, timeout=300)
    lines = done.stderr.strip().splitlines()
    return time.perf_counter() - started, done.returncode, lines[-1] if lines else ""


def frozen(scenario: Scenario3, nick: str, timeout: float, *args: str) -> tuple[float, int, str]:
    server = scenario.servers[nick]
    server.sigstop()
    try:
        return supv(scenario, timeout, *args)
    finally:
        server.sigcont()


def compare(scenario: Scenario3, timeout: float, label: str, nick: str, command: list[str],
            reset: list[str]) -> None:
    """``command`` with every instance answering, then with ``nick`` frozen; ``reset`` before each (a
    first run does more, e.g. the wait_exit checks that a rerun leaves alone: the baseline is the second)."""
    for _ in range(2):
        supv(scenario, timeout, *reset)
        base, code, _ = supv(scenario, timeout, *command)
        assert code == 0, (command, code)
    supv(scenario, timeout, *reset)
    took, code, last = frozen(scenario, nick, timeout, *command)
    print(f"{label} {' '.join(command)}: baseline {base:.2f}s; {nick} frozen {took:.2f}s (exit {code}); "
          f"extra {took - base:.2f}s = {(took - base) / timeout:.2f} x --timeout")
    if code:
        print(f"    {last}")


def freeze_detection(folder: Path, trials: int, parts: str) -> None:
    """(c): freeze a standby server; time until the acting controller says it is lost. (d): freeze the
    acting controller's server; time until a controller elsewhere says it acts."""
    cluster = Scenario3(prepare(folder / "scenario_3_controllers"), controllers=True)
    cluster.start()
    found: dict[str, list[float]] = {part: [] for part in "cd" if part in parts}
    try:
        for part in found:
            for _ in range(trials):
                snapshot = failover.wait_settled(cluster)
                acting = next(iter(failover.acting_controllers(snapshot)))
                nick = acting if part == "d" else next(n for n in SERVERS if n != acting)
                others = failover.instances_of(cluster, down=(nick,))
                cluster.servers[nick].sigstop()
                frozen_at, seen = time.monotonic(), None
                try:
                    while seen is None and time.monotonic() - frozen_at < 30:
                        states = failover.acting_controllers(take_snapshot(others, timeout=1))
                        if (any(nick in state.get("lost", []) for state in states.values()) if part == "c"
                                else any(other != nick for other in states)):
                            seen = time.monotonic() - frozen_at
                        time.sleep(0.05)
                finally:
                    cluster.servers[nick].sigcont()
                found[part].append(seen if seen is not None else float("inf"))
    finally:
        cluster.stop()
    labels = {"c": "(c) a frozen server is lost for the acting controller after",
              "d": "(d) the acting controller's server frozen: a standby acts after"}
    for part, times in found.items():
        print(f"{labels[part]}: median {statistics.median(times):.2f}s "
              f"(trials {', '.join(f'{t:.2f}' for t in times)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--trials", type=int, default=4, help="freezes of (c) and of (d)")
    parser.add_argument("--parts", default="abcd", help="the parts to run, e.g. cd")
    options = parser.parse_args()
    timeout = options.timeout
    with tempfile.TemporaryDirectory(prefix="supv-bench-unanswered-") as folder:
        if "a" in options.parts or "b" in options.parts:
            scenario = Scenario3(prepare(Path(folder) / "scenario_3"))
            scenario.start()
            try:
                print(f"Scenario 3 on {len(scenario.servers)} supervisord, --timeout {timeout:g}")
                if "a" in options.parts:
                    compare(scenario, timeout, "(a)", "console_3", ["run-plan", "scen3_hci_01"],
                            ["stop-plan", "scen3_hci_01"])
                if "b" in options.parts:
                    compare(scenario, timeout, "(b)", "server_2", ["stop-plan", "scen3_srv"], ["run-plan", "scen3_srv"])
            finally:
                scenario.stop()
        if "c" in options.parts or "d" in options.parts:
            freeze_detection(Path(folder), options.trials, options.parts)


if __name__ == "__main__":
    main()
