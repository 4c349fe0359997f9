"""application-info, sstatus and instances against real supervisord processes started by the tests."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SupervisordFactory
from tests.support.cli import run_supv
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

#: server_1: one program per state of interest, in four groups
SERVER_1_PROGRAMS: dict[str, dict[str, Any]] = {
    "running": {"command": "sleep 1000"},
    "starting": {"command": "sleep 1000", "startsecs": 100},
    "backoff": {"command": "sh -c 'exit 1'", "startsecs": 1, "startretries": 1000},
    "exit_ok": {"command": "sh -c 'exit 3'", "exitcodes": "0,3", "autorestart": False},
    "stopped": {"command": "sleep 1000", "autostart": False},
    "fatal": {"command": "sh -c 'exit 1'", "startsecs": 1, "startretries": 0},
    "worker": {"command": "sleep 1000"},
    "shared": {"command": "sleep 1000"},
    "exit_bad": {"command": "sh -c 'exit 4'", "autorestart": False},
    "main": {"command": "sleep 1000"},
}
SERVER_1_GROUPS = {"app": ["running", "starting", "backoff", "exit_ok", "stopped"], "crashy": ["fatal", "worker"],
                   "svc": ["exit_bad", "main"]}
SERVER_1_STATES = {"app:running": "RUNNING", "app:starting": "STARTING", "app:backoff": "BACKOFF",
                   "app:exit_ok": "EXITED", "app:stopped": "STOPPED", "crashy:fatal": "FATAL",
                   "crashy:worker": "RUNNING", "shared:shared": "RUNNING", "svc:exit_bad": "EXITED",
                   "svc:main": "RUNNING"}
#: server_2: the same 'shared' program (a conflict) and an unmanaged group
SERVER_2_PROGRAMS = {"shared": {"command": "sleep 1000"}, "tool_a": {"command": "sleep 1000"},
                     "tool_b": {"command": "sleep 1000"}}
SERVER_2_GROUPS = {"tools": ["tool_a", "tool_b"]}

RULES = """<?xml version="1.0" encoding="UTF-8"?>
<root>
  <application name="app">
    <start_sequence>1</start_sequence>
    <programs>
      <program name="running"><start_sequence>1</start_sequence><required>true</required>
        <expected_loading>10</expected_loading></program>
      <program name="starting"><start_sequence>1</start_sequence><expected_loading>5</expected_loading></program>
      <program name="backoff"><start_sequence>2</start_sequence></program>
      <program name="exit_ok"><start_sequence>1</start_sequence><wait_exit>true</wait_exit></program>
    </programs>
  </application>
  <application name="crashy">
    <start_sequence>2</start_sequence>
    <programs>
      <program name="fatal"><start_sequence>1</start_sequence><required>true</required></program>
      <program name="worker"><start_sequence>1</start_sequence><expected_loading>20</expected_loading></program>
    </programs>
  </application>
  <application name="svc">
    <start_sequence>3</start_sequence>
    <operational_status>'main'</operational_status>
    <programs><program pattern=""><start_sequence>1</start_sequence></program></programs>
  </application>
  <application name="shared">
    <start_sequence>4</start_sequence>
    <programs><program name="shared"><start_sequence>1</start_sequence><expected_loading>3</expected_loading>
    </program></programs>
  </application>
