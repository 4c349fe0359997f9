"""How long after ``supv controller hold`` began the last reachable controller is stopped, while one
supervisord is frozen (issue 16: the acting controller kept moving programs 5.5-6.8 s after hold began).

Three real supervisord ``s1..s3``, each running a ``supv_controller`` program (a stand-in ``sleep``: what
is measured is when supervisord reports it stopped); ``s3`` is SIGSTOPped; ``supv controller hold -i ...
--timeout T`` runs as a subprocess of the checkout given, and ``s1``/``s2`` are polled every 20 ms
through our own connections. Printed per checkout: the median over the trials of the seconds from the
start of the command to the last reachable controller stopped, and to the end of the command (which
waits for the frozen one up to T); the baseline is the wall time of ``supv --version`` (the
interpreter's start, in the same run). Everything started is stopped by pid.

Run: python bench/hold.py [--supv DIR ...] [--trials 3] [--timeout 5]
     (several --supv: e.g. the checkout before the change, ``git archive BASE | tar -x -C /tmp/before``)
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from supv_cli.model.instances import InstanceList  # noqa: E402
from supv_cli.model.snapshot import ProcessState  # noqa: E402
from tests.support.calls import take_snapshot  # noqa: E402
from tests.support.supervisord import Supervisord  # noqa: E402

STAND_IN = {"command": "sleep 100000", "startsecs": 0, "autostart": True, "stopwaitsecs": 3}


def env_for(supv: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(supv), "PYTHONDONTWRITEBYTECODE": "1"}


def trial(supv: Path, timeout: float) -> tuple[float, float]:
    """(seconds to the last reachable controller stopped, seconds to the end of the command)."""
    workdir = Path(tempfile.mkdtemp(prefix="supv-hold-"))
    servers = [Supervisord(workdir / nick, nick=nick, programs={"supv_controller": dict(STAND_IN)})
               for nick in ("s1", "s2", "s3")]
    try:
        for server in servers:
            server.start()
            server.wait_process("supv_controller", ["RUNNING"])
        watched = InstanceList.parse([s.spec for s in servers[:2]])
        servers[2].sigstop()
        started = time.monotonic()
        hold = subprocess.Popen([sys.executable, "-m", "supv_cli", "controller", "hold", "-i",
                                 " ".join(s.spec for s in servers), "--timeout", f"{timeout:g}"],
                                env=env_for(supv), cwd=supv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        stopped: dict[str, float] = {}
        while len(stopped) < 2 and time.monotonic() - started < 4 * timeout:
            for snap in take_snapshot(watched, timeout=1.0, with_config=False).instances:
                if any(i.name == "supv_controller" and i.state in (ProcessState.STOPPED, ProcessState.EXITED)
                       for i in snap.processes):
                    stopped.setdefault(snap.instance.nick, time.monotonic() - started)
            time.sleep(0.02)
        hold.wait(4 * timeout + 30)
        ended = time.monotonic() - started
        return max(stopped.values()) if len(stopped) == 2 else float("inf"), ended
    finally:
        servers[2].sigcont()
        for server in servers:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--supv", type=Path, action="append", metavar="DIR",
                        help="checkout whose supv_cli runs hold (repeat to compare; default this one)")
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=5.0)
    args = parser.parse_args()
    for supv in [path.resolve() for path in args.supv or [ROOT]]:
        started = time.monotonic()
        subprocess.run([sys.executable, "-m", "supv_cli", "--version"], env=env_for(supv), cwd=supv,
                       capture_output=True, check=True)
        baseline = time.monotonic() - started
        results = [trial(supv, args.timeout) for _ in range(args.trials)]
        last = statistics.median(r[0] for r in results)
        end = statistics.median(r[1] for r in results)
        print(f"supv: {supv}  (--timeout {args.timeout:g}, {args.trials} trials, s3 frozen)")
        print(f"  last reachable controller stopped: {last:.2f}s after hold began "
              f"(x{last / baseline:.1f} the {baseline:.2f}s start of `supv --version`); "
              f"each: {', '.join(f'{r[0]:.2f}' for r in results)}")
        print(f"  hold ended: {end:.2f}s (waits for the frozen one up to --timeout)", flush=True)


if __name__ == "__main__":
    main()
