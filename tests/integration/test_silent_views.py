"""Issue 17, on real supervisord: views that stay right when an instance is down or frozen.

1. an application whose only instance is down stays listed (UNKNOWN, exit 3) whatever the identifiers'
   form: ``#,@STEREOTYPE`` (an inventory), a nick, an alias, ``host:port``;
2. a frozen instance's stopped processes keep their last known state (a check EXITED there stays
   EXITED: its application stays Operational);
3. an unmanaged program running on several instances is no conflict, in sstatus as in ``supv conflicts``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from supv_cli.cluster.session import ClusterSession
from supv_cli.cluster.settings import ClusterSettings
from supv_cli.model.instances import InstanceList
from supv_cli.status import evaluate
from supv_cli.unanswered import fill_unanswered
from tests.conftest import SupervisordFactory
from tests.support.cli import run_supv

pytestmark = pytest.mark.integration

TIMEOUT = "2"


def program(**options: Any) -> dict[str, Any]:
    return {"command": "sleep 1000", "startsecs": 0, "autostart": False, "autorestart": False, **options}


def write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def supv(*args: str) -> Result:
    return run_supv(*args, "--timeout", TIMEOUT)


def test_a_homogeneous_application_over_a_stereotype_stays_listed(tmp_path: Path,
                                                                 supervisord: SupervisordFactory) -> None:
    consoles = [supervisord(nick=f"console_{n}", programs={"view": program()}, groups={f"hci_0{n}": ["view"]})
                for n in (1, 2, 3)]
    write(tmp_path / "rules.xml", """<root><application pattern="hci_"><distribution>SINGLE_INSTANCE</distribution>
      <identifiers>#,@CONSOLE</identifiers><start_sequence>1</start_sequence></application></root>""")
    inventory = "[supv]\nrules_files = rules.xml\n\n" + "".join(
        f"[instance:{c.nick}]\nserverurl = {c.url}\nstereotypes = @CONSOLE\n\n" for c in consoles)
    args = ("-c", write(tmp_path / "supv.conf", inventory))
    consoles[2].kill9()
    info = supv("application-info", *args, "--json")
    assert info.exit_code == 3, info.stderr
    assert [row["application_name"] for row in json.loads(info.stdout)] == ["hci_01", "hci_02", "hci_03"]
    assert "hci_03: known only from console_3" in info.stderr
    status = supv("sstatus", *args, "--json", "hci_03:*")
    assert status.exit_code == 3, status.stderr
    (row,) = json.loads(status.stdout)
    assert (row["process_name"], row["statename"]) == ("view", "UNKNOWN")
    assert "console_3 did not answer" in row["reason"]


@pytest.mark.parametrize("form", ["nick", "alias", "host:port"])
def test_an_application_pinned_to_a_dead_instance_stays_listed(tmp_path: Path, supervisord: SupervisordFactory,
                                                               form: str) -> None:
    other = supervisord(nick="s1", programs={"svc": program()})
    solo = supervisord(nick="solo_1", programs={"solo": program()})
    identifier = {"nick": "solo_1", "alias": "solos", "host:port": f"{solo.host}:{solo.port}"}[form]
    rules = write(tmp_path / "rules.xml", f"""<root><alias name="solos">solo_1</alias>
      <application name="solo"><start_sequence>1</start_sequence><programs>
        <program name="solo"><identifiers>{identifier}</identifiers><start_sequence>1</start_sequence></program>
      </programs></application></root>""")
    args = ("-i", f"{other.spec} {solo.spec}", "-r", rules)
    solo.kill9()
    for words in ((), ("solo",), ("all",)):
        info = supv("application-info", *args, "--json", *words)
        assert info.exit_code == 3, (words, info.stderr)
        rows = {row["application_name"]: row for row in json.loads(info.stdout)}
        assert "solo" in rows and rows["solo"]["statename"] == "STOPPED", (words, rows)
        assert "solo: known only from solo_1, which did not answer (solo_1: connection refused)" in info.stderr
    for words in (("solo",), ("solo:*",), ()):   # a bare NAME is NAME:NAME
        status = supv("sstatus", *args, "--json", *words)
        assert status.exit_code == 3, (words, status.stderr)
        rows = {f"{r['application_name']}:{r['process_name']}": r for r in json.loads(status.stdout)}
        assert rows["solo:solo"]["statename"] == "UNKNOWN", (words, rows)
    # an unknown name is still one: exit 3 (it may be on solo_1), listed after what is known
    nope = supv("application-info", *args, "all", "nope")
    assert nope.exit_code == 3 and "nope" in nope.stderr.strip().splitlines()[-1], nope.stderr


