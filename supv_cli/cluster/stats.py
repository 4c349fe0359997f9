"""Statistics of the supv samplers: the line each prints, and how a session reads the last one.

A sampler (``supv sampler``, see ``look/sampler.py``) runs as an ordinary program of each supervisord
(default name ``supv_sampler``) and prints one JSON line on its stdout every period; supervisord writes it
to the program's stdout log, which anyone may read over stock XML-RPC (``tailProcessStdoutLog``), the
same channel as the controller's state lines. One line::

    {"supv_stats": 1, "t": 1733580000.12, "interval": 5.0,
     "host": {"cpu": 12.5, "mem": 40.1, "total": 8243000000, "used": 3305000000, "load": [0.2, 0.1, 0.1],
              "cpus": 2},
     "procs": {"scen3_srv:scen3_item_manager": [4242, 0.4, 11849728], ...}}

``t`` is the sampler host's clock, ``cpu`` a percentage of the whole host (all cores), ``mem`` the share
of the host's memory in use (``total - available``), a process's entry ``[pid, cpu, rss]`` with ``cpu`` a
percentage of one core (above 100 on several cores, as ``top``) or null on its first sample.

:class:`StatsReader` reads them through a :class:`~supv_cli.cluster.session.ClusterSession`: one
``tailProcessStdoutLog`` per instance running a sampler, incremental after the first (only the bytes
written since the last read travel: a line a period).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Mapping

from supv_cli.cluster import SAMPLER_PROGRAM
from supv_cli.model.snapshot import InstanceSnapshot, ProcessInfo, ProcessState, Snapshot
from supv_cli.model.text import iso_time

if TYPE_CHECKING:
    from supv_cli.cluster.fanout import Fanout, InstanceClient

__all__ = ["SAMPLER_PROGRAM", "HostSample", "ProcessSample", "Sample", "SamplerReport", "StatsReader",
           "decode", "encode", "last_sample", "sampler_info"]

#: the key (and protocol version) that marks a statistics line
STATS_KEY = "supv_stats"
#: bytes of the end of a sampler's log read the first time (then only what was written since)
TAIL_BYTES = 65536
#: a sample older than this many periods (by its supervisord's clock) is stale: the sampler is stuck
STALE_PERIODS = 3

# what a sampler is doing, as reported per instance (``sampler`` in ``supv stats --json``)
SAMPLING = "sampling"
NONE = "none"
STOPPED = "stopped"
NO_SAMPLE = "waiting"
STALE = "stale"
UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class HostSample:
    """The host: CPU % of all its cores, memory in use (%, bytes) of ``memory_total``, load averages."""

    cpu_percent: float | None
    memory_percent: float
    memory_total: int
    memory_used: int
    load: tuple[float, float, float]
    cpus: int


@dataclass(frozen=True)
class ProcessSample:
    """One process of the sampler's supervisord: CPU % of one core (None on its first sample), RSS."""

    namespec: str
    pid: int
    cpu_percent: float | None
    rss_bytes: int


@dataclass(frozen=True)
class Sample:
    """One line of a sampler."""

    time: float
    interval: float
    host: HostSample
    processes: Mapping[str, ProcessSample] = field(default_factory=dict)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def encode(sample: Sample) -> str:
    """The sampler's line (compact JSON, see the module doc)."""
    host = sample.host
    data = {STATS_KEY: 1, "t": round(sample.time, 3), "interval": sample.interval,
            "host": {"cpu": _round(host.cpu_percent), "mem": _round(host.memory_percent), "total": host.memory_total,
                     "used": host.memory_used, "load": [round(x, 2) for x in host.load], "cpus": host.cpus},
            "procs": {p.namespec: [p.pid, _round(p.cpu_percent), p.rss_bytes] for p in sample.processes.values()}}
    return json.dumps(data, separators=(",", ":"))


def _number(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"not a number: {value!r}")
    return float(value)


def decode(line: str) -> Sample | None:
    """The sample of one line, or None when the line is not a (well-formed) statistics line."""
    if STATS_KEY not in line:
        return None
    try:
        data = json.loads(line)
        if not isinstance(data, dict) or data.get(STATS_KEY) != 1:
            return None
        raw = data["host"]
        load = tuple(float(x) for x in raw["load"])
        host = HostSample(_number(raw["cpu"]), float(raw["mem"]), int(raw["total"]), int(raw["used"]),
                          (load + (0.0, 0.0, 0.0))[:3], int(raw["cpus"]))  # type: ignore[arg-type]
        processes = {}
        for namespec, (pid, cpu, rss) in data["procs"].items():
            processes[str(namespec)] = ProcessSample(str(namespec), int(pid), _number(cpu), int(rss))
        return Sample(float(data["t"]), float(data["interval"]), host, processes)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def last_sample(text: str) -> Sample | None:
    """The last well-formed statistics line of a log tail, or None."""
    for line in reversed(text.splitlines()):
        sample = decode(line)
        if sample is not None:
            return sample
    return None


@dataclass(frozen=True)
class SamplerReport:
    """What is known of the sampler of one instance: ``state`` is one of sampling, none (no such
    program), stopped (its state in ``detail``), waiting (no sample yet), stale, unreachable: one word each, for
    plain columns."""

    nick: str
    state: str
    sample: Sample | None = None
    detail: str = ""

    @property
    def sampling(self) -> bool:
        return self.state == SAMPLING

    def hint(self) -> str:
        """One line saying what to do, for an instance without statistics ('' when it has some)."""
        if self.state == NONE:
            return (f"{self.nick}: no sampler: add a [program:{SAMPLER_PROGRAM}] running `supv sampler` to its "
                    "supervisord (see docs/metrics.md)")
        if self.state == STOPPED:
            return f"{self.nick}: sampler {self.detail}: `supv enable_stats` starts it"
        if self.state == NO_SAMPLE:
            return f"{self.nick}: sampler started, no sample yet ({self.detail})"
        if self.state == STALE:
            return f"{self.nick}: last sample {self.detail}: is the sampler stuck?"
        if self.state == UNREACHABLE:
            return f"{self.nick}: did not answer ({self.detail})"
        return ""


