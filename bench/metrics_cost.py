"""Benchmark of what ``supv metrics`` costs beside ``supv events`` (issue 20: "the same economical watch").

N supervisord (default 3) with P programs each (default 10) and a ``supv sampler`` (period 5 s) run on
127.0.6.x, free ports. One after the other, for --window seconds each once started: ``supv events
--interval 5`` (the baseline: the economical poll alone), then ``supv metrics --interval 5`` (the same
poll, plus the controllers' state lines, the samplers' new lines and building the families; nothing
scrapes it), then the same ``supv metrics`` scraped every second. CPU of the supv process from
/proc/<pid>/stat, as a percentage of one core, and the ratio to the baseline; the machine may be loaded
by others meanwhile, the CPU time of each process is still its own.

Everything started here is stopped at the end, by pid.

Run: python bench/metrics_cost.py [--window 30] [--instances 3] [--programs 10]
"""

from __future__ import annotations

import argparse
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sampler_cost import cpu_seconds  # noqa: E402

from tests.support.scenario3 import supv_env  # noqa: E402
from tests.support.supervisord import Supervisord, free_port  # noqa: E402


def measure(args: list[str], window: float, scrape_port: int | None = None) -> float:
    """CPU % of one core of ``supv ARGS`` over ``window`` seconds, once it said it started."""
    process = subprocess.Popen([sys.executable, "-m", "supv_cli", *args], env=supv_env(), stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        for line in process.stderr:  # "watching N instance(s)" / "serving http://...": the first poll is done
            if "watching" in line or "serving" in line:
                break
        started, cpu = time.monotonic(), cpu_seconds(process.pid)
        while time.monotonic() - started < window:
            if scrape_port is not None:
                with urllib.request.urlopen(f"http://127.0.0.1:{scrape_port}/metrics", timeout=5) as answer:
                    answer.read()
            time.sleep(1.0)
        return 100 * (cpu_seconds(process.pid) - cpu) / (time.monotonic() - started)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=30.0)
    parser.add_argument("--instances", type=int, default=3)
    parser.add_argument("--programs", type=int, default=10)
    args = parser.parse_args()
    sampler = {"command": shlex.join([sys.executable, "-m", "supv_cli", "sampler"]), "autostart": True,
               "startsecs": 0, "environment": f'PYTHONPATH="{ROOT}"'}
    sleepers = {f"program_{index}": {"command": "sleep 100000", "autostart": True, "startsecs": 0}
                for index in range(args.programs)}
    servers: list[Supervisord] = []
    with tempfile.TemporaryDirectory(prefix="supv-metrics-bench-") as folder:
        try:
            for index in range(args.instances):
                server = Supervisord(Path(folder) / f"s{index + 1}", nick=f"s{index + 1}", host=f"127.0.6.{10 + index}",
                                     programs={**sleepers, "supv_sampler": sampler})
                servers.append(server.start())
            spec = " ".join(server.spec for server in servers)
            time.sleep(6.0)  # a first sample everywhere
            port = free_port()
            events = measure(["events", "-i", spec, "--interval", "5"], args.window)
            metrics = measure(["metrics", "-i", spec, "--interval", "5", "--listen", f"127.0.0.1:{free_port()}"],
                              args.window)
            scraped = measure(["metrics", "-i", spec, "--interval", "5", "--listen", f"127.0.0.1:{port}"],
                              args.window, scrape_port=port)
        finally:
            for server in servers:
                server.stop()
    print(f"{args.instances} supervisord x {args.programs} programs + a sampler each, polls every 5 s, "
          f"{args.window:g} s windows")
    print(f"  supv events   {events:.3f} % of one core (baseline)")
    print(f"  supv metrics  {metrics:.3f} % (ratio {metrics / max(events, 1e-6):.2f}), not scraped")
    print(f"  supv metrics  {scraped:.3f} % (ratio {scraped / max(events, 1e-6):.2f}), scraped every second")
    return 0


if __name__ == "__main__":
    sys.exit(main())
