"""An operator beside the controllers, on real supervisord: ``supv conciliate`` against a controller
running another --conciliate strategy is refused (warned with --force or --dry-run), and ``supv
controller hold`` stops the reachable controllers at once while one supervisord is frozen."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from supv_cli.model.instances import InstanceList
from supv_cli.model.snapshot import ProcessState
from tests.conftest import SupervisordFactory
from tests.support.calls import take_snapshot
from tests.support.cli import run_supv
from tests.support.scenario3 import ROOT
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

RULES = """<?xml version="1.0" encoding="UTF-8"?>
<root>
  <application name="app"><start_sequence>1</start_sequence>
    <programs><program name="p"><identifiers>*</identifiers><start_sequence>1</start_sequence></program></programs>
  </application>
</root>
"""


def test_conciliate_against_a_controller_of_another_strategy(supervisord: SupervisordFactory, tmp_path: Path) -> None:
    rules = tmp_path / "rules.xml"
    rules.write_text(RULES)
    inventory = tmp_path / "supv.conf"
    controller = {"command": f"{sys.executable} -m supv_cli run-plan --watch --no-autostart -c {inventory} "
                             "--conciliate senicide --interval 0.3 --quorum 1",
                  "startsecs": 1, "autostart": False, "autorestart": False, "stopwaitsecs": 3,
                  "environment": f'PYTHONPATH="{ROOT}"'}
    s1 = supervisord(nick="s1", programs={"p": {"command": "sleep 1000", "autostart": False},
                                          "supv_controller": controller}, groups={"app": ["p"]})
    inventory.write_text(f"[supv]\nrules_files = {rules}\ntimeout = 2\n\n[instance:s1]\nserverurl = {s1.url}\n")
    args = ("-c", str(inventory))
    assert run_supv("controller", "release", *args).exit_code == 0
    status, _ = wait_for("the controller says its strategy",
                         lambda: json.loads(run_supv("controller", "status", *args, "--json").stdout),
                         lambda s: s["acting"] == "s1", deadline=20.0)
    assert status["conciliate"] == "senicide"
    plain = run_supv("controller", "status", *args, "--format", "plain").stdout
    assert "conciliation: senicide" in plain

    refused = run_supv("conciliate", *args, "--strategy", "infanticide")
    assert refused.exit_code == 2 and refused.stdout == ""
    assert refused.stderr == ("supv: error: the acting controller on s1 runs --conciliate senicide: conciliating "
                              "with infanticide beside it may stop every copy; give --strategy senicide, hold the "
                              "controllers first (supv controller hold), or --force\n")
    warning = ("supv: warning: the acting controller on s1 runs --conciliate senicide: conciliating with "
               "infanticide beside it may stop every copy")
    for extra, said in (("--dry-run", warning + "\n"), ("--force", warning + " (--force)\n")):
        done = run_supv("conciliate", *args, "--strategy", "infanticide", extra)
        assert done.exit_code == 0 and done.stderr.startswith(said), done.stderr
    same = run_supv("conciliate", *args, "--strategy", "senicide")
    assert same.exit_code == 0 and "warning" not in same.stderr
    assert run_supv("controller", "hold", *args).exit_code == 0
    assert run_supv("conciliate", *args, "--strategy", "infanticide").exit_code == 0  # a held one does not race


def stopped_at(specs: list[str], started: float, until: float) -> dict[str, float]:
    """nick -> seconds after ``started`` when its controller program was first seen stopped (polled
    every 50 ms through our own connections, until ``until``)."""
    instances = InstanceList.parse(specs)
    seen: dict[str, float] = {}
    while time.monotonic() < until and len(seen) < len(instances):
        for snap in take_snapshot(instances, timeout=1.0, with_config=False).instances:
            infos = [i for i in snap.processes if i.name == "supv_controller"]
            if infos and infos[0].state in (ProcessState.STOPPED, ProcessState.EXITED):
                seen.setdefault(snap.instance.nick, time.monotonic() - started)
        time.sleep(0.05)
    return seen


def test_hold_stops_the_reachable_controllers_before_waiting_for_a_frozen_one(supervisord: SupervisordFactory,
                                                                              tmp_path: Path) -> None:
    stand_in = {"command": "sleep 1000", "startsecs": 0, "autostart": True, "stopwaitsecs": 3}
    servers = [supervisord(nick=nick, programs={"supv_controller": dict(stand_in)}) for nick in ("s1", "s2", "s3")]
    for server in servers:
        server.wait_process("supv_controller", ["RUNNING"])
    timeout = 4.0
    servers[2].sigstop()  # a frozen supervisord: its calls run into --timeout
    try:
        result: dict[str, Any] = {}
        started = time.monotonic()
        hold = threading.Thread(target=lambda: result.update(
            done=run_supv("controller", "hold", "-i", " ".join(s.spec for s in servers), "--timeout", f"{timeout:g}",
                          "--json")), daemon=True)
        hold.start()
        seen = stopped_at([s.spec for s in servers[:2]], started, started + 2 * timeout)
        hold.join(30)
    finally:
        servers[2].sigcont()
    assert set(seen) == {"s1", "s2"}
    assert max(seen.values()) < timeout  # not after the frozen one's timeout, as before
    done = result["done"]
    assert done.exit_code == 3, done.stderr
    rows = {row["instance"]: row["outcome"] for row in json.loads(done.stdout)["controllers"]}
    assert rows == {"s1": "STOPPED", "s2": "STOPPED"}
    assert "s3" in done.stderr and "timeout" in done.stderr

