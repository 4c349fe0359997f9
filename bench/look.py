"""Benchmark of ``supv events`` and ``supv top`` (issue: look at the cluster).

1. Event latency: one supervisord with one program, ``supv events --interval I`` running as a child
   process; the program is stopped and started ``--trials`` times (``stopProcess`` / ``startProcess``
   waiting for the new state, at random moments against the poll), and each time the delay from the
   call's return (the state change is done in supervisord) to the event's line read on the pipe is
   measured. Aim: median <= I + 0.1 s.
2. CPU: Scenario 3 with its three supv controllers (as ``./scenario up`` deploys them, interval 0.5 s),
   settled; then ``supv events`` (its default interval, 1 s, and 0.5 s as the controller's cycle) and
   ``supv top`` (on a pseudo terminal of 80x30, its default interval, 1 s) watch it; the CPU time of
   each (utime + stime from /proc/<pid>/stat) over the same window is compared with the acting
   controller's, the baseline measured in the same run. Aim: events and top (at their defaults) <= the
   acting controller. (events must ask every instance for its processes at every poll to see each
   change within the interval; the controller asks less often, see controller/pacing.py, when it has one.)
3. A frame of ``supv top --once`` at 80 columns on that cluster (the README's).

Every supervisord and supv started here is stopped at the end, by pid.

Run: python bench/look.py [--trials 20] [--window 20] [--interval 1.0]
"""

from __future__ import annotations

import argparse
import fcntl
import importlib.util
import os
import pty
import queue
import random
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.scenario3 import Scenario3, prepare, supv_env  # noqa: E402
from tests.support.supervisord import Supervisord  # noqa: E402

