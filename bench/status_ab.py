"""A/B of the status view at scale: this checkout against a baseline checkout, on one cluster.

Starts N real supervisord (default 64, 50 programs each, 10 running: the cluster of
``bench/status_scale.py``) once, then runs ``supv application-info --json -i ALL`` from this checkout
and from ``--baseline DIR`` (another checkout of supv, e.g. ``git worktree add /tmp/base <rev>``)
alternately, ``--repeat`` times each (the order swapped every round, so that a load that comes and
goes weighs on both alike). Prints the median wall time and CPU (the child's user + system) of each,
their ratio, and whether both printed the same JSON: a refactoring must leave it unchanged.

Every supervisord started here is stopped at the end, by pid.

Run: python bench/status_ab.py --baseline DIR [--size 64] [--programs 50] [--running 10] [--repeat 9]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

import status_scale  # noqa: E402


def one_run(root: Path, specs: str) -> tuple[float, float, bytes]:
    """Wall time, CPU time and stdout of one ``application-info --json`` of the checkout at ``root``."""
    env = {**os.environ, "PYTHONPATH": str(root), "NO_COLOR": "1"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "supv_cli", "application-info", "--json", "-i", specs],
                          env=env, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=120)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"status_ab: {root}: application-info exited {done.returncode}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="another checkout of supv")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--programs", type=int, default=50)
    parser.add_argument("--running", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    if not (args.baseline / "supv_cli").is_dir():
        raise SystemExit(f"status_ab: {args.baseline}: not a checkout of supv (no supv_cli/ in it)")
    roots = {"baseline": args.baseline.resolve(), "this": ROOT}
    with tempfile.TemporaryDirectory(prefix="supv-status-ab-") as tmp:
        servers = status_scale.start_cluster(Path(tmp), args.size, args.programs, args.running)
        try:
            specs = ",".join(server.spec for server in servers)
            runs: dict[str, list[tuple[float, float]]] = {name: [] for name in roots}
            outputs: dict[str, bytes] = {}
            for round_ in range(args.repeat):
                order = ("baseline", "this") if round_ % 2 == 0 else ("this", "baseline")
                for name in order:
                    wall, cpu, out = one_run(roots[name], specs)
                    runs[name].append((wall, cpu))
                    outputs[name] = out
        finally:
            for server in servers:
                server.stop()
    medians = {name: (statistics.median(r[0] for r in rs), statistics.median(r[1] for r in rs))
               for name, rs in runs.items()}
    for name, (wall, cpu) in medians.items():
        print(f"{name:8}: wall median {wall * 1000:.0f} ms, CPU median {cpu * 1000:.0f} ms ({args.repeat} runs, "
              f"{args.size} instances x {args.programs} programs)")
    (bw, bc), (tw, tc) = medians["baseline"], medians["this"]
    print(f"this / baseline: wall x{tw / bw:.2f}, CPU x{tc / bc:.2f}; "
          f"same JSON: {outputs['baseline'] == outputs['this']}")


if __name__ == "__main__":
    main()
