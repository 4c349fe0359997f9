"""CPU of one probe in the acting controller's poller: this checkout against a baseline, in the same run.

One fake supervisord process (``bench/fake_supervisord.py``) serves N instances; for each checkout a
child process makes the controller's poller (``Poller`` with ``use_log``, as ``controller/pacing.py``
sets it), settles it (full answers with the tail of the main log, until each instance's tail certifies
its last full answer), then times R rounds in which every instance is probed (``readLog(-512, 0)`` over
its kept connection, the tail unchanged): the process's CPU (``os.times``, user + system) per probe.
The checkouts run alternately, ``--trials`` times each; on a loaded machine read the ratio, not the ms.

Run: SUPV_BENCH_HOST=127.0.31.1 .venv/bin/python bench/probe_cost.py --baseline /tmp/before-e49
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from scale import Fake  # noqa: E402

CHILD = r"""
import json, os, sys
from supv_cli.cluster.fanout import Fanout
from supv_cli.cluster.polling import Poller
from supv_cli.model.instances import InstanceList, parse_instance
specs, rounds = json.loads(sys.argv[1]), int(sys.argv[2])
fanout = Fanout(InstanceList([parse_instance(spec) for spec in specs]), 1.0)
poller = Poller(fanout)
poller.use_log, poller.max_workers, poller.ask_all = True, 4, True
nicks = {spec[1:spec.index(">")] for spec in specs}
for _ in range(4):
    poller.poll(full=nicks)
assert not poller.unsure(), sorted(poller.unsure())[:3]
last = poller.poll(full=set(), probe=nicks)
before = os.times()
for _ in range(rounds):
    snap = poller.poll(full=set(), probe=nicks)
    assert not snap.fresh and all(a is b for a, b in zip(snap.instances, last.instances))
after = os.times()
cpu = (after.user - before.user) + (after.system - before.system)
probes = rounds * len(specs)
print(json.dumps({"us": cpu / probes * 1e6, "user_us": (after.user - before.user) / probes * 1e6}))
"""


def run(checkout: Path, specs: list[str], rounds: int) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUPERVISOR_")}
    env["PYTHONPATH"] = str(checkout)
    out = subprocess.run([sys.executable, "-c", CHILD, json.dumps(specs), str(rounds)], env=env, cwd=str(checkout),
                         check=True, capture_output=True, text=True).stdout
    return dict(json.loads(out.splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100, help="instances")
    parser.add_argument("--programs", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=100, help="probe rounds per trial")
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--baseline", default="/work/main", help="checkout of the code to compare with")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="supv-bench-probe-") as scratch:
        fake = Fake(args.count, args.programs, 10, Path(scratch))
        try:
            results: dict[str, list[float]] = {"this": [], "baseline": []}
            for _ in range(args.trials):
                for label, checkout in (("baseline", Path(args.baseline)), ("this", ROOT)):
                    results[label].append(run(checkout, fake.specs, args.rounds)["us"])
        finally:
            fake.stop()
    print(f"{args.count} instances x {args.programs} programs, {args.rounds} probe rounds, {args.trials} trials each "
          "(controller CPU per probe, user + system)")
    for label, values in results.items():
        print(f"  {label:8s} " + "  ".join(f"{value:6.1f} us" for value in values) + f"   best {min(values):6.1f} us")
    print(f"  this / baseline (best of each): {min(results['this']) / min(results['baseline']):.2f}")


if __name__ == "__main__":
    main()