def test_a_frozen_instance_keeps_its_exited_checks(supervisord: SupervisordFactory, tmp_path: Path) -> None:
    checks = {"check": program(command="true", exitcodes="0"), "svc": program()}
    s1 = supervisord(nick="s1", programs=checks, groups={"srv": ["check", "svc"]})
    s2 = supervisord(nick="s2", programs=checks, groups={"srv": ["check", "svc"]})
    rules = write(tmp_path / "rules.xml", """<root><application name="srv"><start_sequence>1</start_sequence>
      <programs><program name="check"><required>true</required><wait_exit>true</wait_exit>
        <start_sequence>1</start_sequence></program>
      <program name="svc"><required>true</required><start_sequence>2</start_sequence></program></programs>
      </application></root>""")
    s1.proxy().supervisor.startProcess("srv:check", False)
    s1.wait_process("srv:check", ["EXITED"])
    s2.proxy().supervisor.startProcess("srv:svc", True)
    instances = InstanceList.parse([f"{s1.spec} {s2.spec}"])
    args = ("-i", f"{s1.spec} {s2.spec}", "-r", rules)
    assert json.loads(supv("application-info", *args, "--json").stdout)[0]["operational_status"] == "Operational"
    from supv_cli.rules import load_rules

    loaded = load_rules([rules], instances)
    session = ClusterSession(ClusterSettings(instances=instances, timeout=float(TIMEOUT)))
    assert all(snap.reachable for snap in session.snapshot())   # s1's last answer: the check EXITED
    s1.sigstop()
    try:
        snapshot = session.snapshot()
    finally:
        s1.sigcont()
    assert [snap.reachable for snap in snapshot] == [False, True]
    status = evaluate(loaded, fill_unanswered(snapshot, loaded, instances, session.last_answers()))
    check = status.process("srv:check")
    assert check is not None and (check.statename, check.expected_exit) == ("EXITED", True)
    assert "last answer (s1 did not answer: timeout" in check.reason
    application = status.applications["srv"]
    assert (application.statename, application.major_failure, application.operational_status) == (
        "RUNNING", False, "Operational")


def test_an_unmanaged_program_on_several_instances_is_no_conflict(supervisord: SupervisordFactory,
                                                                  tmp_path: Path) -> None:
    bus = {"bus": program(autostart=True), "svc": program(autostart=True)}
    s1 = supervisord(nick="s1", programs=bus)
    s2 = supervisord(nick="s2", programs=bus)
    for server in (s1, s2):
        server.wait_process("bus:bus", ["RUNNING"])
        server.wait_process("svc:svc", ["RUNNING"])
    rules = write(tmp_path / "rules.xml", '<root><application name="svc"><start_sequence>1</start_sequence>'
                  '</application></root>')
    args = ("-i", f"{s1.spec} {s2.spec}", "-r", rules)
    rows = {r["process_name"]: r for r in json.loads(supv("sstatus", *args, "--json").stdout)}
    assert (rows["bus"]["identifiers"], rows["bus"]["conflict"]) == (["s1", "s2"], False)
    assert rows["svc"]["conflict"] is True               # a managed one is
    table = supv("sstatus", *args, "--format", "table", "bus")
    assert "s1, s2" in table.stdout and "(conflict)" not in table.stdout
    conflicts = json.loads(supv("conflicts", *args, "--json").stdout)
    assert [(c["application_name"], c["instances"]) for c in conflicts] == [("svc", ["s1", "s2"])]
    # names, the one grammar: svc is svc:svc; one that names nothing is exit 2
    assert json.loads(supv("conflicts", *args, "--json", "svc").stdout) == conflicts
    assert json.loads(supv("conflicts", *args, "--json", "bus:*").stdout) == []
    assert supv("conflicts", *args, "nope").exit_code == 2
    # without a managed conflict: supv conflicts prints nothing at all (as supvisorsctl)
    only_bus = ("-i", f"{s1.spec} {s2.spec}")
    none = supv("conflicts", *only_bus, "--format", "plain")
    assert (none.exit_code, none.stdout) == (0, "")


