"""The steady poll of ``supv events``, ``supv top`` and ``supv logs -f``: the controller's snapshots.

The watching commands do not poll the cluster their own way: their snapshots come from the command's
:class:`~supv_cli.cluster.session.ClusterSession` exactly as the controller's (``run-plan --watch``)
do (``session.snapshot()``), with its short per-call timeout when ``--timeout`` is not given. So an
instance that stops answering is waited for once and then probed in the background, and whatever makes
the controller's polls cheaper (kept connections, the configuration cached) makes theirs cheaper too.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Callable, Iterator

if TYPE_CHECKING:
    from supv_cli.cli.app import App
    from supv_cli.model.snapshot import Snapshot
    from supv_cli.rules import Rules


#: timeout of one XML-RPC call in --watch mode (and the views that poll like it) when --timeout is not
#: given: a hung instance must not slow the cycle down much more than the cycle itself
WATCH_TIMEOUT = 1.0


def use_watch_timeout(app: App) -> None:
    """Give the session the controller's call timeout (1 s) unless ``--timeout`` says otherwise; before
    the session is made."""
    from supv_cli.cluster.settings import ClusterOptions

    cluster = app.cluster or ClusterOptions()
    if cluster.timeout is None:  # a default of the command, not a user's override: no precedence warning
        app.replace_settings(timeout=WATCH_TIMEOUT)


def poll(app: App) -> Snapshot:
    """One snapshot of every instance, the controller's way (instances that stopped answering are not
    waited for again)."""
    return app.session.snapshot()


def snapshots(app: App, interval: float, wait: Callable[[float], bool] | None = None,
              clock: Callable[[], float] = time.monotonic) -> Iterator[Snapshot]:
    """A fresh snapshot every ``interval`` seconds (from the start of one poll to the next), until
    ``wait(seconds)`` returns True (default: sleep, never stop) or stdout's reader goes."""

    def sleep(seconds: float) -> bool:
        time.sleep(seconds)
        return False

    wait = wait or sleep
    while True:
        started = clock()
        yield poll(app)
        check_stdout()
        if wait(max(0.0, started + interval - clock())):
            return


def check_stdout() -> None:
    """Raise BrokenPipeError when stdout's reader has gone (the error boundary exits 0): a watch that
    prints rarely must not outlive ``| head -1`` until its next line."""
    from supv_cli.cli.output import stdout_gone

    if stdout_gone():
        raise BrokenPipeError("stdout closed")


class ConflictWatch:
    """namespec -> nicks for every managed process active on several instances, per snapshot; None
    without rules (nothing is managed then: a conflict is a managed process's). The status core is
    asked only when where processes are active changed since the last snapshot: a quiet cluster costs
    one pass over the answers."""

    def __init__(self, rules: Rules | None) -> None:
        self.rules = rules
        self._key: frozenset[tuple[str, str]] | None = None
        self._conflicts: dict[str, tuple[str, ...]] = {}
        self._last: Snapshot | None = None

    def __call__(self, snapshot: Snapshot) -> dict[str, tuple[str, ...]] | None:
        if self.rules is None:
            return None
        from supv_cli.cluster.polling import same_answers
        from supv_cli.model.snapshot import ProcessState

        if same_answers(snapshot, self._last):
            return self._conflicts
        self._last = snapshot
        from supv_cli.look.changes import conflicts_in
        from supv_cli.status import evaluate

        key = frozenset((snap.instance.nick, info.namespec) for snap in snapshot.instances for info in snap.processes
                        if info.running or info.state == ProcessState.STOPPING)
        if key != self._key:
            self._key, self._conflicts = key, conflicts_in(evaluate(self.rules, snapshot))
        return self._conflicts

