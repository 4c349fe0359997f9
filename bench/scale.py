"""Benchmark of one acting controller watching many instances (issue 18), against fake supervisord.

``bench/fake_supervisord.py`` serves N instances x P programs from one process (supervisord 4.3's
bytes). One controller (``supv run-plan --watch``, started alone: it acts) watches them; once it acts
with no job, its CPU (utime + stime from /proc, percent of one core) and RSS are read over a window.
Each size is measured for the code under test and for a baseline checkout (``--baseline``, default
/work/main: the code before this work) in the same run, and the ratios printed. The machine may be
loaded by others: each process's CPU time is still its own, but compare ratios, not absolute figures.

* ``--check``: the fake's answers against 6 real supervisord with the same programs, byte for byte but
  the clock (start, stop, now, uptime, Date), the pids and the random part of log file names; and the
  last line of each main log (``readLog``, what the controller's probes read) but its timestamp.
* ``--request-cost``: what one request costs a real supervisord (40 programs), per kind (the main log's
  tail included): the figures behind the choice of the main log over a PROCESS_STATE event listener
  (docs/decisions.md, issue 18).
* ``--soak SECONDS``: one controller on ``--sizes``' first size for that long, while the fake restarts
  a tenth of its instances at once every minute (each restart: connections closed, a configuration to
  fetch again, all together) and adds a program to another; prints every ``lost`` event (there must be
  none: no instance was ever down).

Run: python bench/scale.py [--sizes 30,100,300] [--programs 40] [--window 30] [--baseline /work/main] [--guarded]
     python bench/scale.py --check
     python bench/scale.py --soak 600 --sizes 300
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import xmlrpc.client
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from fake_supervisord import layout  # noqa: E402
from idle_cost import cpu_seconds, last_state, rss_mb  # noqa: E402

HOST = os.environ.get("SUPV_BENCH_HOST", "127.0.5.1")
RULES = """<?xml version="1.0" encoding="UTF-8"?>
<root>
    <application pattern="app">
        <starting_strategy>CONFIG</starting_strategy>
    </application>
    <application name="mover">
        <starting_strategy>CONFIG</starting_strategy>
        <programs>
            <program name="worker">
                <running_failure_strategy>RESTART_PROCESS</running_failure_strategy>
            </program>
        </programs>
    </application>
</root>
"""
#: ``--guarded``: every program has a running_failure_strategy that acts on a loss, so the acting controller
#: probes every instance every second (the worst case; by default only mover:worker's instance is guarded,
#: the others, running CONTINUE programs, being probed every 5 s: docs/decisions.md, issue 18)
RULES_GUARDED = RULES.replace("""<application pattern="app">
        <starting_strategy>CONFIG</starting_strategy>""", """<application pattern="app">
        <starting_strategy>CONFIG</starting_strategy>
        <running_failure_strategy>RESTART_PROCESS</running_failure_strategy>""")
AIM_CPU = {100: 2.0, 300: 5.0}
AIM_RSS = 40.0
#: the rules the controllers of this run load (``--guarded``: RULES_GUARDED)
RULES_TEXT = [RULES]


class Fake:
    """bench/fake_supervisord.py in a child process."""

    def __init__(self, count: int, programs: int, running: int, logdir: Path, prefix: str = "f") -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "fake_supervisord.py"), "--host", HOST, "--count", str(count),
             "--programs", str(programs), "--running", str(running), "--logdir", str(logdir), "--prefix", prefix],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, start_new_session=True)
        assert self.process.stdout is not None
        self.ports: dict[str, int] = json.loads(self.process.stdout.readline())

    @property
    def specs(self) -> list[str]:
        return [f"<{nick}>{HOST}:{port}" for nick, port in self.ports.items()]

    def command(self, line: str) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        self.process.stdout.readline()

    def stats(self) -> dict[str, int]:
        """Requests served so far, per method."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("stats\n")
        self.process.stdin.flush()
        return dict(json.loads(self.process.stdout.readline()))

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()


def start_controller(checkout: Path, specs: list[str], folder: Path, tag: str,
                     text: str | None = None) -> tuple[subprocess.Popen[bytes], Path]:
    rules = folder / "rules.xml"
    rules.write_text(text or RULES_TEXT[0])
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUPERVISOR_")}
    env["PYTHONPATH"] = str(checkout)
    out = folder / f"{tag}.out"
    with open(out, "wb") as stdout, open(folder / f"{tag}.log", "wb") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "supv_cli", "run-plan", "--watch", "-i", " ".join(specs),
                                    "-r", str(rules)], env=env, cwd=str(checkout), stdout=stdout, stderr=stderr,
                                   start_new_session=True)
    return process, out


