"""Instances that do not answer, on real supervisord: frozen (SIGSTOP) or killed (SIGKILL).

* a frozen instance is waited for once per command, not at every poll;
* a stop or a start that may have left something on an instance that did not answer exits 3 and says
  what may still run there;
* an application whose only instance is down is still listed (and exits 3), not forgotten.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from supv_cli.cluster.health import Health
from supv_cli.cluster.session import ClusterSession
from supv_cli.cluster.settings import ClusterSettings
from supv_cli.model.instances import InstanceList
from supv_cli.model.snapshot import Unreachable
from tests.conftest import SupervisordFactory
from tests.support.cli import run_supv
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

TIMEOUT = "2"


def program(**options: Any) -> dict[str, Any]:
    return {"command": "sleep 1000", "startsecs": 0, "autostart": False, "autorestart": False, **options}


def write_rules(tmp_path: Path, body: str) -> str:
    path = tmp_path / "rules.xml"
    path.write_text(f'<?xml version="1.0" encoding="UTF-8"?>\n<root>\n{body}\n</root>\n')
    return str(path)


def supv(*args: str) -> Result:
    return run_supv(*args, "--timeout", TIMEOUT)


def timed(*args: str) -> tuple[Result, float]:
    started = time.monotonic()
    result = supv(*args)
    return result, time.monotonic() - started


# five stages of one program each: every stage needs a poll of the instances to see RUNNING
STAGED = {f"p{n}": program() for n in range(1, 6)}
STAGED_RULES = "\n".join(
    f"""<application name="{name}"><start_sequence>1</start_sequence>
  <distribution>SINGLE_INSTANCE</distribution><identifiers>s1</identifiers>
  <programs>{''.join(f'<program name="p{n}"><start_sequence>{n}</start_sequence></program>' for n in range(1, 6))}
  </programs></application>""" for name in ("first", "second"))


def test_a_frozen_instance_is_waited_for_once(tmp_path: Path, supervisord: SupervisordFactory) -> None:
    s1 = supervisord(nick="s1", programs=STAGED, groups={"first": list(STAGED), "second": list(STAGED)})
    s2 = supervisord(nick="s2", programs={"other": program()})
    args = ("-i", f"{s1.spec} {s2.spec}", "-r", write_rules(tmp_path, STAGED_RULES), "--json")
    baseline, work = timed("run-plan", "first", *args)  # the same work, every instance answering
    assert baseline.exit_code == 0, baseline.stderr
    s2.sigstop()
    try:
        result, took = timed("run-plan", "second", *args)
    finally:
        s2.sigcont()
    # s2 runs nothing of 'second' (its identifiers are s1): the start succeeds
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["result"] == "success"
    # one timeout for the first snapshot, then s2 is not waited for again (it was 5 timeouts more)
    assert took < work + float(TIMEOUT) + 4, (took, work)
    assert [line for line in result.stderr.splitlines() if "s2 (" in line or line.startswith("s2")] != []
    assert sum("warning" in line and "s2" in line for line in result.stderr.splitlines()) == 1, result.stderr


def test_a_session_asks_a_frozen_instance_again_once_it_answers(supervisord: SupervisordFactory) -> None:
    s1, s2 = supervisord(nick="s1"), supervisord(nick="s2")
    instances = InstanceList.parse([f"{s1.spec} {s2.spec}"])
    session = ClusterSession(ClusterSettings(instances=instances, timeout=float(TIMEOUT)))
    s2.sigstop()
    try:
        first = session.snapshot()
        started = time.monotonic()
        second = session.snapshot()
        again = time.monotonic() - started
    finally:
        s2.sigcont()
    assert [snap.reachable for snap in first] == [True, False]
    assert first.instances[1].error_kind is Unreachable.TIMEOUT
    # not waited for again: the same reason at once (a second wait would take the whole timeout)
    assert [snap.reachable for snap in second] == [True, False]
    assert second.instances[1].reason == first.instances[1].reason
    assert again < float(TIMEOUT) * 0.75, again
    # SIGCONT: a background probe sees it answer, and the next snapshot asks it again
    wait_for("s2 answering again after SIGCONT", lambda: session.snapshot().instances[1], lambda snap: snap.reachable,
             deadline=15.0, every=0.2)
    assert session.health[list(instances)[1]].health in (Health.ANSWERING, Health.SLOW)


SHARED = {"p1": program(), "p2": program()}
SHARED_RULES = """<application name="app"><start_sequence>1</start_sequence>
  <programs><program name="p1"><start_sequence>1</start_sequence></program>
            <program name="p2"><start_sequence>2</start_sequence></program></programs></application>"""


def test_stop_and_start_with_a_frozen_instance_that_may_run_the_application_exit_3(
        tmp_path: Path, supervisord: SupervisordFactory) -> None:
    s1, s2 = (supervisord(nick=nick, programs=SHARED, groups={"app": list(SHARED)}) for nick in ("s1", "s2"))
    s1.proxy().supervisor.startProcess("app:p1")
    s2.proxy().supervisor.startProcess("app:p2")
    args = ("-i", f"{s1.spec} {s2.spec}", "-r", write_rules(tmp_path, SHARED_RULES))
    s2.sigstop()
    try:
        stopped = supv("stop-plan", "app", *args, "--json")
        p1_after_stop = s1.proxy().supervisor.getProcessInfo("app:p1")["statename"]
        started = supv("run-plan", "app", *args)
    finally:
        s2.sigcont()
    assert stopped.exit_code == 3, (stopped.stdout, stopped.stderr)
    error = stopped.stderr.strip().splitlines()[-1]
    assert error.startswith("supv: error: s2 did not answer (timeout") and "app:p2" in error, error
    assert "may still run there" in error
    assert p1_after_stop == "STOPPED"
    # the report does not call p2 stopped either (s1 shows it STOPPED; it runs on s2): unconfirmed
    report = json.loads(stopped.stdout)
    assert report["result"] == "failed", report
    outcomes = {row["process_name"]: (row["outcome"], row["instance"]) for row in report["processes"]}
    assert outcomes == {"p1": ("STOPPED", "s1"), "p2": ("LOST", "s2")}, outcomes
    # what the stop could not see: p2 still runs on s2
    assert s2.wait_process("app:p2", ["RUNNING"])["statename"] == "RUNNING"
    # a start cannot know either that p2 was not running on s2 already: it is now running on both
    assert started.exit_code == 3, (started.stdout, started.stderr)
    assert "s2 did not answer" in started.stderr.strip().splitlines()[-1]
    assert s1.wait_process("app:p2", ["RUNNING"])["statename"] == "RUNNING"


HCI = {"view": program()}
HCI_RULES = """<application pattern="hci_"><distribution>SINGLE_INSTANCE</distribution>
  <identifiers>#,s1,s2</identifiers><start_sequence>1</start_sequence></application>"""


