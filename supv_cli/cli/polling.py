"""The steady poll of ``supv events`` and ``supv top``: the controller's own snapshot function, paced.

The watching commands do not poll the cluster their own way: they take the snapshots exactly as the
controller (``run-plan --watch``) does, with its short per-call timeout when ``--timeout`` is not
given, so a hung instance never stalls the stream and any economy made there benefits them too.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Callable, Iterator

from supv_cli.cli.options import ClusterOptions
from supv_cli.cli.output import warn

if TYPE_CHECKING:
    from supv_cli.cli.common import CommandContext
    from supv_cli.cluster.snapshot import Snapshot


def watch_context(cluster: ClusterOptions) -> CommandContext:
    """Settings and rules (optional: conflicts and failures need them) for a watching command."""
    from supv_cli.cli.common import load_context
    from supv_cli.cli.watch import WATCH_TIMEOUT

    if cluster.timeout is None:
        cluster = replace(cluster, timeout=WATCH_TIMEOUT)
    context = load_context(cluster, need_instances=True, need_rules=False)
    for line in list(context.settings.warnings) + list(context.warnings):
        warn(line)
    return context


def snapshots(context: CommandContext, interval: float, wait: Callable[[float], bool] | None = None,
              clock: Callable[[], float] = time.monotonic) -> Iterator[Snapshot]:
    """A fresh snapshot every ``interval`` seconds (from the start of one poll to the next), until
    ``wait(seconds)`` returns True (default: sleep, never stop)."""

    def sleep(seconds: float) -> bool:
        time.sleep(seconds)
        return False

    wait = wait or sleep
    while True:
        started = clock()
        yield context.snapshot(refresh=True)
        if wait(max(0.0, started + interval - clock())):
            return


def conflicts_of(context: CommandContext, snapshot: Snapshot) -> dict[str, tuple[str, ...]] | None:
    """namespec -> nicks for every managed process active on several instances; None without rules
    (nothing is managed then: a conflict is a managed process's)."""
    if context.rules is None:
        return None
    from supv_cli.status import evaluate

    return {p.namespec: tuple(i.nick for i in p.identifiers) for p in evaluate(context.rules, snapshot).conflicts()}
