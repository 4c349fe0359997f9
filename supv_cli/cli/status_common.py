"""What the status views (``application-info``, ``sstatus``, ``instances``) share: one snapshot turned
into a ClusterStatus, unreachable instances reported on stderr, state colours, supvisorsctl widths."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Sequence

from supv_cli.cli.options import ClusterOptions
from supv_cli.cli.output import warn
from supv_cli.errors import ClusterError

if TYPE_CHECKING:
    from supv_cli.cli.common import CommandContext
    from supv_cli.cluster.snapshot import InstanceSnapshot, Snapshot
    from supv_cli.status import ClusterStatus

#: rich styles of process and application states (the Supvisors web UI's colours, roughly)
STATE_STYLES = {
    "RUNNING": "green",
    "STARTING": "yellow",
    "BACKOFF": "yellow",
    "STOPPING": "yellow",
    "STOPPED": "dim",
    "EXITED": "dim",
    "FATAL": "bold red",
    "UNKNOWN": "bold red",
    "UNREACHABLE": "bold red",
}
#: the operational status LED of the table view
LED_STYLES = {"Operational": "green", "Degraded": "dark_orange", "Not Operational": "red"}
LED = "\u25cf"


def unreachable_line(snap: InstanceSnapshot) -> str:
    """``server_2 (http://127.0.0.1:61002): connection refused``."""
    from supv_cli.cluster.client import instance_label

    return f"{instance_label(snap.instance)}: {snap.reason or snap.state}"


def report_instances(snapshot: Snapshot) -> None:
    """One warning on stderr per instance that did not answer, or answered but is not RUNNING."""
    for snap in snapshot.instances:
        if not snap.reachable or snap.state != "RUNNING":
            warn(unreachable_line(snap))


def require_an_answer(snapshot: Snapshot) -> None:
    """Exit 3 when no instance answered at all: there is nothing to show."""
    if snapshot.instances and not snapshot.reachable:
        count = len(snapshot.instances)
        raise ClusterError(f"no instance answered ({count} unreachable): check -i / SUPV_INSTANCES, the "
                           "credentials and that supervisord is running")


def load_status(cluster: ClusterOptions) -> tuple[CommandContext, ClusterStatus]:
    """Resolve the options, load the rules, take one snapshot and evaluate it; warnings on stderr."""
    from supv_cli.cli.common import load_context
    from supv_cli.cluster.client import take_snapshot
    from supv_cli.status import evaluate

    context = load_context(cluster, need_instances=True, need_rules=False)
    for line in context.warnings:
        warn(line)
    settings = context.settings
    # no getAllConfigInfo: two thirds of the bytes, and nothing a status view needs (see take_snapshot)
    snapshot = take_snapshot(settings.instances, timeout=settings.timeout, username=settings.username,
                             password=settings.password, with_config=False)
    status = evaluate(context.rules, snapshot)
    report_instances(snapshot)
    for note in status.notes:
        warn(note)
    return context, status


def styled(text: str, style: str | None) -> str:
    """Rich markup for one cell, the text escaped (names may hold ``[``)."""
    from rich.markup import escape

    return f"[{style}]{escape(text)}[/]" if style else escape(text)


def state_cell(statename: str) -> str:
    return styled(statename, STATE_STYLES.get(statename))


def led_cell(operational_status: str) -> str:
    """``● Operational`` in green / orange / red; empty when the application is not RUNNING."""
    if not operational_status:
        return ""
    return f"[{LED_STYLES.get(operational_status, 'default')}]{LED}[/] {operational_status}"


def column_width(values: Iterable[Any], title: str) -> int:
    """supvisorsctl's ``max_template``: the longest of the title and the values, plus 2."""
    return max([len(title)] + [len(str(value)) for value in values]) + 2


def escape_all(values: Sequence[Any]) -> list[str]:
    from rich.markup import escape

    return [escape(str(value)) for value in values]
