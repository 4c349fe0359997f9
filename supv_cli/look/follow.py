"""Following the logs of several processes across the cluster (``supv logs -f``). Pure.

A :class:`LogFollower` is given a snapshot at each poll; it says which log each process is read from
(where it runs, or ran last: :func:`~supv_cli.look.logtail.locate`), which calls to make on which
instance, and turns the answers into lines and notices, in a stable order (the processes in the order
they were named). The lines of several processes are merged line by line: a line is given out whole,
never mixed with another.

A process that starts on another instance is followed there: the partial line held from the old log is
given out, a notice says so, and the new log is read from the size it had on that instance before the
process started there (every instance that knows a followed process is asked the size of its log and
the process's state at each poll, in one multicall, and a size is kept only when the process was not
active there), so that nothing it printed since is missed and nothing older is repeated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from supv_cli.cluster.xmlchars import carriable
from supv_cli.look.logtail import Item, LogCursor, Notice, Source, locate, log_method
from supv_cli.model.snapshot import ACTIVE_STATES, ProcessState, Snapshot

#: why a process whose name holds a control character is not read (supervisord parses requests as XML 1.0)
UNCARRIED = "its name holds a control character that XML-RPC cannot carry to supervisord"


@dataclass(frozen=True)
class Ask:
    """The calls to make on one instance for one log (``purpose`` ``read`` or ``size``)."""

    source: Source
    purpose: str
    calls: tuple[tuple[str, tuple[Any, ...]], ...]


class LogFollower:
    """Decides where to read each followed process's log and merges what comes back."""

    def __init__(self, namespecs: Sequence[str], stream: str = "stdout", lines: int = 10) -> None:
        self.namespecs = list(namespecs)
        self.stream = stream
        self.lines = lines
        #: namespec -> the log being read
        self.current: dict[str, LogCursor] = {}
        #: the size of each log a followed process may move to (not the one being read)
        self.sizes: dict[Source, int] = {}
        #: the last failure told per log, so that a failing instance is reported once
        self.failing: dict[Source, str] = {}
        #: the processes whose name holds a control character XML-RPC cannot carry (never asked)
        self.uncarried: set[str] = set()

    def plan(self, snapshot: Snapshot, probe_sizes: bool = True) -> tuple[list[Ask], list[Item]]:
        """The calls of this poll, and what must be said before their answers (moves). Without
        ``probe_sizes`` the logs a process may move to are not measured (a single read)."""
        asks: list[Ask] = []
        items: list[Item] = []
        reachable = {snap.instance.nick for snap in snapshot.instances if snap.reachable}
        for namespec in self.namespecs:
            cursor = self.current.get(namespec)
            nick = locate(snapshot, namespec, cursor.source.nick if cursor else None)
            if nick is None:
                continue
            source = Source(nick, namespec, self.stream)
            if not carriable(namespec):  # asked along the others, it would fail the instance's whole multicall
                self.uncarried.add(namespec)
                items += self._once(source, [Notice(source, f"{UNCARRIED}: read its log file on {nick} directly")])
                continue
            if cursor is None or cursor.source != source:
                items += self._move(cursor, source)
                cursor = self.current[namespec]
            if nick in reachable:
                asks.append(Ask(source, "read", tuple(cursor.calls())))
            else:  # it ran there last and runs nowhere else: wait for either
                items += self._once(source, [Notice(source, "the instance does not answer: waiting for it, or "
                                                            "for the process to start elsewhere")])
            for snap in snapshot.instances if probe_sizes else ():
                other = snap.instance.nick
                if other != nick and other in reachable and snapshot.info(snap.instance, namespec) is not None:
                    asks.append(Ask(Source(other, namespec, self.stream), "size",
                                    (("supervisor.getProcessInfo", (namespec,)),
                                     (log_method(self.stream, "tail"), (namespec, 0, 0)))))
        return asks, items

    def _move(self, cursor: LogCursor | None, source: Source) -> list[Item]:
        items: list[Item] = []
        offset: int | None = None
        if cursor is not None:
            items += cursor.flush()
            if cursor.offset is not None:
                self.sizes[cursor.source] = cursor.offset
            items.append(Notice(source, f"runs here now (was on {cursor.source.nick}): "
                                        "following this log"))
            offset = self.sizes.get(source)  # unknown: read its backlog there
        self.current[source.namespec] = LogCursor(source, self.lines, offset)
        return items

    def take(self, ask: Ask, results: Sequence[Any] | BaseException) -> list[Item]:
        """Lines and notices from the answers to ``ask`` (an exception: the instance did not answer)."""
        if ask.purpose == "size":
            # supervisord runs a multicall in one go: the size goes with the state read with it. A size
            # taken once the process started there holds some of its new lines: the last size taken
            # before is kept
            if (not isinstance(results, BaseException) and not any(isinstance(r, BaseException) for r in results)
                    and ProcessState.from_code(int(results[0].get("state", 0))) not in ACTIVE_STATES):
                self.sizes[ask.source] = int(results[1][1])
            return []
        cursor = self.current.get(ask.source.namespec)
        if cursor is None or cursor.source != ask.source:
            return []
        if isinstance(results, BaseException):
            results = [results] * len(ask.calls)
        items = cursor.take(results)
        return self._once(ask.source, items)

    def _once(self, source: Source, items: list[Item]) -> list[Item]:
        """Notices of a failure are given once until the log can be read again."""
        notices = [item for item in items if isinstance(item, Notice)]
        if not notices:
            self.failing.pop(source, None)
            return items
        out: list[Item] = []
        for item in items:
            if isinstance(item, Notice):
                if self.failing.get(source) == item.message:
                    continue
                self.failing[source] = item.message
            out.append(item)
        return out

    def finish(self) -> list[Item]:
        """The partial lines still held (the end of a run without ``-f``)."""
        items: list[Item] = []
        for cursor in self.current.values():
            items += cursor.flush()
        return items

    def unreadable(self) -> list[Source]:
        """The logs that could not be read: no log file."""
        return [cursor.source for cursor in self.current.values() if cursor.no_file]
