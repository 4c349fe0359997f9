"""What a hostile or broken peer costs supv (issue 16): peak RSS, CPU and time, against a baseline.

Per hostile answer (tests/support/hostile.py: ``huge`` 200 MB body, ``endless`` body, ``entities``
bomb, ``doctype``, ``deep`` nesting) and a baseline (the same command with that instance refusing
connections), two measures, each a subprocess of the checkout given (``--supv``):

* one-shot: ``supv instances -i PEER --timeout T``: its peak RSS (``ru_maxrss``), CPU and wall time;
* controller: ``supv run-plan --watch`` over a real supervisord and PEER (``--quorum 1``) for
  ``--seconds``: its peak RSS, its RSS at the end, the CPU it used (% of one core) and how many
  times it asked PEER.

Ratios are against the baseline measured in the same run (the machine is shared: few trials, noisy).
Run: python bench/hostile.py [--supv DIR ...] [--kinds huge,endless,...] [--seconds 10] [--timeout 4]
     (several --supv: e.g. the checkout before the change, ``git archive BASE | tar -x -C /tmp/before``)
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.hostile import KINDS, HostileServer  # noqa: E402
from tests.support.supervisord import Supervisord, free_port  # noqa: E402

MIB = 1 << 20


def run(supv: Path, args: list[str], seconds: float | None) -> dict[str, Any]:
    """Run ``python -m supv_cli ARGS`` from ``supv``; stop it after ``seconds`` (None: let it end)."""
    import psutil

    env = {**os.environ, "PYTHONPATH": str(supv), "PYTHONDONTWRITEBYTECODE": "1", "NO_COLOR": "1"}
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "supv_cli", *args], cwd=supv, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    last_rss = 0
    if seconds is not None:
        watched = psutil.Process(process.pid)
        while time.monotonic() - started < seconds:
            try:
                last_rss = watched.memory_info().rss
            except psutil.Error:
                break
            time.sleep(0.2)
        process.terminate()
    err = process.stderr.read() if process.stderr else b""  # type: ignore[union-attr]
    _, _, usage = os.wait4(process.pid, 0)
    process.returncode = 0
    elapsed = time.monotonic() - started
    lines = [line for line in err.decode(errors="replace").splitlines() if "peer" in line]
    return {"peak": usage.ru_maxrss * 1024, "last": last_rss, "cpu": usage.ru_utime + usage.ru_stime,
            "elapsed": elapsed, "line": lines[0] if lines else "", "traceback": b"Traceback" in err}


def measure(supv: Path, kind: str, server: Supervisord, rules: Path, timeout: float, seconds: float) -> dict[str, Any]:
    if kind == "baseline":
        peer: Any = None
        spec = f"<peer>127.0.0.1:{free_port()}"
    else:
        peer = HostileServer(kind).__enter__()
        spec = f"<peer>{peer.host}:{peer.port}"
    try:
        once = run(supv, ["instances", "-i", spec, "--timeout", f"{timeout:g}"], None)
        asked_before = peer.connections if peer else 0
        watch = run(supv, ["run-plan", "--watch", "-i", f"{server.spec} {spec}", "-r", str(rules),
                           "--timeout", f"{timeout:g}", "--quorum", "1"], seconds)
        watch["asked"] = (peer.connections if peer else 0) - asked_before
    finally:
        if peer is not None:
            peer.__exit__()
    return {"once": once, "watch": watch}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--supv", type=Path, action="append", metavar="DIR",
                        help="checkout whose supv_cli runs (repeat to compare; default this one)")
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--seconds", type=float, default=10.0, help="how long the controller runs per kind")
    parser.add_argument("--timeout", type=float, default=4.0)
    args = parser.parse_args()
    kinds = ["baseline", *[k for k in args.kinds.split(",") if k]]
    workdir = Path(tempfile.mkdtemp(prefix="supv-hostile-"))
    rules = workdir / "rules.xml"
    rules.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<root></root>\n')
    server = Supervisord(workdir / "s1", nick="s1", programs={"p": {"command": "sleep 1000", "autostart": False}})
    server.start()
    try:
        for supv in [path.resolve() for path in args.supv or [ROOT]]:
            print(f"supv: {supv}  (--timeout {args.timeout:g}, controller {args.seconds:g}s per kind)")
            print(f"{'kind':9} | {'one-shot: peak MiB':>18} {'ratio':>6} {'cpu s':>6} {'wall s':>6} | "
                  f"{'controller: peak MiB':>20} {'end MiB':>8} {'ratio':>6} {'% core':>6} {'asked':>5} | reason")
            base: dict[str, Any] = {}
            for kind in kinds:
                result = measure(supv, kind, server, rules, args.timeout, args.seconds)
                base = base or result
                once, watch = result["once"], result["watch"]
                reason = once["line"].split("): ", 1)[-1] if once["line"] else "-"
                if once["traceback"] or watch["traceback"]:
                    reason += "  [TRACEBACK]"
                print(f"{kind:9} | {once['peak'] / MIB:18.0f} {once['peak'] / base['once']['peak']:6.2f} "
                      f"{once['cpu']:6.2f} {once['elapsed']:6.2f} | {watch['peak'] / MIB:20.0f} "
                      f"{watch['last'] / MIB:8.0f} {watch['peak'] / base['watch']['peak']:6.2f} "
                      f"{100 * watch['cpu'] / watch['elapsed']:6.1f} {watch['asked']:5d} | {reason[:90]}",
                      flush=True)
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
