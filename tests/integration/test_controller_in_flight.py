"""A standby reads what the acting controller has in flight from its state line (issue 16, item 3), on
real supervisord: the acting controller's program prints a state line with ``in_flight`` to its stdout
log; a standby controller (the real pacing and ``cli/watch.with_leader_state`` over a real session)
reads it only once an instance misses polls, and counts those starts as sent by itself."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from supv_cli.cli.watch import with_leader_state
from supv_cli.cluster.session import ClusterSession
from supv_cli.cluster.settings import ClusterSettings
from supv_cli.controller.core import Controller, ControllerOptions
from supv_cli.controller.pacing import paced_snapshots
from supv_cli.model.instances import InstanceList
from supv_cli.rules import load_rules
from tests.conftest import SupervisordFactory
from tests.support.controlled import RULES

pytestmark = pytest.mark.integration

STATE = {"acting": True, "leader": "s1", "in_flight": [["srv:svc_a", "s3"]]}


def test_a_standby_reads_the_in_flight_starts_only_once_an_instance_misses_polls(
        supervisord: SupervisordFactory, tmp_path: Path) -> None:
    script = tmp_path / "acting.sh"
    script.write_text(f"echo '{json.dumps(STATE)}'\nexec sleep 100000\n")
    sleeper = {"command": "sleep 100000", "startsecs": 0, "stopsignal": "KILL"}
    s1 = supervisord(nick="s1", programs={"supv_controller": {"command": f"sh {script}", "startsecs": 0,
                                                              "stopsignal": "KILL"}})
    s2 = supervisord(nick="s2", programs={"supv_controller": sleeper})
    s3 = supervisord(nick="s3", programs={"other": sleeper})
    for server in (s1, s2, s3):
        server.wait_ready()
    s1.wait_process("supv_controller", ["RUNNING"])
    s2.wait_process("supv_controller", ["RUNNING"])
    instances = InstanceList.parse([s.spec for s in (s1, s2, s3)])
    (tmp_path / "rules.xml").write_text(RULES.format(cfg_strategy="CONTINUE"))
    rules = load_rules([str(tmp_path / "rules.xml")], instances)
    session = ClusterSession(ClusterSettings(instances=instances, timeout=1.0))
    session.poller.ask_all = True
    controller = Controller(rules, instances, instances.find("s2"), ControllerOptions(), now=time.monotonic())
    snapshot = with_leader_state(controller, session, paced_snapshots(controller, session.poller))
    for _ in range(6):
        controller.cycle(snapshot(), time.monotonic())
        assert controller.leader_to_read() is None      # nothing happens: nothing read
    assert controller.leader == "s1" and not controller.acting and controller.sent == {}
    s3.kill9()
    for _ in range(4):
        controller.cycle(snapshot(), time.monotonic())
    assert ("srv:svc_a", "s3") in controller.sent, controller.sent