def test_an_application_whose_only_instance_is_down_is_still_listed(
        tmp_path: Path, supervisord: SupervisordFactory) -> None:
    s1 = supervisord(nick="s1", programs=HCI, groups={"hci_01": ["view"]})
    s2 = supervisord(nick="s2", programs=HCI, groups={"hci_02": ["view"]})
    args = ("-i", f"{s1.spec} {s2.spec}", "-r", write_rules(tmp_path, HCI_RULES))
    s2.kill9()
    info = supv("application-info", *args, "--json")
    assert info.exit_code == 3, info.stderr
    rows = {row["application_name"]: row for row in json.loads(info.stdout)}
    assert sorted(rows) == ["hci_01", "hci_02"]
    assert "hci_02: known only from s2, which did not answer (s2: connection refused)" in info.stderr, info.stderr

    status = supv("sstatus", "hci_02:*", *args, "--json")
    assert status.exit_code == 3, status.stderr
    (process,) = json.loads(status.stdout)
    assert (process["process_name"], process["statename"]) == ("view", "UNKNOWN")
    assert process["instances"] == {"s2": "UNKNOWN"} and "s2 did not answer" in process["reason"]

    for command in ("run-plan", "stop-plan"):
        result = supv(command, "hci_02", *args, "--json")
        assert result.exit_code == 3, (command, result.stdout, result.stderr)
        assert "s2 did not answer (connection refused)" in result.stderr, result.stderr
    # a dry run is made without what s2 runs: the same exit 3 (the plan is printed first)
    for command in ("run-plan", "stop-plan", "restart-plan"):
        result = supv(command, "hci_02", *args, "--json", "--dry-run")
        assert result.exit_code == 3, (command, result.stdout, result.stderr)
        assert json.loads(result.stdout)["stages"], result.stdout
        assert "s2 did not answer (connection refused): hci_02:view may still run there" in result.stderr
    dry = supv("start", "hci_02:view", *args, "--dry-run")
    assert dry.exit_code == 3, (dry.stdout, dry.stderr)
    # what s2 cannot run is planned as usual
    assert supv("run-plan", "hci_01", *args, "--dry-run").exit_code == 0
    # a name no answering instance has may be on s2: exit 3, in every command that could take it
    for command in (("application-info", "nope"), ("sstatus", "nope"), ("sstatus", "hci_01:nope"),
                    ("stop-plan", "nope"), ("stop", "nope:view"), ("conciliate", "nope")):
        result = supv(*command, *args)
        assert result.exit_code == 3, (command, result.stdout, result.stderr)
        assert "did not answer and may have it" in result.stderr.strip().splitlines()[-1], (command, result.stderr)
    # run-plan starts only what the rules manage: an unmanaged name is refused whatever s2 has
    assert supv("run-plan", "nope", *args).exit_code == 2
