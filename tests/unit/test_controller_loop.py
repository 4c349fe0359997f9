"""The controller's driver: SIGTERM ends the cycle in progress, then the loop stops (issue 10, item 5)."""

from __future__ import annotations

import pytest

from supv_cli.controller.core import Controller, ControllerOptions
from supv_cli.controller.loop import GracefulStop, Stopped, watch

from .plan_helpers import S, info, instances, rules_of, snapshot

CLUSTER = instances("s1")


def test_sigterm_during_a_cycle_finishes_it_then_stops(tmp_path):
    rules = rules_of(tmp_path, '<application name="a"><programs><program name="p"><start_sequence>1'
                               '</start_sequence></program></programs><start_sequence>1</start_sequence>'
                               '</application>', CLUSTER)
    controller = Controller(rules, CLUSTER, None, ControllerOptions(interval=0.01, startup_grace=0), now=0.0)
    stop = GracefulStop(sleep=lambda seconds: None)
    sent, logged = [], []

    def snapshot_fn():
        if len(logged) == 1:
            stop.request()          # the signal arrives in the middle of the second cycle
        return snapshot(CLUSTER, {"*": [info("a:p", S.STOPPED)]})

    def send_fn(requests):
        sent.extend(requests)
        return [True] * len(requests)

    clock = iter(float(n) for n in range(100))
    with pytest.raises(Stopped):
        watch(controller, snapshot_fn, send_fn, logged.append, clock=lambda: next(clock), sleep=stop.sleep)
    assert len(logged) == 2                      # the second cycle ended: its events were handed over
    assert [r.method for r in sent] == ["supervisor.startProcess"]   # its requests were sent (first cycle)


def test_sigterm_while_sleeping_stops_at_once():
    stop = GracefulStop(sleep=lambda seconds: stop.request())
    with pytest.raises(Stopped):
        stop.sleep(1.0)
    assert stop.asked