</root>
"""

APPLICATION_INFO = [
    "Application  State     Major  Minor  ",
    "app          STARTING  False  False  ",
    "crashy       RUNNING   True   False  ",
    "shared       RUNNING   False  False  ",
    "svc          RUNNING   False  True   ",
    "tools        RUNNING   False  False  ",
]
SSTATUS = [
    "Application  Process   State       Expected  Supervisor",
    "app          backoff   BACKOFF     n/a       ['server_1']",
    "app          exit_ok   EXITED      True      []",
    "app          running   RUNNING     n/a       ['server_1']",
    "app          starting  STARTING    n/a       ['server_1']",
    "app          stopped   STOPPED     n/a       []",
    "crashy       fatal     FATAL       n/a       []",
    "crashy       worker    RUNNING     n/a       ['server_1']",
    "shared       shared    RUNNING     n/a       ['server_1', 'server_2']",
    "svc          exit_bad  EXITED      False     []",
    "svc          main      RUNNING     n/a       ['server_1']",
    "tools        tool_a    RUNNING     n/a       ['server_2']",
    "tools        tool_b    RUNNING     n/a       ['server_2']",
]


class Cluster:
    """Two real supervisord instances and the options to reach them."""

    def __init__(self, servers: list[Any], args: list[str]) -> None:
        self.servers = servers
        self.args = args

    def supv(self, *args: str) -> Any:
        # the password from the environment, as advised (on the command line it is warned about: ps)
        return run_supv(*args, *self.args, env={"SUPV_PASSWORD": "s3cret"})


@pytest.fixture(params=["http+unix/auth", "unix+http/auth"])
def cluster(request: Any, supervisord: SupervisordFactory, tmp_path: Path) -> Cluster:
    first_unix = request.param.startswith("unix")
    server_1 = supervisord(nick="server_1", programs=SERVER_1_PROGRAMS, groups=SERVER_1_GROUPS, unix=first_unix)
    server_2 = supervisord(nick="server_2", programs=SERVER_2_PROGRAMS, groups=SERVER_2_GROUPS,
                           unix=not first_unix, username="bob", password="s3cret")
    for namespec, state in SERVER_1_STATES.items():
        server_1.wait_process(namespec, [state], timeout=15)
    for namespec in ("shared:shared", "tools:tool_a", "tools:tool_b"):
        server_2.wait_process(namespec, ["RUNNING"])
    rules = tmp_path / "rules.xml"
    rules.write_text(RULES)
    # server_1 has no password: supervisord ignores the credentials it does not need
    return Cluster([server_1, server_2], ["-i", f"{server_1.spec} {server_2.spec}", "-r", str(rules),
                                          "-u", "bob"])


def sstatus_plain(cluster: Cluster, *args: str) -> Any:
    """``sstatus --format plain``, again when the BACKOFF program was caught in its short STARTING
    moment between two retries (its state cycles BACKOFF -> STARTING -> BACKOFF)."""
    return wait_for("sstatus without the BACKOFF program caught STARTING",
                    lambda: cluster.supv("sstatus", "--format", "plain", *args),
                    lambda result: "backoff   STARTING" not in result.stdout, deadline=10.0, every=0.2)[0]


def test_application_info_plain_is_the_supvisorsctl_layout(cluster: Cluster) -> None:
    result = cluster.supv("application-info", "--format", "plain")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.splitlines() == APPLICATION_INFO
    alias = cluster.supv("application_info", "--format", "plain", "svc", "app", "ghost")
    # an unknown name, in every command: the known ones are shown, one error line, exit 2 (issue 9)
    assert alias.exit_code == 2
    assert alias.stdout.splitlines() == [APPLICATION_INFO[0], APPLICATION_INFO[1], APPLICATION_INFO[4]]
    assert alias.stderr == ("supv: error: unknown application ghost: no reachable instance has it; known: app, "
                            "crashy, shared, svc, tools\n")


def test_application_info_all_still_checks_the_names_after_it(cluster: Cluster) -> None:
    result = cluster.supv("application-info", "--format", "plain", "all", "ghost")
    assert result.exit_code == 2                      # every application shown, then ghost named
    assert result.stdout.splitlines() == APPLICATION_INFO
    assert result.stderr.startswith("supv: error: unknown application ghost: no reachable instance has it")


def test_application_info_json_and_table(cluster: Cluster) -> None:
    result = cluster.supv("application-info", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert [(a["application_name"], a["managed"], a["statename"], a["operational_status"]) for a in data] == [
        ("app", True, "STARTING", ""), ("crashy", True, "RUNNING", "Not Operational"),
        ("shared", True, "RUNNING", "Operational"), ("svc", True, "RUNNING", "Degraded"),
        ("tools", False, "RUNNING", "Operational")]
    table = cluster.supv("application-info", "--format", "table")
    assert table.exit_code == 0
    assert "● Not Operational" in table.stdout and "● Degraded" in table.stdout


def test_application_info_check(cluster: Cluster) -> None:
    result = cluster.supv("application-info", "--check", "--json")
    assert result.exit_code == 1
    assert "supv: check: app: STARTING" in result.stderr
    assert "supv: check: crashy: RUNNING with a major failure" in result.stderr
    assert "svc" not in result.stderr and "tools" not in result.stderr
    assert json.loads(result.stdout)  # the data is still printed
    healthy = cluster.supv("application-info", "--check", "svc", "shared", "tools")
    assert healthy.exit_code == 0
    assert "2 managed application(s) RUNNING without major failure" in healthy.stderr
    assert cluster.supv("application-info", "--check", "ghost").exit_code == 2


def test_sstatus_plain_is_the_supvisorsctl_layout(cluster: Cluster) -> None:
    result = sstatus_plain(cluster)
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.splitlines() == SSTATUS


def test_sstatus_arguments_and_errors(cluster: Cluster) -> None:
    result = sstatus_plain(cluster, "crashy:*", "ghost:*", "tools:tool_b", "svc:nope", "tool_b")
    assert result.exit_code == 2                     # unknown names: exit 2 in every command (issue 9)
    assert result.stdout.splitlines() == [
        "Application  Process  State       Expected  Supervisor",
        "crashy       fatal    FATAL       n/a       []",
        "crashy       worker   RUNNING     n/a       ['server_1']",
        "tools        tool_b   RUNNING     n/a       ['server_2']",
    ]
    # a bare NAME is NAME:NAME (cli.md "Names"): tool_b of tools is hinted, not taken
    assert result.stderr.splitlines() == ["ghost:*: ERROR (BAD_NAME: application ghost unknown)",
                                          "svc:nope: ERROR (BAD_NAME: process=nope unknown in application=svc)",
                                          "tool_b: ERROR (BAD_NAME: process tool_b unknown; did you mean "
                                          "tools:tool_b?)"]


def test_sstatus_json(cluster: Cluster) -> None:
    result = cluster.supv("sstatus", "--json", "shared:shared", "crashy:fatal", "app:exit_ok")
    assert result.exit_code == 0
    shared, fatal, exit_ok = json.loads(result.stdout)
    assert (shared["statename"], shared["identifiers"], shared["conflict"]) == (
        "RUNNING", ["server_1", "server_2"], True)
    assert shared["instances"] == {"server_1": "RUNNING", "server_2": "RUNNING"}
    assert (fatal["statecode"], fatal["expected_exit"], fatal["identifiers"]) == (200, False, [])
    assert fatal["reason"].startswith("Exited too quickly")
    assert (exit_ok["statename"], exit_ok["expected_exit"]) == ("EXITED", True)


def test_instances_loads_and_counts(cluster: Cluster) -> None:
    result = cluster.supv("instances", "--json")
    assert result.exit_code == 0
    first, second = json.loads(result.stdout)
    assert (first["nick"], first["state"], first["reason"]) == ("server_1", "RUNNING", "")
    # running 10 + starting 5 + worker 20 + shared 3 (backoff counts too, with no load)
    assert (first["load"], second["load"]) == (38, 3)
    # one instance per node: a unix socket is on node "localhost", the other on "127.0.0.1"
    assert (first["node_load"], second["node_load"]) == (38, 3)
    assert {first["node"], second["node"]} == {"localhost", "127.0.0.1"}
    assert first["processes"]["EXITED"] == 2 and first["processes"]["FATAL"] == 1
    assert (first["running"], first["stopped"], first["failed"], first["total"]) == (6, 2, 2, 10)
    assert (second["running"], second["total"]) == (3, 3)
    plain = cluster.supv("instances", "--format", "plain")
    lines = plain.stdout.splitlines()
    assert lines[0].split() == ["Nick", "URL", "State", "Load", "Running", "Stopped", "Failed", "Total",
                                "Stereotypes", "Controller", "Reason"]
    assert lines[1].split()[2:] == ["RUNNING", "38%", "6", "2", "2", "10", "-", "-"]


def test_unreachable_instances_are_reported_and_the_rest_is_shown(supervisord: SupervisordFactory) -> None:
    alive = supervisord(nick="alive", programs={"sleeper": {"command": "sleep 1000"}})
    killed = supervisord(nick="killed", unix=True, programs={"sleeper": {"command": "sleep 1000"}})
    hung = supervisord(nick="hung", programs={"other": {"command": "sleep 1000"}})
    alive.wait_process("sleeper", ["RUNNING"])
    killed.kill9()
    hung.sigstop()
    args = ["-i", f"{alive.spec},{killed.spec},{hung.spec}", "--timeout", "1"]
    started = time.monotonic()
    result = run_supv("application-info", "--format", "plain", *args)
    elapsed = time.monotonic() - started
    assert result.exit_code == 0
    assert result.stdout.splitlines() == ["Application  State     Major  Minor  ",
                                          "sleeper      RUNNING   False  False  "]
    assert result.stderr.splitlines() == [
        f"supv: warning: killed ({killed.url}): connection refused",  # the socket file stays
        f"supv: warning: hung ({hung.url}): timeout (no answer within 1s)",
    ]
    # a hung instance never holds a command beyond --timeout (+ a second for everything else)
    assert elapsed < 1 + 1.0
    check = run_supv("application-info", "--check", *args)
    assert check.exit_code == 3
    assert "supv: error: --check: 2 instance(s) did not answer" in check.stderr
    sstatus = run_supv("sstatus", "--json", *args)
    assert sstatus.exit_code == 0
    assert [p["process_name"] for p in json.loads(sstatus.stdout)] == ["sleeper"]
    instances = run_supv("instances", "--json", *args)
    assert instances.exit_code == 0
    rows = json.loads(instances.stdout)
    assert [(r["nick"], r["state"], r["error_kind"], r["load"]) for r in rows] == [
        ("alive", "RUNNING", None, 0), ("killed", "UNREACHABLE", "REFUSED", None),
        ("hung", "UNREACHABLE", "TIMEOUT", None)]
    assert run_supv("instances", "--check", *args).exit_code == 3


def test_no_instance_answered_exits_3(supervisord: SupervisordFactory) -> None:
    dead = supervisord(nick="dead")
    dead.kill9()
    for command in ("application-info", "sstatus", "instances"):
        result = run_supv(command, "--json", "-i", dead.spec)
        assert result.exit_code == 3, command
        assert f"supv: warning: dead ({dead.url}): connection refused" in result.stderr
        assert "supv: error: no instance answered (1 unreachable)" in result.stderr


@pytest.mark.parametrize("unix", [False, True], ids=["http", "unix"])
def test_wrong_password(supervisord: SupervisordFactory, unix: bool) -> None:
    server = supervisord(nick="secure", unix=unix, username="bob", password="s3cret",
                         programs={"sleeper": {"command": "sleep 1000"}})
    result = run_supv("application-info", "-i", server.spec, "-u", "bob", "--password", "not-this-one")
    assert result.exit_code == 3
    assert f"supv: warning: secure ({server.url}): authentication failed (HTTP 401)" in result.stderr
    assert "not-this-one" not in result.stderr + result.stdout
    good = run_supv("application-info", "--format", "plain", "-i", server.spec, "-u", "bob",
                    env={"SUPV_PASSWORD": "s3cret"})
    assert good.exit_code == 0
    assert good.stdout.splitlines()[1].startswith("sleeper")
