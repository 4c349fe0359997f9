"""Waiting in integration tests and benchmarks: the one helper for "until" (:func:`wait_for`) and the
one for "nothing changes meanwhile" (:func:`hold`). Tests use these instead of their own sleep loops;
their deadlines are generous (the machine running the suite may be loaded) and each failure says what
was awaited and what was last seen."""

from __future__ import annotations

import time
from typing import Callable, TypeVar

T = TypeVar("T")


def wait_for(what: str, probe: Callable[[], T], done: Callable[[T], bool], deadline: float = 15.0,
             every: float = 0.1) -> tuple[T, float]:
    """Probe until ``done``; return the last value and the time it took, or fail saying what was seen."""
    started = time.monotonic()
    while True:
        value = probe()
        elapsed = time.monotonic() - started
        if done(value):
            return value, elapsed
        if elapsed > deadline:
            raise AssertionError(f"{what}: not within {deadline:g}s; last seen: {value}")
        time.sleep(every)


def hold(what: str, probe: Callable[[], T], ok: Callable[[T], bool], seconds: float, every: float = 0.2) -> T:
    """Check ``ok`` on every probe for ``seconds`` (several cycles of what is watched): nothing must
    change; return the last value, or fail at the first probe that is not ``ok``."""
    end = time.monotonic() + seconds
    while True:
        value = probe()
        assert ok(value), f"{what}: {value}"
        if time.monotonic() > end:
            return value
        time.sleep(every)