CONTROLLER = "supv_controller:supv_controller"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` so far."""
    with open(f"/proc/{pid}/stat") as stream:
        fields = stream.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def supv(*args: str, **popen: Any) -> subprocess.Popen[Any]:
    return subprocess.Popen([sys.executable, "-m", "supv_cli", *args], env=supv_env(), **popen)


def stop(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


# --------------------------------------------------------------------------------------------- latency

def latency(workdir: Path, interval: float, trials: int, chooser: random.Random,
            host: str = "127.0.6.1") -> list[float]:
    """Seconds from each state change (call returned) to its line on ``supv events``' stdout."""
    server = Supervisord(workdir / f"latency-{interval:g}", nick="bench", host=host,
                         programs={"p": {"command": "sleep 1000", "startsecs": 0, "autostart": False,
                                         "stopwaitsecs": 1}})
    server.start()
    events = supv("events", "-i", server.spec, "--interval", f"{interval:g}", stdin=subprocess.DEVNULL,
                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)
    arrivals: queue.Queue[tuple[float, str]] = queue.Queue()

    def read(pipe: IO[str]) -> None:
        for line in pipe:
            arrivals.put((time.monotonic(), line))

    assert events.stdout is not None
    threading.Thread(target=read, args=(events.stdout,), daemon=True).start()
    delays = []
    try:
        time.sleep(max(1.0, 2 * interval))  # the baseline poll
        proxy = server.proxy(5.0).supervisor
        for index in range(trials):
            time.sleep(chooser.uniform(0.3, 0.3 + interval))
            target = "STOPPED" if index % 2 else "RUNNING"
            (proxy.stopProcess if index % 2 else proxy.startProcess)("p:p", True)
            changed = time.monotonic()
            while True:
                seen, line = arrivals.get(timeout=10 + interval)
                if f"-> {target}" in line:
                    delays.append(seen - changed)
                    break
    finally:
        stop(events)
        server.stop()
    return delays


# --------------------------------------------------------------------------------------------- CPU

def load_failover_bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench_failover", ROOT / "bench" / "failover.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def on_pty(*args: str, columns: int = 80, rows: int = 30) -> tuple[subprocess.Popen[Any], int]:
    """``supv ARGS`` with a pseudo terminal of ``columns`` x ``rows`` as its stdin/stdout; what it draws
    is read (and dropped) by a thread so that it never blocks."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    env_columns = {"COLUMNS": str(columns), "LINES": str(rows)}
    process = subprocess.Popen([sys.executable, "-m", "supv_cli", *args], env={**supv_env(), **env_columns},
                               stdin=slave, stdout=slave, stderr=subprocess.DEVNULL, close_fds=True)
    os.close(slave)

    def drain() -> None:
        try:
            while os.read(master, 65536):
                pass
        except OSError:
            pass

    threading.Thread(target=drain, daemon=True).start()
    return process, master


def cpu_costs(workdir: Path, window: float) -> tuple[dict[str, float], list[str]]:
    """CPU % of one core over ``window`` seconds: each controller, events, top; and a top frame."""
    failover = load_failover_bench()
    cluster = Scenario3(prepare(workdir / "scenario_3"), controllers=True)
    watchers: list[subprocess.Popen[Any]] = []
    try:
        cluster.start()
        settled = failover.wait_settled(cluster, deadline=90.0)
        controllers = {s.instance.nick: info.pid for s in settled for info in s.processes
                       if info.namespec == CONTROLLER}
        acting = next(iter(failover.acting_controllers(settled)))
        common = ["-i", cluster.instance_list, "-r", cluster.rules]
        quiet: dict[str, Any] = {"stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL,
                                 "stderr": subprocess.DEVNULL}
        events = supv("events", *common, **quiet)                                  # its default: every 1 s
        events_fast = supv("events", *common, "--interval", "0.5", **quiet)        # the controller's cycle
        top, master = on_pty("top", *common)                                       # its default: every 1 s
        watchers += [events, events_fast, top]
        time.sleep(3.0)  # start-up (imports, first polls) is not what is measured
        pids = {**{f"controller {nick}" + (" (acting)" if nick == acting else ""): pid
                   for nick, pid in controllers.items()},
                "events": events.pid, "events --interval 0.5": events_fast.pid, "top": top.pid}
        before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        started = time.monotonic()
        time.sleep(window)
        elapsed = time.monotonic() - started
        costs = {name: 100 * (cpu_seconds(pid) - before[name]) / elapsed for name, pid in pids.items()}
        for process in watchers:
            stop(process)
        os.close(master)
        frame = subprocess.run([sys.executable, "-m", "supv_cli", "top", "--once", *common],
                               env={**supv_env(), "COLUMNS": "80"}, capture_output=True, text=True, timeout=60)
        return costs, frame.stdout.splitlines()
    finally:
        for process in watchers:
            stop(process)
        cluster.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20, help="state changes per interval")
    parser.add_argument("--window", type=float, default=20.0, help="seconds of CPU measurement")
    parser.add_argument("--interval", type=float, action="append", help="events --interval (repeatable)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--host", default="127.0.6.1", help="loopback address of the latency supervisord")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    chooser = random.Random(seed)
    print(f"seed {seed}; {os.cpu_count()} cores, shared with whatever else runs")
    with tempfile.TemporaryDirectory(prefix="supv-bench-look-") as tmp:
        workdir = Path(tmp)
        print("\nevent latency (state change done in supervisord -> line read on the pipe)")
        print(f"{'interval':>9} {'trials':>6} {'median':>7} {'p90':>7} {'max':>7}  aim (median <= interval + 0.1)")
        for interval in args.interval or [1.0, 0.5]:
            delays = sorted(latency(workdir, interval, args.trials, chooser, args.host))
            median = statistics.median(delays)
            p90 = delays[int(0.9 * (len(delays) - 1))]
            verdict = "ok" if median <= interval + 0.1 else "MISSED"
            print(f"{interval:>8g}s {len(delays):>6} {median:>6.3f}s {p90:>6.3f}s {delays[-1]:>6.3f}s  {verdict}")
        print(f"\nCPU over {args.window:g}s, Scenario 3 settled (% of one core)")
        costs, frame = cpu_costs(workdir, args.window)
        baseline = next(value for name, value in costs.items() if name.endswith("(acting)"))
        for name, value in costs.items():
            ratio = value / baseline if baseline else float("inf")
            print(f"  {name:<30} {value:6.2f} %  x{ratio:.2f} of the acting controller")
        for name in ("events", "top"):
            print(f"  {name}: {'ok' if costs[name] <= baseline else 'MISSED'} (aim <= the acting controller)")
        print("\nsupv top --once, 80 columns:")
        for line in frame:
            print(f"  {line}")


if __name__ == "__main__":
    main()
