"""Reading process logs through supervisord, in bounded memory. Pure: the caller makes the calls.

A :class:`LogCursor` follows one log file (one process, one stream, on one instance). Each poll asks
supervisord, in one ``system.multicall``:

* ``getProcessInfo`` (is there a log file, and which: its path changes when supervisord restarts with
  ``AUTO`` log files);
* ``tailProcess{Stdout,Stderr}Log(name, 0, 0)``: the size of the log, nothing else (supervisord's tail
  always answers with the *last* ``length`` bytes of the file, whatever the offset, so it is used for the
  size and for the backlog only);
* ``readProcess{Stdout,Stderr}Log(name, offset, CHUNK)``: exactly the bytes after what was already read.

The first poll reads the backlog instead (the last ``BACKLOG_MAX`` bytes at most, of which the last
``lines`` lines are kept). A log smaller than the offset was rotated or truncated: it is read again from
its start. A log that grew by more than ``MAX_LAG`` bytes since the last read is skipped forward (and
the skip is reported): memory and output stay bounded whatever the log does. A line is given out only
once complete (its ``\\n`` read); a line longer than ``MAX_LINE`` bytes is given out in pieces.
supervisord decodes logs as UTF-8 and refuses a read that cuts a character in two: the next read asks
one byte less (up to three times), then skips the undecodable byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence, Union

from supv_cli.model.snapshot import ACTIVE_STATES, Faults, Snapshot

#: bytes read per poll and per process
CHUNK = 65536
#: how far behind the end of a log a cursor may be before it skips forward
MAX_LAG = 4 * CHUNK
#: the longest line held while waiting for its end
MAX_LINE = 65536
#: the most bytes read back for the ``-n`` backlog
BACKLOG_MAX = 1 << 20
#: bytes read back per line asked for with ``-n`` (the backlog is at least 4 KiB)
BYTES_PER_LINE = 512


@dataclass(frozen=True)
class Source:
    """One log: a process's stream on one instance."""

    nick: str
    namespec: str
    stream: str = "stdout"

    @property
    def application_name(self) -> str:
        return self.namespec.partition(":")[0]

    @property
    def process_name(self) -> str:
        return self.namespec.partition(":")[2]


@dataclass(frozen=True)
class LogLine:
    """One complete line of a log (without its end of line)."""

    source: Source
    text: str

    def prefixed(self) -> str:
        """``NICK APP:PROC | text``, the plain output of ``supv logs``."""
        return f"{self.source.nick} {self.source.namespec} | {self.text}"

    def to_dict(self) -> dict[str, str]:
        """The ``logs --json`` object (cli.md)."""
        return {"instance": self.source.nick, "application_name": self.source.application_name,
                "process_name": self.source.process_name, "stream": self.source.stream, "line": self.text}


@dataclass(frozen=True)
class Notice:
    """Something to tell the user about a log (stderr, not data)."""

    source: Source
    message: str

    def line(self) -> str:
        return f"{self.source.namespec} on {self.source.nick}: {self.message}"


Item = Union[LogLine, Notice]


def log_method(stream: str, kind: str) -> str:
    """``supervisor.tailProcessStdoutLog`` and its kin (``kind``: tail or read)."""
    return f"supervisor.{kind}Process{stream.capitalize()}Log"


