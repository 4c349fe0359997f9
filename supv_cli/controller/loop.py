"""The driver of the controller: snapshot, cycle, send, log, sleep, until interrupted.

At rest (:func:`resting`), the sleep between two cycles waits on the kept connections, so that a
supervisord that dies is asked at once, and the cycles that would ask and do nothing are skipped:
measured on Scenario 3 idle (docs/decisions.md, "Issue 18: idle, side by side with Supvisors")."""

from __future__ import annotations

import time
from typing import Callable, Sequence

from supv_cli.controller.core import Controller
from supv_cli.controller.events import EventKind
from supv_cli.model.snapshot import Snapshot
from supv_cli.plan.run_types import Event, Request


def watch(controller: Controller, snapshot_fn: Callable[[], Snapshot],
          send_fn: Callable[[list[Request]], Sequence[object]], on_events: Callable[[list[Event]], None],
          clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
          cycles: int | None = None) -> None:
    """Run the controller until interrupted (or for ``cycles`` cycles); a failing cycle is logged and the
    controller goes on: it must survive what the cluster does."""
    done = 0
    while cycles is None or done < cycles:
        started = clock()
        try:
            snapshot = snapshot_fn()
            requests = controller.cycle(snapshot, clock())
            if requests:
                now = clock()
                for request, result in zip(requests, send_fn(requests)):
                    controller.on_result(request, result, now)
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as error:  # never die on one bad cycle
            controller.event(EventKind.ERROR, "controller", f"cycle failed: {type(error).__name__}: {error}")
        on_events(controller.drain_events())
        done += 1
        sleep(max(0.0, started + controller.options.interval - clock()))


#: the longest a controller at rest goes without a cycle (its timers, its heartbeat, its outputs checked)
LONGEST_REST = 2.0


def resting(wait: Callable[[float], bool], quiet: Callable[[], float], clock: Callable[[], float] = time.monotonic,
            longest: float = LONGEST_REST, skipped: Callable[[float], None] = lambda seconds: None,
            ) -> Callable[[float], None]:
    """The ``sleep`` of :func:`watch` for a controller (``--interval`` stays the period of its cycles
    whenever it has anything to do): the time to the next cycle is waited by ``wait`` (``Poller.rest``:
    True as soon as a kept connection closes, and the next cycle runs at once); then, while a cycle
    would ask and do nothing (``quiet``, ``pacing.at_rest``: the seconds until something is due, 0 when
    something is), that cycle is skipped and that long waited the same way, ``longest`` seconds at most
    in all. ``skipped`` is told the seconds rested so beyond the first wait: the cycles skipped still
    count as cycles (``--interval`` each) in what the controller logs, nothing being due in them."""

    def rest(seconds: float) -> None:
        limit = clock() + longest
        if wait(seconds):
            return
        began = clock()
        try:
            while True:
                pause = min(quiet(), limit - clock())
                if pause <= 0 or wait(pause):
                    return
        finally:
            skipped(clock() - began)

    return rest


class Stopped(Exception):
    """Raised by :meth:`GracefulStop.sleep` once a stop was asked: the cycle before it is complete."""


class GracefulStop:
    """SIGTERM for the controller: the cycle in progress ends (its requests sent, its events logged),
    then :func:`watch` stops. Give :meth:`request` to the signal and :meth:`sleep` to :func:`watch`."""

    def __init__(self, sleep: Callable[[float], None] = time.sleep) -> None:
        self._sleep = sleep
        self.asked = False
        self._sleeping = False

    def request(self, *_: object) -> None:
        """Ask to stop (a signal handler): at once when between two cycles, else after this one."""
        self.asked = True
        if self._sleeping:
            raise Stopped

    def sleep(self, seconds: float) -> None:
        if self.asked:
            raise Stopped
        self._sleeping = True
        try:
            self._sleep(seconds)
        finally:
            self._sleeping = False
