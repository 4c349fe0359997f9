"""Change detection from supervisord's own main log: what its last bytes prove, and when they prove nothing.

supervisord writes a line to its main log at INFO or WARN for almost every process transition
(supervisor 4.3, ``process.py``): ``spawned:`` (-> STARTING), ``success: ... entered RUNNING``,
``exited:`` (RUNNING -> EXITED, STARTING -> BACKOFF), ``stopped:`` (STOPPING -> STOPPED), ``gave up:``
(-> FATAL), ``spawnerr:``. Each line starts with a timestamp to the millisecond, and the logger flushes
each line. So the last few hundred bytes of that log (``supervisor.readLog(-TAIL_BYTES, 0)``, a request
about as cheap as ``getState``) change whenever such a transition happens, and a tail equal to the one
read *in the same multicall* as the last full answer (``getAllProcessInfo``: the same turn of
supervisord's main loop, no transition in between) says that no such transition happened since.

What the log does not say, checked against supervisor 4.3's source:

* RUNNING/STARTING -> STOPPING is logged at DEBUG only (``killing ...``), and so is BACKOFF -> STOPPED
  (a stop during BACKOFF); a process in STARTING, STOPPING or BACKOFF is therefore asked in full as
  often as before (:func:`transitional`);
* a group added or removed (``addProcessGroup``/``removeProcessGroup``, ``supervisorctl update``) is
  not logged unless a program of it is spawned: such a change is seen by the periodic full answer;
* a supervisord with ``loglevel = warn`` or above writes no INFO line, one whose ``logfile`` is
  ``syslog`` has no file (fault NO_FILE), and one whose log is ``/dev/stdout`` a pipe or a terminal
  (readLog seeks to the end before it reads anything: it fails with FAILED, it never blocks).

Hence the verdicts here: a tail is evidence only when it is not empty and holds a line at INFO or
below (:func:`tail_verdict`); a fault makes the instance *log-blind* until its next connection
(:func:`fault_verdict`); and an instance whose full answers show a transition that must have been
logged while its tail did not change is log-blind too (:func:`must_be_logged`). A log-blind instance
is polled as before (full answers every ``FULL_EVERY``, probes in between).
"""

from __future__ import annotations

from typing import Any, Sequence

from supv_cli.model.snapshot import Faults

__all__ = ["READ_LOG", "TAIL_BYTES", "fault_verdict", "must_be_logged", "tail_verdict", "transitional"]

#: bytes of the main log read: 4 to 6 lines of supervisord's
TAIL_BYTES = 512
#: the request that reads the tail
READ_LOG = ("supervisor.readLog", (-TAIL_BYTES, 0))

#: supervisord's state codes of a process on its way somewhere (STARTING, BACKOFF, STOPPING)
_TRANSITIONAL = frozenset({10, 30, 40})
_STOPPED, _BACKOFF, _STOPPING = 0, 30, 40
#: the level names of supervisord's log lines at INFO or more verbose
_VERBOSE = (" INFO ", " DEBG ", " TRAC ", " BLAT ")
#: the index of the state in a change key of ``polling.py`` (group, name, state, ...)
_STATE = 2


def tail_verdict(tail: Any) -> str | None:
    """None when ``tail`` (a readLog answer) can tell a change, else why not."""
    if not isinstance(tail, str):
        return "its main log gave no text"
    if not tail:
        return "its main log is empty"
    if not any(level in tail for level in _VERBOSE):
        return "its main log has no INFO line (loglevel warn or above?)"
    return None


def fault_verdict(code: int | None) -> str | None:
    """Why a readLog fault makes the instance log-blind (None: another fault, e.g. an old supervisord
    without readLog, blind as well but said so)."""
    if code == Faults.NO_FILE:
        return "no main log file (logfile = syslog?)"
    if code == Faults.FAILED:
        return "its main log cannot be read (a pipe or a terminal?)"
    return f"readLog failed (fault {code})"


def transitional(key: Sequence[Sequence[Any]] | None) -> bool:
    """Whether a process of a full answer (its change key) is STARTING, BACKOFF or STOPPING."""
    return key is None or any(entry[_STATE] in _TRANSITIONAL for entry in key)


def must_be_logged(old: Sequence[Sequence[Any]] | None, new: Sequence[Sequence[Any]] | None) -> bool:
    """Whether supervisord must have written a line between two full answers (their change keys): a
    process of both changed other than by the transitions logged at DEBUG only (-> STOPPING,
    BACKOFF -> STOPPED). Processes added or removed are not counted (not logged)."""
    if not old or not new:
        return False
    before = {(entry[0], entry[1]): entry for entry in old}
    for entry in new:
        was = before.get((entry[0], entry[1]))
        if was is None or was == entry:
            continue
        state, was_state = entry[_STATE], was[_STATE]
        if state == _STOPPING or (was_state == _BACKOFF and state == _STOPPED):
            continue
        return True
    return False