def test_wait_says_what_a_silent_instance_leaves_unknown(supervisord: SupervisordFactory, tmp_path: Path) -> None:
    s1 = supervisord(nick="s1", programs={"svc": program()})
    s2 = supervisord(nick="s2", programs={"svc": program()})
    rules = write(tmp_path / "rules.xml", '<root><application name="svc"><start_sequence>1</start_sequence>'
                  '</application></root>')
    s2.kill9()
    result = run_supv("wait", "-i", f"{s1.spec} {s2.spec}", "-r", rules, "--timeout", "0")
    assert result.exit_code == 3, result.stderr
    assert "supv: not started: s2 did not answer (connection refused): what it runs is not known" in result.stderr
    assert "should be known" not in result.stderr


def test_a_later_command_keeps_the_last_known_state_a_controller_kept(supervisord: SupervisordFactory,
                                                                      tmp_path: Path) -> None:
    """Item 2 across commands: s1 (where the check EXITED) is frozen before the command starts; the supv
    controller running on s2 kept s1's last answer in its state line, and application-info uses it."""
    import shlex
    import sys

    from supv_cli.cluster.state_line import last_in as last_state_line
    from tests.support.scenario3 import ROOT
    from tests.support.waiting import wait_for

    checks = {"check": program(command="true", exitcodes="0"), "svc": program()}
    rules = write(tmp_path / "rules.xml", """<root><application name="srv"><start_sequence>1</start_sequence>
      <programs><program name="check"><required>true</required><wait_exit>true</wait_exit>
        <start_sequence>1</start_sequence></program>
      <program name="svc"><required>true</required><start_sequence>2</start_sequence></program></programs>
      </application></root>""")
    s1 = supervisord(nick="s1", programs=checks, groups={"srv": ["check", "svc"]})
    command = shlex.join([sys.executable, "-m", "supv_cli", "run-plan", "--watch", "-i", s1.spec, "-r", rules,
                          "--no-autostart", "--interval", "0.2", "--lost-after", "1", "--timeout", "0.5"])
    controller = program(command=command, autostart=True, environment=f'PYTHONPATH="{ROOT}"', stopwaitsecs=5)
    s2 = supervisord(nick="s2", programs={**checks, "supv_controller": controller}, groups={"srv": ["check", "svc"]})
    s1.proxy().supervisor.startProcess("srv:check", False)
    s1.wait_process("srv:check", ["EXITED"])
    s2.proxy().supervisor.startProcess("srv:svc", True)
    s2.wait_process("supv_controller", ["RUNNING"])
    args = ("-i", f"{s1.spec} {s2.spec}", "-r", rules)

    def kept() -> Any:
        text = s2.proxy().supervisor.tailProcessStdoutLog("supv_controller", 0, 16384)[0]
        return (last_state_line(text) or {}).get("last_known", {}).get("s1")

    wait_for("the controller running", lambda: last_state_line(
        s2.proxy().supervisor.tailProcessStdoutLog("supv_controller", 0, 16384)[0]), bool, deadline=20.0)
    s1.sigstop()
    try:
        records, _ = wait_for("the controller keeping s1's last answer", kept, bool, deadline=20.0)
        assert {r["name"]: r["state"] for r in records}["check"] == "EXITED"
        info = supv("application-info", *args, "--json")
        status = supv("sstatus", *args, "--json", "srv:check")
    finally:
        s1.sigcont()
    row = {r["application_name"]: r for r in json.loads(info.stdout)}["srv"]
    assert (row["statename"], row["major_failure"], row["operational_status"]) == (
        "RUNNING", False, "Operational"), info.stderr
    (check,) = json.loads(status.stdout)
    assert check["statename"] == "EXITED" and "last answer (s1 did not answer" in check["reason"], check
