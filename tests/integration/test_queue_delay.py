"""The no-false-loss rule on real supervisord (issue 18): answers late only because the controller's
own workers were busy are answers, never missed polls (the pure parts: tests/unit/test_queue_delay.py)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from supv_cli.cluster.session import ClusterSession
from supv_cli.cluster.settings import ClusterSettings
from supv_cli.controller.membership import Health, Membership
from supv_cli.model.instances import InstanceList
from tests.conftest import SupervisordFactory

pytestmark = pytest.mark.integration


def test_a_busy_controller_declares_no_instance_lost(supervisord: SupervisordFactory) -> None:
    servers = [supervisord(nick=f"s{n}", programs={"p": {"command": "sleep 1000"}}) for n in range(4)]
    instances = InstanceList.parse([server.spec for server in servers])
    # as the controller, with one worker for everyone
    session = ClusterSession(ClusterSettings(instances=instances, timeout=0.3), max_workers=1)
    poller = session.poller
    poller.ask_all = True
    one = poller._one

    def busy(client: Any, full: bool) -> Any:
        time.sleep(0.25)  # the worker was busy (reading other answers) before it could ask this one
        return one(client, full)

    poller._one = busy  # type: ignore[method-assign]
    members = Membership(instances, lost_after=2)
    for _ in range(3):
        started = time.monotonic()
        snapshot = poller.poll()
        # the last instance was asked a second after the poll began, three times the timeout...
        assert time.monotonic() - started > 3 * 0.3
        events = list(members.update(snapshot))
        # ... and answered within the timeout from its own request: no missed poll, nothing lost
        assert [snap.state for snap in snapshot.instances] == ["RUNNING"] * 4
        assert all(kind != "lost" for kind, _, _ in events)
        assert {members.health(i.nick) for i in instances} == {Health.ANSWERING}
