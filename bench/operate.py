"""Benchmark of the operate commands (issue: operate the cluster).

On 3 real supervisord (separate loopback addresses, so separate nodes), one program ``svc:p`` with
``startsecs`` 1 (``--startsecs``):

(a) ``supv restart svc:p`` and (b) ``supv start svc:p`` (after a stop): wall time of the whole command
    (a new interpreter each time, what an operator waits for) against the program's startsecs, the
    baseline nothing can beat. Aim: at most 1.2 x startsecs + 0.3 s. The interpreter's own start
    (``supv --version``), measured in the same run, is shown for scale.
(c) ``supv wait svc``: started while ``svc:p`` is stopped, then p is started through XML-RPC; the
    detection delay is from the moment a tight XML-RPC poll (every 10 ms) first sees p RUNNING to the
    moment ``supv wait`` exits 0. Aim: at most 0.3 s.

Every supervisord started here (and its programs) is stopped at the end, by pid.

Run: python bench/operate.py [--repeat 5] [--startsecs 1]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.scenario3 import supv_env  # noqa: E402
from tests.support.supervisord import Supervisord  # noqa: E402

SUPV = [sys.executable, "-m", "supv_cli"]
ENV = {**supv_env(), "NO_COLOR": "1"}
RULES = """<?xml version="1.0" encoding="UTF-8"?>
<root><application name="svc"><start_sequence>1</start_sequence><starting_strategy>LESS_LOADED</starting_strategy>
<programs><program name="p"><start_sequence>1</start_sequence><expected_loading>10</expected_loading></program>
</programs></application></root>
"""


def supv(*args: str, check: bool = True) -> float:
    """Run ``supv ARGS`` in a new interpreter; return its wall time."""
    started = time.perf_counter()
    done = subprocess.run(SUPV + list(args), env=ENV, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if check and done.returncode != 0:
        raise SystemExit(f"supv {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return wall


def wait_delay(servers: list[Supervisord], cluster: list[str]) -> float:
    """Seconds from p seen RUNNING (tight poll) to ``supv wait`` exiting."""
    supv("stop", *cluster, "svc:p")
    waiter = subprocess.Popen(SUPV + ["wait", *cluster, "svc", "--timeout", "60"], env=ENV,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.5)  # the waiter's interpreter is up and polling
    server = servers[0]
    seen: list[float] = []

    def poll() -> None:
        proxy = server.proxy()
        while not seen:
            if proxy.supervisor.getProcessInfo("svc:p")["statename"] == "RUNNING":
                seen.append(time.perf_counter())
                return
            time.sleep(0.01)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    server.proxy().supervisor.startProcess("svc:p", False)
    code = waiter.wait(60)
    exited = time.perf_counter()
    watcher.join(10)
    if code != 0 or not seen:
        raise SystemExit(f"supv wait exited {code}")
    return exited - seen[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="measures per part (median shown)")
    parser.add_argument("--startsecs", type=int, default=1, help="startsecs of the program")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="supv-bench-operate-"))
    program = {"command": "sleep 1000", "startsecs": args.startsecs, "autostart": False, "autorestart": False,
               "stopwaitsecs": 2}
    servers = [Supervisord(work / f"s{n}", nick=f"server_{n}", programs={"p": program}, groups={"svc": ["p"]},
                           host=f"127.0.5.{10 + n}") for n in (1, 2, 3)]
    rules = work / "rules.xml"
    rules.write_text(RULES)
    try:
        for server in servers:
            server.start()
        cluster = ["-i", " ".join(f"<{s.nick}>{s.url}" for s in servers), "-r", str(rules)]
        baseline = statistics.median(supv("--version") for _ in range(args.repeat))
        supv("start", *cluster, "svc:p")
        restarts = [supv("restart", *cluster, "svc:p") for _ in range(args.repeat)]
        starts = []
        for _ in range(args.repeat):
            supv("stop", *cluster, "svc:p")
            starts.append(supv("start", *cluster, "svc:p"))
        delays = [wait_delay(servers, cluster) for _ in range(args.repeat)]
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.stop()
    aim = 1.2 * args.startsecs + 0.3
    print(f"interpreter start (supv --version), median of {args.repeat}: {baseline:.3f}s")
    for name, values in (("(a) supv restart svc:p", restarts), ("(b) supv start svc:p", starts)):
        median = statistics.median(values)
        print(f"{name}: median {median:.3f}s (max {max(values):.3f}s), startsecs {args.startsecs}s -> "
              f"{median / args.startsecs:.2f}x startsecs; aim {aim:.1f}s: {median / aim:.2f} of the aim")
    median = statistics.median(delays)
    print(f"(c) supv wait detection delay after RUNNING: median {median:.3f}s (max {max(delays):.3f}s); "
          f"aim 0.3s: {median / 0.3:.2f} of the aim")


if __name__ == "__main__":
    main()
