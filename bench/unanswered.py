"""Benchmark of commands with a frozen (SIGSTOP) instance, on Scenario 3 (issue 9, items 1 and 2).

(a) ``supv run-plan scen3_hci_01`` (console_1 only) with console_3 frozen, against the same start with
    every instance answering, measured in the same run. Aim: the frozen run takes about ``--timeout``
    (one wait, for the first snapshot) + 1 s more than the baseline, not one timeout per poll.
(b) ``supv stop-plan scen3_srv`` with server_2 frozen (scen3_srv runs on the three servers): its wall time
    against the baseline stop, and its exit code (3: server_2 may still run programs of scen3_srv).

Each command runs in a new interpreter (what a user waits for), with the default ``--timeout`` (5 s).
Every supervisord started here (and its programs) is stopped at the end, by pid.

Run: python bench/unanswered.py [--timeout 5]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.scenario3 import Scenario3, prepare, supv_env  # noqa: E402

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=5.0)
    options = parser.parse_args()
    timeout = options.timeout
    with tempfile.TemporaryDirectory(prefix="supv-bench-unanswered-") as folder:
        scenario = Scenario3(prepare(Path(folder) / "scenario_3"))
        scenario.start()
        try:
            print(f"Scenario 3 on {len(scenario.servers)} supervisord, --timeout {timeout:g}")
            # a first start runs the wait_exit checks, which a rerun leaves alone: measure the second one
            for _ in range(2):
                base, code, _ = supv(scenario, timeout, "run-plan", "scen3_hci_01")
                assert code == 0, code
                supv(scenario, timeout, "stop-plan", "scen3_hci_01")
            took, code, last = frozen(scenario, "console_3", timeout, "run-plan", "scen3_hci_01")
            print(f"(a) run-plan scen3_hci_01: baseline {base:.2f}s; console_3 frozen {took:.2f}s (exit {code}); "
                  f"extra {took - base:.2f}s = {(took - base) / timeout:.2f} x --timeout")
            supv(scenario, timeout, "run-plan", "scen3_srv")
            base, code, _ = supv(scenario, timeout, "stop-plan", "scen3_srv")
            assert code == 0, code
            supv(scenario, timeout, "run-plan", "scen3_srv")
            took, code, last = frozen(scenario, "server_2", timeout, "stop-plan", "scen3_srv")
            print(f"(b) stop-plan scen3_srv: baseline {base:.2f}s; server_2 frozen {took:.2f}s (exit {code}); "
                  f"extra {took - base:.2f}s = {(took - base) / timeout:.2f} x --timeout")
            print(f"    {last}")
        finally:
            scenario.stop()


if __name__ == "__main__":
    main()