def stop_controller(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()


def settle(process: subprocess.Popen[bytes], out: Path, deadline: float = 180.0) -> float:
    """Seconds until the controller acts with no job."""
    started = time.monotonic()
    while time.monotonic() - started < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the controller exited with {process.returncode}; see {out}")
        state = last_state(out)
        if state.get("acting") and not state.get("jobs"):
            return time.monotonic() - started
        time.sleep(0.5)
    raise SystemExit(f"the controller did not settle within {deadline:g} s; see {out}")


def lost_lines(folder: Path, tag: str) -> list[str]:
    log = folder / f"{tag}.log"
    return [line for line in log.read_text(errors="replace").splitlines() if " lost " in line or "lost after" in line] \
        if log.exists() else []


def measure_one(checkout: Path, size: int, programs: int, running: int, window: float, scratch: Path,
                tag: str) -> dict[str, Any]:
    folder = scratch / f"{tag}_{size}"
    folder.mkdir()
    fake = Fake(size, programs, running, folder)
    process = None
    try:
        process, out = start_controller(checkout, fake.specs, folder, tag)
        settled = settle(process, out)
        rss_start = rss_mb(process.pid)
        time.sleep(5)  # the first configuration fetches are over
        before = cpu_seconds(process.pid)
        fake_before = cpu_seconds(fake.process.pid)
        started = time.monotonic()
        time.sleep(window)
        elapsed = time.monotonic() - started
        cpu = (cpu_seconds(process.pid) - before) / elapsed * 100
        fake_cpu = (cpu_seconds(fake.process.pid) - fake_before) / elapsed * 100
        return {"size": size, "cpu": cpu, "rss_start": rss_start, "rss": rss_mb(process.pid), "settled": settled,
                "fake": fake_cpu, "lost": len(lost_lines(folder, tag))}
    finally:
        if process is not None:
            stop_controller(process)
        fake.stop()


def measure(args: argparse.Namespace) -> None:
    baseline = Path(args.baseline)
    print(f"load average before: {os.getloadavg()[0]:.2f}; one acting controller, N fake supervisord x "
          f"{args.programs} programs ({args.running} running), {args.window:g} s windows, percent of one core")
    print(f"baseline: {baseline} (same run, same machine); this: {ROOT}")
    print("      N  code       CPU %   RSS MB (settled -> end)  fake supervisord %  lost  settled in")
    with tempfile.TemporaryDirectory(prefix="supv-bench-scale-") as scratch:
        for size in (int(s) for s in args.sizes.split(",")):
            rows = {}
            for tag, checkout in (("baseline", baseline), ("this", ROOT)):
                if tag == "baseline" and args.no_baseline:
                    continue
                r = rows[tag] = measure_one(checkout, size, args.programs, args.running, args.window,
                                            Path(scratch), tag)
                print(f"  {size:5d}  {tag:8s}  {r['cpu']:6.2f}  {r['rss_start']:7.1f} -> {r['rss']:6.1f}  "
                      f"{r['fake']:17.1f}  {r['lost']:4d}  {r['settled']:6.1f} s", flush=True)
            this = rows["this"]
            aim = AIM_CPU.get(size)
            line = f"  {size:5d}  this / aim: CPU " + (f"{this['cpu'] / aim:.2f}x of {aim:g} %" if aim else "-")
            line += f", RSS {this['rss'] / AIM_RSS:.2f}x of {AIM_RSS:g} MB"
            if "baseline" in rows and this["cpu"]:
                base = rows["baseline"]
                line += (f"; baseline / this: CPU {base['cpu'] / this['cpu']:.1f}x, "
                         f"RSS {base['rss'] / this['rss']:.2f}x")
            print(line, flush=True)


# ------------------------------------------------------------------------------------------ soak

def soak(args: argparse.Namespace) -> None:
    size = int(args.sizes.split(",")[0])
    with tempfile.TemporaryDirectory(prefix="supv-bench-soak-") as scratch:
        folder = Path(scratch)
        fake = Fake(size, args.programs, args.running, folder)
        process = None
        try:
            process, out = start_controller(ROOT, fake.specs, folder, "soak")
            settle(process, out)
            rss_start = rss_mb(process.pid)
            print(f"soak: {size} fake instances x {args.programs} programs, {args.soak:g} s; settled, RSS "
                  f"{rss_start:.1f} MB", flush=True)
            nicks = list(fake.ports)
            started = time.monotonic()
            before = cpu_seconds(process.pid)
            minute = 0
            while time.monotonic() - started < args.soak:
                time.sleep(min(60.0, max(0.0, args.soak - (time.monotonic() - started))))
                if fake.process.poll() is not None:
                    raise SystemExit("the fake supervisord died: this soak says nothing (see its stderr above)")
                minute += 1
                batch = nicks[(minute * 31) % size:][: max(1, size // 10)]
                fake.command("restart " + " ".join(batch))
                fake.command(f"add {nicks[(minute * 7) % size]} extra{minute}")
                print(f"  {time.monotonic() - started:6.0f} s: restarted {len(batch)} instances at once, added a "
                      f"program to one; RSS {rss_mb(process.pid):.1f} MB; lost so far: "
                      f"{len(lost_lines(folder, 'soak'))}", flush=True)
            elapsed = time.monotonic() - started
            cpu = (cpu_seconds(process.pid) - before) / elapsed * 100
            lost = lost_lines(folder, "soak")
            print(f"soak done: {elapsed:.0f} s, controller {cpu:.2f} % of a core (restarts included), RSS "
                  f"{rss_start:.1f} -> {rss_mb(process.pid):.1f} MB; instances declared lost: {len(lost)} "
                  f"(none was down)")
            for line in lost[:20]:
                print("   ", line)
        finally:
            if process is not None:
                stop_controller(process)
            fake.stop()


# ------------------------------------------------------------------------------------------ check

_NORMALIZE = [
    (re.compile(rb"Date: [^\r]*"), b"Date: -"),
    (re.compile(rb"Content-Length: \d+"), b"Content-Length: -"),
    (re.compile(rb"(<name>(?:start|stop|now|pid)</name>\n<value><int>)\d+"), rb"\g<1>-"),
    (re.compile(rb"pid \d+, uptime [^<]*"), b"pid -, uptime -"),
    (re.compile(rb"<string>[^<]*/([\w.-]+)-(stdout|stderr)---([\w-]+)-\w{8}\.log</string>"),
     rb"<string>\1-\2---\3-.log</string>"),
    (re.compile(rb"(<value><int>)\d+(</int></value>\n</param>)"), rb"\g<1>-\2"),  # getPID
]

CHECK_CALLS: list[tuple[str, tuple[Any, ...]]] = [
    ("supervisor.getState", ()),
    ("supervisor.getAllProcessInfo", ()),
    ("supervisor.getAllConfigInfo", ()),
    ("supervisor.getPID", ()),
    ("supervisor.getIdentification", ()),
    ("supervisor.getAPIVersion", ()),
    ("supervisor.getSupervisorVersion", ()),
    ("supervisor.getProcessInfo", ("mover:worker",)),
    ("supervisor.getProcessInfo", ("nope",)),
    ("supervisor.tailProcessStdoutLog", ("mover:worker", 0, 16384)),
    ("supervisor.readProcessStdoutLog", ("mover:worker", 0, 100)),
    ("supervisor.noSuchMethod", ()),
    ("system.multicall", ([{"methodName": "supervisor.getState", "params": []},
                           {"methodName": "supervisor.getAllProcessInfo", "params": []},
                           {"methodName": "supervisor.getAllConfigInfo", "params": []}],)),
    ("supervisor.startProcess", ("mover:worker", False)),
    ("supervisor.startProcess", ("mover:worker", False)),
    ("supervisor.stopProcess", ("mover:worker", False)),
]


def raw_call(host: str, port: int, method: str, params: tuple[Any, ...]) -> bytes:
    body = xmlrpc.client.dumps(params, method).encode()
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n"
                     % len(body) + body)
        data = b""
        while True:
            head, _, rest = data.partition(b"\r\n\r\n")
            found = re.search(rb"Content-Length: (\d+)", head)
            if found and len(rest) >= int(found.group(1)):
                return data
            chunk = sock.recv(65536)
            if not chunk:
                return data
            data += chunk


def normalized(data: bytes) -> bytes:
    for pattern, replacement in _NORMALIZE:
        data = pattern.sub(replacement, data)
    return data


def last_log_line(host: str, port: int) -> str:
    """The last line of an instance's main log (``readLog(-512, 0)``), its timestamp left out."""
    tail = xmlrpc.client.loads(raw_call(host, port, "supervisor.readLog", (-512, 0)).partition(b"\r\n\r\n")[2])[0][0]
    return str(tail).rstrip("\n").rpartition("\n")[2].split(" ", 2)[-1]


def check(args: argparse.Namespace) -> None:
    from tests.support.supervisord import Supervisord, stop_all

    count = 6
    with tempfile.TemporaryDirectory(prefix="supv-bench-check-") as scratch:
        servers = []
        for index in range(count):
            groups, running = layout(index, args.programs, args.running)
            programs = {name: {"command": "sleep 100000", "autostart": f"{group}:{name}" in running}
                        for group, members in groups.items() for name in members}
            servers.append(Supervisord(Path(scratch) / f"f{index:03d}", nick=f"f{index:03d}", programs=programs,
                                       groups=groups, host=HOST))
        fake = Fake(count, args.programs, args.running, Path(scratch))
        try:
            for server in servers:
                server.start(timeout=120)
            time.sleep(2)  # every autostart program RUNNING
            same = differ = 0
            for server in servers:
                for method, params in CHECK_CALLS:
                    real = normalized(raw_call(HOST, server.port or 0, method, params)).replace(
                        str(server.workdir).encode(), b"DIR")
                    faked = normalized(raw_call(HOST, fake.ports[server.nick], method, params)).replace(
                        scratch.encode(), b"DIR")
                    if real == faked:
                        same += 1
                    else:
                        differ += 1
                        print(f"DIFFERENT: {server.nick} {method}{params!r}:\n--- real\n{real.decode()}\n--- fake\n"
                              f"{faked.decode()}")
            print(f"check: {same} answers identical to real supervisord 4.3's (but clock, pids, log names), "
                  f"{differ} different; {count} instances x {len(CHECK_CALLS)} calls, {args.programs} programs")
            time.sleep(1)  # the stop of mover:worker reaped and logged
            tails = {server.nick: [last_log_line(HOST, port) for port in (server.port or 0, fake.ports[server.nick])]
                     for server in servers}
            alike = sum(real == faked for real, faked in tails.values())
            for nick, (real, faked) in tails.items():
                if real != faked:
                    print(f"DIFFERENT main log: {nick}:\n--- real\n{real}\n--- fake\n{faked}")
            print(f"check: the last line of the main log (readLog) alike but the clock on {alike} of {count} instances")
        finally:
            stop_all(servers)
            fake.stop()


def request_cost(args: argparse.Namespace) -> None:
    """CPU of a real supervisord per request kind, over a kept connection (supv's own transport)."""
    from supv_cli.cluster.client import make_proxy
    from supv_cli.model.instances import parse_instance
    from tests.support.supervisord import Supervisord, stop_all

    groups, running = layout(0, args.programs, args.running)
    programs = {name: {"command": "sleep 100000", "autostart": f"{group}:{name}" in running}
                for group, members in groups.items() for name in members}
    with tempfile.TemporaryDirectory(prefix="supv-bench-cost-") as scratch:
        server = Supervisord(Path(scratch) / "s", nick="s", programs=programs, groups=groups, host=HOST)
        server.start(timeout=60)
        try:
            time.sleep(2)
            proxy = make_proxy(parse_instance(server.spec), 5.0)
            count = 300
            kinds = [("getState (a probe)", lambda: proxy.supervisor.getState()),
                     ("getAllProcessInfo (a full poll)", lambda: proxy.supervisor.getAllProcessInfo()),
                     ("tailProcessStdoutLog, nothing new (a listener's output tailed)",
                      lambda: proxy.supervisor.tailProcessStdoutLog("mover:worker", 0, 0)),
                     ("getAllConfigInfo (a configuration refresh)", lambda: proxy.supervisor.getAllConfigInfo()),
                     ("readLog(-512, 0) (the controller's probe: the main log's tail)",
                      lambda: proxy.supervisor.readLog(-512, 0)),
                     ("multicall getAllProcessInfo + readLog (a periodic full poll with the tail)",
                      lambda: proxy.system.multicall([{"methodName": "supervisor.getAllProcessInfo", "params": []},
                                                      {"methodName": "supervisor.readLog", "params": [-512, 0]}]))]
            print(f"one real supervisord, {args.programs} programs: its CPU per request, {count} requests each")
            for label, call in kinds:
                before = cpu_seconds(server.pid)
                for _ in range(count):
                    call()
                print(f"  {(cpu_seconds(server.pid) - before) / count * 1000:6.2f} ms  {label}")
        finally:
            stop_all([server])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="30,100,300")
    parser.add_argument("--programs", type=int, default=40)
    parser.add_argument("--running", type=int, default=10)
    parser.add_argument("--window", type=float, default=30.0)
    parser.add_argument("--baseline", default="/work/main", help="checkout of the code to compare with")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--request-cost", action="store_true")
    parser.add_argument("--soak", type=float, default=0.0, help="seconds of a soak run (no measurement)")
    parser.add_argument("--guarded", action="store_true",
                        help="every program with RESTART_PROCESS: every instance probed every second (worst case)")
    args = parser.parse_args()
    if args.guarded:
        RULES_TEXT[0] = RULES_GUARDED
    if args.check:
        check(args)
    elif args.request_cost:
        request_cost(args)
    elif args.soak:
        soak(args)
    else:
        measure(args)


if __name__ == "__main__":
    main()
