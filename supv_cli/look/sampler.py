"""The sampler: CPU and memory of one host and of every process of its supervisord, a line a period.

``supv sampler`` runs this as an ordinary program of each supervisord (``[program:supv_sampler]``, see
docs/metrics.md). Every period it asks its own supervisord (``SUPERVISOR_SERVER_URL``, which supervisord
sets for its programs) for the pids of its processes (``getAllProcessInfo``), measures the host and
those pids with psutil, and prints one line on stdout (``cluster/stats.py`` has the format); readers
fetch the last one over XML-RPC (``tailProcessStdoutLog``), nothing runs inside supervisord.

Its period changes at run time through its stdin, which supervisord lets anyone write to over XML-RPC
(``sendProcessStdin``, what ``supv stats_period`` does): a line ``interval SECONDS``. A restarted sampler
starts again with its ``--stats-interval``.

Kept small on purpose (measured by ``bench/sampler_cost.py``): psutil, the XML-RPC client of
``cluster/`` and the standard library; nothing of click or rich is used in the loop.
"""

from __future__ import annotations

import os
import select
import time
from typing import IO, Any, Callable, Mapping

from supv_cli.cluster.stats import HostSample, ProcessSample, Sample, encode

#: the shortest and longest period accepted (seconds)
MIN_INTERVAL = 0.1
MAX_INTERVAL = 3600.0


class Sampler:
    """psutil measures, one :class:`Sample` per call of :meth:`sample`; CPU percentages are over the
    time since the previous call (a process seen for the first time has None)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        import psutil

        self.psutil = psutil
        self.clock = clock
        self.cpus = psutil.cpu_count() or 1
        self._procs: dict[int, Any] = {}
        psutil.cpu_percent(None)  # the reference of the first host figure

    def host(self) -> HostSample:
        memory = self.psutil.virtual_memory()
        used = int(memory.total - memory.available)
        try:
            load = os.getloadavg()
        except OSError:  # not on this platform
            load = (0.0, 0.0, 0.0)
        return HostSample(float(self.psutil.cpu_percent(None)), round(100.0 * used / memory.total, 1)
                          if memory.total else 0.0, int(memory.total), used, load, self.cpus)

    def process(self, namespec: str, pid: int) -> ProcessSample | None:
        """One process, or None when it is gone (or not ours to see)."""
        proc = self._procs.get(pid)
        first = proc is None
        try:
            if proc is None:
                proc = self.psutil.Process(pid)
            with proc.oneshot():
                cpu = proc.cpu_percent(None)
                rss = proc.memory_info().rss
        except (self.psutil.NoSuchProcess, self.psutil.AccessDenied, self.psutil.ZombieProcess):
            self._procs.pop(pid, None)
            return None
        self._procs[pid] = proc
        return ProcessSample(namespec, pid, None if first else float(cpu), int(rss))

    def sample(self, pids: Mapping[str, int], interval: float) -> Sample:
        """The host and the processes ``pids`` (namespec -> pid) now."""
        processes = {}
        for namespec, pid in pids.items():
            found = self.process(namespec, pid)
            if found is not None:
                processes[namespec] = found
        for pid in set(self._procs) - set(pids.values()):  # gone: forget them
            del self._procs[pid]
        return Sample(self.clock(), interval, self.host(), processes)


def parse_command(line: str) -> float | None:
    """The period a stdin line asks for (``interval SECONDS``), or None when it asks for nothing valid."""
    words = line.split()
    if len(words) != 2 or words[0] != "interval":
        return None
    try:
        value = float(words[1])
    except ValueError:
        return None
    return value if MIN_INTERVAL <= value <= MAX_INTERVAL else None


class Commands:
    """Lines on the sampler's stdin, read without blocking while it waits for its next period."""

    def __init__(self, fd: int | None) -> None:
        self.fd = fd
        self._buffer = b""

    def wait(self, seconds: float) -> list[str]:
        """Wait ``seconds`` (or less, as soon as a whole line came); the lines that came."""
        if self.fd is None:
            time.sleep(max(0.0, seconds))
            return []
        ready, _, _ = select.select([self.fd], [], [], max(0.0, seconds))
        if not ready:
            return []
        data = os.read(self.fd, 4096)
        if not data:  # end of file (stdin is /dev/null, or closed): nothing more will come
            self.fd = None
            return []
        self._buffer += data
        *lines, self._buffer = self._buffer.split(b"\n")
        self._buffer = self._buffer[-4096:]
        return [line.decode("utf-8", "replace") for line in lines]


def run(fetch_pids: Callable[[], dict[str, int]], interval: float, out: IO[str], err: IO[str],
        commands: Commands, count: int | None = None, clock: Callable[[], float] = time.monotonic) -> None:
    """Print one line per period on ``out`` (``count`` lines, or until stopped); what goes wrong, on ``err``.
    ``fetch_pids`` raises on a failed call: the pids known last are kept meanwhile."""
    sampler = Sampler()
    pids: dict[str, int] = {}
    failed = ""

    def refresh() -> None:
        nonlocal pids, failed
        try:
            pids = fetch_pids()
        except Exception as error:  # noqa: BLE001 (any failure of the call: said once, retried next period)
            if str(error) != failed:
                err.write(f"supv sampler: cannot list the processes of supervisord: {error}\n")
                err.flush()
            failed = str(error)
        else:
            if failed:
                err.write("supv sampler: supervisord answers again\n")
                err.flush()
            failed = ""

    refresh()
    for pid_namespec, pid in pids.items():  # the reference of each process's first CPU figure
        sampler.process(pid_namespec, pid)
    printed = 0
    deadline = clock() + interval
    while count is None or printed < count:
        for line in commands.wait(deadline - clock()):
            period = parse_command(line)
            if period is None:
                err.write(f"supv sampler: ignored {line.strip()!r} on stdin (expected: interval SECONDS, "
                          f"{MIN_INTERVAL:g} to {MAX_INTERVAL:g})\n")
            else:
                err.write(f"supv sampler: period {interval:g}s -> {period:g}s\n")
                deadline += period - interval
                interval = period
            err.flush()
        if clock() < deadline:
            continue
        refresh()
        out.write(encode(sampler.sample(pids, interval)) + "\n")
        out.flush()
        printed += 1
        deadline = max(deadline + interval, clock() + MIN_INTERVAL)