def sampler_info(snap: InstanceSnapshot, program: str = SAMPLER_PROGRAM) -> ProcessInfo | None:
    """The sampler program of an instance (running first), if it has one."""
    found = [info for info in snap.processes if program in (info.group, info.name)]
    return next((info for info in found if info.running), found[0] if found else None)


@dataclass
class _Log:
    """Where the last read of one sampler's log ended."""

    pid: int
    offset: int
    sample: Sample | None
    partial: str = ""
    #: when (our monotonic clock) the sample last changed: a sampler whose line does not change is stuck
    changed_at: float = 0.0


class StatsReader:
    """The samplers' last samples, read through a session (incremental: see the module doc)."""

    def __init__(self, session: Fanout, program: str = SAMPLER_PROGRAM, tail_bytes: int = TAIL_BYTES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.session = session
        self.clock = clock
        self.program = program
        self.tail_bytes = tail_bytes
        self._logs: dict[str, _Log] = {}

    def read(self, snapshot: Snapshot) -> dict[str, SamplerReport]:
        """nick -> the report of its sampler, for every instance of ``snapshot`` (in its order)."""
        reports: dict[str, SamplerReport] = {}
        targets: dict[str, ProcessInfo] = {}
        for snap in snapshot.instances:
            nick = snap.instance.nick
            info = sampler_info(snap, self.program) if snap.reachable else None
            if not snap.reachable:
                reports[nick] = SamplerReport(nick, UNREACHABLE, detail=snap.reason or snap.state)
            elif info is None:
                reports[nick] = SamplerReport(nick, NONE)
            elif info.state is not ProcessState.RUNNING:
                reports[nick] = SamplerReport(nick, STOPPED, detail=info.state.name)
            else:
                targets[nick] = info
                continue
            self._logs.pop(nick, None)
        if targets:
            instances = [snap.instance for snap in snapshot.instances if snap.instance.nick in targets]
            answers = self.session.each(instances, lambda client: self._tail(client, targets[client.instance.nick]))
            for instance, answer in zip(instances, answers):
                nick, info = instance.nick, targets[instance.nick]
                if not isinstance(answer, Sample) and answer is not None:  # a CallError
                    reports[nick] = SamplerReport(nick, UNREACHABLE, detail=getattr(answer, "reason", str(answer)))
                elif answer is None:
                    reports[nick] = SamplerReport(nick, NO_SAMPLE, detail=f"pid {info.pid}")
                elif self._stale(nick, info, answer):
                    age = self._age(nick, info, answer)
                    reports[nick] = SamplerReport(nick, STALE, answer, detail=f"{age:.0f}s old")
                else:
                    reports[nick] = SamplerReport(nick, SAMPLING, answer)
        return {snap.instance.nick: reports[snap.instance.nick] for snap in snapshot.instances}

    def _age(self, nick: str, info: ProcessInfo, sample: Sample) -> float:
        """Seconds since the sample was taken: by its supervisord's clock (the snapshot's ``now``, when the
        snapshot is fresh), or by ours since the line last changed (a poller's reused answer)."""
        remote = info.now - sample.time if info.now else 0.0
        return max(remote, self.clock() - self._logs[nick].changed_at)

    def _stale(self, nick: str, info: ProcessInfo, sample: Sample) -> bool:
        return self._age(nick, info, sample) > STALE_PERIODS * sample.interval + 1

    def _tail(self, client: InstanceClient, info: ProcessInfo) -> Sample | None:
        """Runs in a worker thread: the last sample of one sampler (its log read from where the last read
        ended, or its last ``tail_bytes`` when the sampler is new or its log was rotated)."""
        nick = client.instance.nick
        log = self._logs.get(nick)
        if log is None or log.pid != info.pid:
            log = _Log(info.pid, 0, None, changed_at=self.clock())
        text, offset, overflow = client.call("supervisor.tailProcessStdoutLog", info.namespec, log.offset,
                                             self.tail_bytes)
        offset = int(offset)
        if offset < log.offset:  # rotated (smaller than where we were): its last bytes, from a new start
            log.offset = 0
            text, offset, overflow = client.call("supervisor.tailProcessStdoutLog", info.namespec, 0,
                                                 self.tail_bytes)
            offset = int(offset)
            overflow = True
        if overflow:  # first read, more than tail_bytes since, or rotated: what came before is not ours
            log.partial = ""
        text = log.partial + str(text)
        complete, _, log.partial = text.rpartition("\n")
        log.partial = log.partial[-self.tail_bytes:]
        sample = last_sample(complete)
        if sample is not None and info.start and sample.time < info.start:
            sample = None  # printed by an earlier run of the sampler (same log file): not this one's
        if sample is not None and sample != log.sample:
            log.sample, log.changed_at = sample, self.clock()
        log.offset = offset
        self._logs[nick] = log
        return log.sample


def sample_time_text(sample: Sample) -> str:
    """The sample's time as local ``YYYY-MM-DDTHH:MM:SS.mmm`` (as ``supv events`` prints times)."""
    return iso_time(sample.time)
