"""Waiting for a cluster to reach a state, in integration tests and benchmarks."""

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