class LogCursor:
    """Follows one log file; see the module doc. ``lines``: how many lines of backlog the first read
    keeps (0: start at the end of the log)."""

    def __init__(self, source: Source, lines: int = 10, offset: int | None = None) -> None:
        self.source = source
        self.lines = lines
        #: where the next read starts; None before the first read (the backlog)
        self.offset = offset
        self.pending = b""
        self.path: str | None = None
        #: True once the process is known to log this stream to no file
        self.no_file = False
        self._decode_failures = 0

    # -------------------------------------------------------------------------------- the calls
    def calls(self) -> list[tuple[str, tuple[Any, ...]]]:
        """The calls of one poll, for one ``system.multicall`` (see :meth:`take`)."""
        name, stream = self.source.namespec, self.source.stream
        info = ("supervisor.getProcessInfo", (name,))
        if self.offset is None:
            backlog = min(BACKLOG_MAX, max(4096, self.lines * BYTES_PER_LINE)) - self._decode_failures
            return [info, (log_method(stream, "tail"), (name, 0, backlog if self.lines else 0))]
        return [info, (log_method(stream, "tail"), (name, 0, 0)),
                (log_method(stream, "read"), (name, self.offset, CHUNK - self._decode_failures))]

    def take(self, results: Sequence[Any]) -> list[Item]:
        """What the answers of :meth:`calls` give: complete lines and notices. A failed call is an
        exception instance in ``results`` (with ``fault_code`` / ``reason`` when supervisord refused it)."""
        info = results[0]
        if isinstance(info, BaseException):
            return [Notice(self.source, _reason(info))]
        path = str(info.get(f"{self.source.stream}_logfile") or "")
        if not path:
            first = not self.no_file
            self.no_file = True
            return [Notice(self.source, _no_file_message(self.source.stream))] if first else []
        self.no_file = False
        out: list[Item] = []
        if self.path is not None and path != self.path and self.offset is not None:
            out += self.flush()
            out.append(Notice(self.source, f"new log file {path}: reading it from the start"))
            self.offset = 0
            self.path = path
            return out
        self.path = path
        if (self.offset is not None and getattr(results[2], "fault_code", None) == Faults.NO_FILE
                and not isinstance(results[1], BaseException) and int(results[1][1]) == 0):
            return out  # not created yet: the process never ran here since supervisord started
        if any(isinstance(result, BaseException) for result in results[1:]):
            return out + self._failed(next(r for r in results[1:] if isinstance(r, BaseException)))
        self._decode_failures = 0
        if self.offset is None:
            text, size, _ = results[1]
            if not int(size) and not int(info.get("start") or 0):  # supervisord tails a missing file as empty
                out.append(Notice(self.source, NEVER_STARTED))
            return out + self._backlog(str(text).encode("utf-8"), int(size))
        size = int(results[1][1])
        return out + self._advance(str(results[2]).encode("utf-8"), size)

    # -------------------------------------------------------------------------------- the bytes
    def _backlog(self, data: bytes, size: int) -> list[Item]:
        """The first read: the last ``lines`` complete lines; a partial last line is held."""
        self.offset = size
        if not self.lines:
            return []
        if size > len(data):  # the backlog starts inside a line: drop that piece
            cut = data.find(b"\n")
            data = data[cut + 1:] if cut >= 0 else b""
        *complete, self.pending = data.split(b"\n")
        out: list[Item] = [LogLine(self.source, _text(line)) for line in complete[-self.lines:]]
        return out + self._cut_long()

    def _advance(self, data: bytes, size: int) -> list[Item]:
        assert self.offset is not None
        out: list[Item] = []
        if size < self.offset:  # the read found nothing past the end: rotated or truncated
            out += self.flush()
            out.append(Notice(self.source, "log rotated or truncated: reading it from the start"))
            self.offset = 0
            return out
        self.offset += len(data)
        out += self._split(data)
        behind = size - self.offset
        if behind > MAX_LAG:
            out += self.flush()
            out.append(Notice(self.source, f"{behind - CHUNK} bytes skipped: the log grows faster than "
                                           "it is read"))
            self.offset = size - CHUNK
        return out

    def _split(self, data: bytes) -> list[Item]:
        if not data:
            return []
        *complete, rest = (self.pending + data).split(b"\n")
        self.pending = rest
        return [LogLine(self.source, _text(line)) for line in complete] + self._cut_long()

    def _cut_long(self) -> list[Item]:
        out: list[Item] = []
        while len(self.pending) > MAX_LINE:
            out.append(LogLine(self.source, _text(self.pending[:MAX_LINE])))
            self.pending = self.pending[MAX_LINE:]
        return out

    def flush(self) -> list[Item]:
        """Give out the partial line held, if any (the log ends, moves or is cut)."""
        if not self.pending:
            return []
        line, self.pending = self.pending, b""
        return [LogLine(self.source, _text(line))]

    def _failed(self, error: BaseException) -> list[Item]:
        text = _reason(error)
        if getattr(error, "fault_code", None) == Faults.FAILED and "decode" in text.lower():
            # the read cut a UTF-8 character (or the log holds an undecodable byte)
            self._decode_failures += 1
            if self._decode_failures <= 3:
                return []
            self._decode_failures = 0
            if self.offset is not None:
                self.offset += 1
                return [Notice(self.source, "a byte that is not UTF-8 was skipped")]
        return [Notice(self.source, text)]


def _text(line: bytes) -> str:
    return line.decode("utf-8", "replace")


def _reason(error: BaseException) -> str:
    return str(getattr(error, "reason", None) or error)


#: what is said of an empty log whose process never started (since its supervisord started)
NEVER_STARTED = "never started since its supervisord started: nothing logged yet"


def _no_file_message(stream: str) -> str:
    if stream == "stderr":
        return ("no stderr log file (stderr_logfile=NONE, or redirect_stderr=true: its stderr is in the "
                "stdout log, read without --stderr)")
    return "no stdout log file (stdout_logfile=NONE): supervisord keeps nothing to read"


# -------------------------------------------------------------------------------- where the log is

def locate(snapshot: Snapshot, namespec: str, current: str | None = None) -> str | None:
    """The nick of the instance whose log of ``namespec`` to read.

    Where it is active now (the ``current`` one if it is one of them, else the first in instance
    order); when it is active nowhere, ``current`` if given (a follower stays where it was), else the
    reachable instance that stopped it last (decisions.md: the greatest stop time, ties to the first
    listed). None when no reachable instance knows it.
    """
    known = [(snap.instance.nick, info) for snap in snapshot.instances if snap.reachable
             for info in [snapshot.info(snap.instance, namespec)] if info is not None]
    active = [nick for nick, info in known if info.state in ACTIVE_STATES]
    if active:
        return current if current in active else active[0]
    if current is not None:
        return current
    best: tuple[str, float] | None = None
    for nick, info in known:
        if best is None or info.stop > best[1]:
            best = (nick, info.stop)
    return best[0] if best else None
