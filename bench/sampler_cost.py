"""Benchmark of what the statistics sampler costs a host (issue 20: under 0.3 % of one core, under 20 MB RSS).

A supervisord the size of a Scenario 3 server (8 programs: the 6 of scen3_srv and the 2 data buses, here
``sleep`` stand-ins) runs ``supv sampler`` as its program ``supv_sampler``, as docs/metrics.md deploys it.
CPU is read from /proc/<pid>/stat (utime + stime) at the start and the end of a window that begins once
the sampler printed its first line (its start, a Python interpreter importing psutil, is left out); the
machine may be loaded by others meanwhile, the CPU time of each process is still its own.

1. At the default period (5 s), for --window seconds: the sampler's CPU (% of one core), its RSS at the
   end, beside two baselines measured in the same run: the CPU of its supervisord over the same window,
   and the RSS of a bare Python interpreter (``python -c 'import time; time.sleep(30)'``).
2. At a fast period (0.2 s), for --fast-window seconds: the CPU time of one sample, and what it makes at
   the default period (one sample per 5 s), a steadier figure than 1. on a loaded machine.

Everything started here (on 127.0.6.1, free ports) is stopped at the end, by pid.

Run: python bench/sampler_cost.py [--window 30] [--fast-window 10] [--programs 8]
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.supervisord import Supervisord  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
HOST = "127.0.6.1"
AIM_CPU = 0.3
AIM_RSS_MB = 20.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def lines_of(server: Supervisord) -> int:
    text = server.proxy().supervisor.tailProcessStdoutLog("supv_sampler", 0, 1 << 20)[0]
    return text.count("\n")


def measure(workdir: Path, programs: int, period: float, window: float) -> dict[str, float]:
    """Start a supervisord with ``programs`` sleepers and the sampler at ``period``; measure over ``window``."""
    command = shlex.join([sys.executable, "-m", "supv_cli", "sampler", "--stats-interval", str(period)])
    sleepers = {f"program_{index}": {"command": "sleep 100000", "autostart": True, "startsecs": 0}
                for index in range(programs)}
    sampler = {"command": command, "autostart": True, "startsecs": 0, "environment": f'PYTHONPATH="{ROOT}"'}
    server = Supervisord(workdir, nick="host", host=HOST, programs={**sleepers, "supv_sampler": sampler})
    server.start()
    try:
        deadline = time.monotonic() + 60
        while lines_of(server) < 1:
            if time.monotonic() > deadline:
                raise SystemExit(f"no sample within 60s:\n{server.output()}")
            time.sleep(0.1)
        pid = server.proxy().supervisor.getProcessInfo("supv_sampler")["pid"]
        lines, cpu, supervisord_cpu = lines_of(server), cpu_seconds(pid), cpu_seconds(server.pid)
        started = time.monotonic()
        time.sleep(window)
        elapsed = time.monotonic() - started
        samples = lines_of(server) - lines
        cpu = cpu_seconds(pid) - cpu
        supervisord_cpu = cpu_seconds(server.pid) - supervisord_cpu
        return {"cpu_percent": 100 * cpu / elapsed, "supervisord_percent": 100 * supervisord_cpu / elapsed,
                "rss_mb": rss_mb(pid), "samples": samples, "per_sample_ms": 1000 * cpu / max(1, samples)}
    finally:
        server.stop()


def bare_python_rss() -> float:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        time.sleep(1.0)
        return rss_mb(process.pid)
    finally:
        process.kill()
        process.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=30.0, help="seconds measured at the default period")
    parser.add_argument("--fast-window", type=float, default=10.0, help="seconds measured at 0.2 s")
    parser.add_argument("--programs", type=int, default=8, help="programs of the supervisord (Scenario 3 server: 8)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="supv-sampler-bench-") as folder:
        default = measure(Path(folder) / "default", args.programs, 5.0, args.window)
        fast = measure(Path(folder) / "fast", args.programs, 0.2, args.fast_window)
    bare = bare_python_rss()
    extrapolated = fast["per_sample_ms"] / 1000 / 5.0 * 100
    print(f"supervisord with {args.programs} programs + supv_sampler, on {HOST}")
    print(f"1. period 5 s, {args.window:g} s window, {default['samples']:.0f} samples:")
    print(f"   sampler CPU {default['cpu_percent']:.3f} % of one core (aim < {AIM_CPU} %); its supervisord "
          f"{default['supervisord_percent']:.3f} % (ratio sampler/supervisord "
          f"{default['cpu_percent'] / max(default['supervisord_percent'], 1e-6):.2f})")
    print(f"   sampler RSS {default['rss_mb']:.1f} MB (aim < {AIM_RSS_MB:g} MB); a bare Python interpreter "
          f"{bare:.1f} MB (ratio {default['rss_mb'] / bare:.2f})")
    print(f"2. period 0.2 s, {args.fast_window:g} s window, {fast['samples']:.0f} samples: "
          f"{fast['per_sample_ms']:.2f} ms of CPU per sample -> {extrapolated:.3f} % of one core at 5 s")
    ok = default["cpu_percent"] < AIM_CPU and extrapolated < AIM_CPU and default["rss_mb"] < AIM_RSS_MB
    print("within the aims" if ok else "OVER an aim")
    return 0


if __name__ == "__main__":
    sys.exit(main())
