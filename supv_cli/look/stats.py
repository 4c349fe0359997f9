"""What ``supv stats`` shows: one row per instance (its host) and per running process. Pure.

Built from a snapshot (which processes run where, with which pid) and the samplers' reports
(``cluster/stats.py``). A process is listed where it runs now; its figures come from its instance's
last sample when that sample measured the same pid, else they are null (a process started since, or an
instance without a sampler). So a process that stopped or was killed is gone at the next snapshot.
"""

from __future__ import annotations

from typing import Any, Collection, Mapping

from supv_cli.cluster.stats import HostSample, Sample, SamplerReport, sample_time_text
from supv_cli.model.snapshot import ProcessState, Snapshot

#: the keys of a row, in the documented order (cli.md), then supv's additions
ROW_KEYS = ("instance", "kind", "application_name", "process_name", "pid", "cpu_percent", "rss_bytes",
            "memory_percent", "time", "sampler", "load_average", "memory_total")


def _row(nick: str, kind: str, report: SamplerReport | None, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(ROW_KEYS)
    row.update(instance=nick, kind=kind, sampler=report.state if report is not None else None, **values)
    return row


def host_row(nick: str, report: SamplerReport | None) -> dict[str, Any]:
    """The host row of one instance: its CPU (% of all cores), memory in use (bytes in ``rss_bytes``, %),
    load averages; null figures without a sample."""
    sample = report.sample if report is not None else None
    if sample is None:
        return _row(nick, "host", report)
    host: HostSample = sample.host
    return _row(nick, "host", report, cpu_percent=host.cpu_percent, rss_bytes=host.memory_used,
                memory_percent=host.memory_percent, time=sample_time_text(sample), load_average=list(host.load),
                memory_total=host.memory_total)


def process_values(sample: Sample | None, namespec: str, pid: int) -> dict[str, Any]:
    """cpu_percent, rss_bytes, memory_percent, time of a process in ``sample`` (only for the same pid)."""
    measured = sample.processes.get(namespec) if sample is not None else None
    if sample is None or measured is None or measured.pid != pid:
        return {}
    total = sample.host.memory_total
    return {"cpu_percent": measured.cpu_percent, "rss_bytes": measured.rss_bytes,
            "memory_percent": round(100.0 * measured.rss_bytes / total, 2) if total else None,
            "time": sample_time_text(sample)}


def stats_rows(snapshot: Snapshot, reports: Mapping[str, SamplerReport],
               selected: Collection[tuple[str, str]] | None = None) -> list[dict[str, Any]]:
    """Rows for every instance (host first, then its running processes, in supervisord's order).
    ``selected``: (application, process) pairs to keep (None: every process, and every host); with
    a selection, only the hosts where a selected process runs are listed."""
    rows: list[dict[str, Any]] = []
    for snap in snapshot.instances:
        nick = snap.instance.nick
        report = reports.get(nick)
        sample = report.sample if report is not None else None
        processes = []
        for info in snap.processes:
            if info.pid <= 0 or not (info.running or info.state is ProcessState.STOPPING):
                continue
            if selected is not None and (info.group, info.name) not in selected:
                continue
            processes.append(_row(nick, "process", report, application_name=info.group, process_name=info.name,
                                  pid=info.pid, **process_values(sample, info.namespec, info.pid)))
        if selected is None or processes:
            rows.append(host_row(nick, report))
        rows.extend(processes)
    return rows


def host_figures(report: SamplerReport | None) -> tuple[float | None, float | None]:
    """(CPU %, memory %) of a host, for the columns of ``instances`` and ``top``."""
    if report is None or report.sample is None:
        return None, None
    return report.sample.host.cpu_percent, report.sample.host.memory_percent


def human_bytes(value: int | None) -> str:
    """``11.3M``-like sizes (binary units) for tables; ``-`` for null."""
    if value is None:
        return "-"
    size = float(value)
    for unit in ("B", "K", "M", "G", "T"):
        if size < 1024 or unit == "T":
            return f"{size:.0f}{unit}" if unit == "B" else f"{size:.1f}{unit}"
        size /= 1024
    return f"{size:.1f}T"
