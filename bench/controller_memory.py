"""Benchmark of the controller's memory (issue 18): RSS, PSS and USS, at scale and on Scenario 3.

Memory of a process, read from /proc/PID/smaps_rollup:

* RSS: every page the process has in memory, shared ones included (the interpreter, libraries that
  supervisord or the other controllers map too): what ``ps`` and the issue's first figures show;
* PSS: each shared page divided among the processes that map it: the sum over several processes counts
  every page once;
* USS (private pages): what the process alone holds, freed when it exits.

1. ``--sizes 300``: one acting controller (``supv run-plan --watch``, started alone) watching N fake
   supervisord x P programs (``bench/fake_supervisord.py``, one process), for the code under test and
   for ``--baseline`` (a checkout of the code before) in the same run: its memory once settled and
   every ``--every`` seconds for ``--duration`` seconds, then the ratios. ``--no-baseline`` for a long
   run of this code alone (``--duration 3600 --every 60``: start, 10 min, 60 min).
2. ``--scenario3``: Scenario 3 (six real supervisord, tests/support/scenario3.py, free ports) with its
   three controllers (as ``./scenario up`` deploys them), settled: each controller's RSS, PSS and USS
   and their sums, for this code and ``--baseline`` (the controllers run the checkout given).
   The memory the controllers add to the cluster is the sum of their PSS: pages they share with each
   other or with supervisord (the interpreter's code) counted once, their private pages in full.

Run: python bench/controller_memory.py [--sizes 300] [--programs 40] [--duration 60] [--every 10]
     [--baseline /tmp/base-checkout] [--no-baseline]
     python bench/controller_memory.py --scenario3 [--baseline /tmp/base-checkout]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from scale import Fake, settle, start_controller, stop_controller  # noqa: E402

AIM_RSS = 40.0
AIM_SCENARIO = 50.0
FIELDS = ("Rss", "Pss", "Private_Clean", "Private_Dirty")


def memory(pid: int) -> dict[str, float]:
    """RSS, PSS and USS of ``pid`` in MB (zeros when it is gone)."""
    values = dict.fromkeys(FIELDS, 0)
    try:
        with open(f"/proc/{pid}/smaps_rollup") as stream:
            for line in stream:
                name, _, rest = line.partition(":")
                if name in values:
                    values[name] = int(rest.split()[0])
    except OSError:
        pass
    return {"rss": values["Rss"] / 1024, "pss": values["Pss"] / 1024,
            "uss": (values["Private_Clean"] + values["Private_Dirty"]) / 1024}


def line(mem: dict[str, float]) -> str:
    return f"RSS {mem['rss']:6.1f}  PSS {mem['pss']:6.1f}  USS {mem['uss']:6.1f}"


# ------------------------------------------------------------------------------------------ N x P

def watch_one(checkout: Path, size: int, programs: int, running: int, duration: float, every: float,
              scratch: Path, tag: str) -> list[tuple[float, dict[str, float]]]:
    folder = scratch / f"{tag}_{size}"
    folder.mkdir()
    fake = Fake(size, programs, running, folder)
    process = None
    samples: list[tuple[float, dict[str, float]]] = []
    try:
        process, out = start_controller(checkout, fake.specs, folder, tag)
        settled = settle(process, out)
        started = time.monotonic()
        samples.append((0.0, memory(process.pid)))
        print(f"  {size:5d}  {tag:8s}  settled in {settled:5.1f} s   t=    0 s  {line(samples[-1][1])}", flush=True)
        while time.monotonic() - started < duration:
            time.sleep(min(every, max(0.0, duration - (time.monotonic() - started))))
            if process.poll() is not None:
                raise SystemExit(f"the controller exited with {process.returncode}; see {folder}")
            samples.append((time.monotonic() - started, memory(process.pid)))
            print(f"  {size:5d}  {tag:8s}  {'':22s}t={samples[-1][0]:5.0f} s  {line(samples[-1][1])}", flush=True)
        return samples
    finally:
        if process is not None:
            stop_controller(process)
        fake.stop()


def scale(args: argparse.Namespace) -> None:
    print(f"load average before: {os.getloadavg()[0]:.2f}; one acting controller, N fake supervisord x "
          f"{args.programs} programs ({args.running} running); MB")
    runs = [("this", ROOT)] + ([] if args.no_baseline else [("baseline", Path(args.baseline))])
    with tempfile.TemporaryDirectory(prefix="supv-bench-memory-") as scratch:
        for size in (int(s) for s in args.sizes.split(",")):
            results = {tag: watch_one(checkout, size, args.programs, args.running, args.duration, args.every,
                                      Path(scratch), tag) for tag, checkout in runs}
            this = results["this"]
            peak = max(mem["rss"] for _, mem in this)
            text = (f"  {size:5d}  this: RSS settled {this[0][1]['rss']:.1f}, end {this[-1][1]['rss']:.1f}, "
                    f"highest {peak:.1f} MB = {peak / AIM_RSS:.2f}x of the aim {AIM_RSS:g} MB")
            if "baseline" in results:
                base = results["baseline"]
                text += (f"; baseline / this at the end: RSS {base[-1][1]['rss'] / this[-1][1]['rss']:.2f}x, "
                         f"USS {base[-1][1]['uss'] / this[-1][1]['uss']:.2f}x")
            print(text, flush=True)


# ------------------------------------------------------------------------------------------ Scenario 3

def scenario_one(checkout: Path, scratch: Path, tag: str) -> list[dict[str, float]]:
    from failover import wait_settled
    from idle_cost import controller_pids

    import tests.support.scenario3 as harness

    harness.ROOT = checkout  # the controllers (and supervisord's PYTHONPATH) run this checkout's code
    cluster = harness.Scenario3(harness.prepare(scratch / tag), controllers=True)
    cluster.start()
    try:
        wait_settled(cluster, deadline=120)
        time.sleep(10)  # the last jobs end, standbys take their first full answers
        mems = [memory(pid) for pid in controller_pids(cluster)]
        servers = [memory(s.pid) for s in cluster.servers.values()]
    finally:
        cluster.stop()
    total = {key: sum(m[key] for m in mems) for key in ("rss", "pss", "uss")}
    print(f"  {tag:8s} controllers: " + "; ".join(line(m) for m in mems))
    print(f"  {tag:8s} sum of {len(mems)}: {line(total)}   (six supervisord: RSS "
          f"{sum(m['rss'] for m in servers):.1f}, PSS {sum(m['pss'] for m in servers):.1f})", flush=True)
    return [total]


def scenario(args: argparse.Namespace) -> None:
    print(f"load average before: {os.getloadavg()[0]:.2f}; Scenario 3 settled, its three controllers; MB")
    runs = [("this", ROOT)] + ([] if args.no_baseline else [("baseline", Path(args.baseline))])
    with tempfile.TemporaryDirectory(prefix="supv-bench-memory-s3-") as scratch:
        results = {tag: scenario_one(checkout, Path(scratch), tag)[0] for tag, checkout in runs}
    this = results["this"]
    text = (f"  memory added by the controllers (sum of PSS): {this['pss']:.1f} MB = "
            f"{this['pss'] / AIM_SCENARIO:.2f}x of the aim {AIM_SCENARIO:g} MB (sum of RSS {this['rss']:.1f})")
    if "baseline" in results:
        base = results["baseline"]
        text += f"; baseline / this: PSS {base['pss'] / this['pss']:.2f}x, RSS {base['rss'] / this['rss']:.2f}x"
    print(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="300")
    parser.add_argument("--programs", type=int, default=40)
    parser.add_argument("--running", type=int, default=10)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of sampling after settling")
    parser.add_argument("--every", type=float, default=10.0, help="seconds between two samples")
    parser.add_argument("--baseline", default="/work/main", help="checkout of the code to compare with")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--scenario3", action="store_true")
    args = parser.parse_args()
    if args.scenario3:
        scenario(args)
    else:
        scale(args)


if __name__ == "__main__":
    main()
