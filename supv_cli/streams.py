"""What a supv process knows of its own output streams: whether the reader of one has gone, and how to
stop writing to it. Used by the command line (``cli/output.py``: ``supv events | head -1``) and by the
controller's lean process (``controller/main.py``: its supervisord died), which imports no part of the
command line."""

from __future__ import annotations

import os
from typing import Any

__all__ = ["silence", "stream_gone"]


def stream_gone(stream: Any) -> bool:
    """True when ``stream`` is a pipe (or socket) whose reader has gone: a hang-up or an error polled.
    ``stream``: any object with ``fileno()`` (Any: a test's capture has none, and is never gone)."""
    import select

    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):  # not a file (tests capture it)
        return False
    poller = select.poll()
    poller.register(fd, 0)  # nothing asked: only what is always reported, an error or a hang-up
    return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))


def silence(stream: Any) -> None:
    """Send what is still to be written on ``stream`` to /dev/null (its reader has gone)."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, fd)
        os.close(null)
    except OSError:
        pass
