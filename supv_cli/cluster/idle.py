"""A controller at rest waits on its kept connections: a supervisord that dies closes them, which
ends the wait at once (``Poller.rest``), instead of being seen at the next tick of a fixed period.

A kept connection that can be read from while no request is in flight was closed by supervisord, or
holds bytes nobody asked for: either way the next poll probes that instance (``Poller.poll``, through
``TimeoutTransport.peer_closed``, which closes it here too).
"""

from __future__ import annotations

import select
import time
from typing import Any, Iterable

__all__ = ["kept_sockets", "wait_closed"]


def kept_sockets(clients: Iterable[Any]) -> list[Any]:
    """The kept connections of ``clients`` (``fanout.InstanceClient``), those that have one; a client
    without a transport of ours (a test's) has none."""
    sockets = []
    for client in clients:
        try:
            sock = getattr(client.transport, "kept_socket", None)
        except (AttributeError, TypeError):
            continue
        if sock is not None:
            sockets.append(sock)
    return sockets


def wait_closed(clients: Iterable[Any], seconds: float) -> bool:
    """Wait ``seconds``, or less: True as soon as one kept connection of ``clients`` can be read from
    (supervisord closed it); False after ``seconds``."""
    if seconds <= 0:
        return False
    waiter = select.poll()
    registered = 0
    for sock in kept_sockets(clients):
        try:
            waiter.register(sock, select.POLLIN)
            registered += 1
        except (OSError, ValueError):  # closed meanwhile: the next poll opens another
            return True
    if not registered:
        time.sleep(seconds)
        return False
    return bool(waiter.poll(seconds * 1000))
