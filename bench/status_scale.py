"""Benchmark of the status views at scale (issue: cluster access and status views).

Starts N real supervisord instances (default N = 1, 8, 32, 64) with 50 programs each, 10 of them
running, on 127.0.0.1 free ports, in parallel. For each N, in the same run:

* wall time of ``supv application-info --json -i ALL`` (a fresh process each time, interpreter start
  included), median of ``--repeat`` runs;
* wall time of a shell loop of ``supervisorctl -s URL status`` over the same instances (what an
  operator without supv does), median of ``--loop-repeat`` runs.

Then the cold start of ``supv --help`` against ``supervisorctl --help`` (median of 15 runs each).
Prints the ratios. Aims: supv at N=64 within 2x of N=1; 10x faster than the loop at N=64; ``supv --help``
no slower than ``supervisorctl --help``.

Every supervisord started here (and the programs it spawned) is stopped at the end, by pid, also on
Ctrl-C.

Run: python bench/status_scale.py [--sizes 1,8,32,64] [--programs 50] [--running 10] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.supervisord import Supervisord, stop_all  # noqa: E402

BIN = Path(sys.executable).parent
SUPERVISORCTL = str(BIN / "supervisorctl") if (BIN / "supervisorctl").exists() else "supervisorctl"
SUPV = [sys.executable, "-m", "supv_cli"]
ENV = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), "NO_COLOR": "1"}
for name in ("SUPV_INSTANCES", "SUPV_RULES", "SUPV_CONFIG", "SUPV_USERNAME", "SUPV_PASSWORD", "SUPV_TIMEOUT"):
    ENV.pop(name, None)


def programs(count: int, running: int) -> tuple[dict[str, dict[str, object]], dict[str, list[str]]]:
    """``count`` programs in groups of 10; the first ``running`` autostart, the others stay STOPPED."""
    progs: dict[str, dict[str, object]] = {}
    groups: dict[str, list[str]] = {}
    for index in range(count):
        name = f"prog_{index:03d}"
        progs[name] = {"command": "sleep 100000", "autostart": index < running, "startsecs": 0}
        groups.setdefault(f"group_{index // 10:02d}", []).append(name)
    return progs, groups


def start_cluster(workdir: Path, size: int, count: int, running: int) -> list[Supervisord]:
    """Start ``size`` supervisord in parallel (2 cores here: a few at a time) and wait until all answer."""
    progs, groups = programs(count, running)
    servers = [Supervisord(workdir / f"s{index:03d}", nick=f"s{index:03d}", programs=progs, groups=groups)
               for index in range(size)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda server: server.start(timeout=120), servers))
    # wait until the autostarted programs run everywhere
    deadline = time.monotonic() + 120
    for server in servers:
        while time.monotonic() < deadline:
            infos = server.proxy(5.0).supervisor.getAllProcessInfo()
            if sum(info["statename"] == "RUNNING" for info in infos) >= running:
                break
            time.sleep(0.1)
    return servers


def wall(command: list[str] | str, shell: bool = False) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, shell=shell, env=ENV, cwd=str(ROOT), stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False, executable="/bin/bash" if shell else None)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def median(command: list[str] | str, repeat: int, shell: bool = False) -> float:
    return statistics.median(wall(command, shell)[0] for _ in range(repeat))


def median_with_cpu(command: list[str], repeat: int) -> tuple[float, float]:
    runs = [wall(command) for _ in range(repeat)]
    return statistics.median(run[0] for run in runs), statistics.median(run[1] for run in runs)


def check_supv(specs: str, size: int, count: int) -> None:
    """One real run must list every application and exit 0 (a benchmark of a failing command is void)."""
    result = subprocess.run(SUPV + ["application-info", "--json", "-i", specs], env=ENV, cwd=str(ROOT),
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"supv application-info failed ({result.returncode}): {result.stderr.strip()}")
    import json

    apps = json.loads(result.stdout)
    if len(apps) != (count + 9) // 10:
        raise SystemExit(f"unexpected answer for N={size}: {len(apps)} applications")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,8,32,64", help="comma-separated numbers of instances")
    parser.add_argument("--programs", type=int, default=50, help="programs per instance")
    parser.add_argument("--running", type=int, default=10, help="running programs per instance")
    parser.add_argument("--repeat", type=int, default=5, help="runs of supv per size (median)")
    parser.add_argument("--loop-repeat", type=int, default=3, help="runs of the supervisorctl loop (median)")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",") if size.strip()]

    results: list[tuple[int, float, float, float]] = []
    with tempfile.TemporaryDirectory(prefix="supv-bench-") as tmp:
        for size in sizes:
            started = time.perf_counter()
            servers = start_cluster(Path(tmp) / f"n{size}", size, args.programs, args.running)
            try:
                print(f"N={size}: {size} supervisord started in {time.perf_counter() - started:.1f}s",
                      file=sys.stderr)
                specs = ",".join(server.spec for server in servers)
                check_supv(specs, size, args.programs)
                supv, cpu = median_with_cpu(SUPV + ["application-info", "--json", "-i", specs], args.repeat)
                loop = " ; ".join(f"{shlex.quote(SUPERVISORCTL)} -s {server.url} status >/dev/null"
                                  for server in servers)
                shell_loop = median(loop, args.loop_repeat, shell=True)
                results.append((size, supv, shell_loop, cpu))
            finally:
                stop_all(servers)

    help_supv = median(SUPV + ["--help"], 15)
    help_ctl = median([SUPERVISORCTL, "--help"], 15)

    base = results[0][1] if results else 0.0
    base_cpu = results[0][3] if results else 0.0
    print(f"{args.programs} programs per instance, {args.running} running; wall times are medians; "
          f"supv CPU = its own user+system time (the supervisord instances share the same {os.cpu_count()} cores)")
    print(f"{'N':>4}  {'supv application-info --json':>28}  {'supervisorctl loop':>18}  {'loop/supv':>9}  "
          f"{'supv vs N=' + str(results[0][0]) if results else '':>10}  {'supv CPU':>9}  {'CPU vs N=1':>10}")
    for size, supv, loop, cpu in results:
        print(f"{size:>4}  {supv * 1000:>26.0f}ms  {loop * 1000:>16.0f}ms  {loop / supv:>8.1f}x  "
              f"{supv / base:>9.2f}x  {cpu * 1000:>7.0f}ms  {cpu / base_cpu:>9.2f}x")
    print(f"cold start: supv --help {help_supv * 1000:.0f}ms, supervisorctl --help {help_ctl * 1000:.0f}ms, "
          f"ratio supv/supervisorctl {help_supv / help_ctl:.2f}")
    if results:
        size, supv, loop, _ = results[-1]
        print(f"aims: N={size} within 2x of N={results[0][0]}: {supv / base:.2f}x "
              f"({'met' if supv / base <= 2 else 'NOT met'}); 10x faster than the loop at N={size}: "
              f"{loop / supv:.1f}x ({'met' if loop / supv >= 10 else 'NOT met'}); supv --help no slower: "
              f"{'met' if help_supv <= help_ctl else 'NOT met'}")


if __name__ == "__main__":
    main()
