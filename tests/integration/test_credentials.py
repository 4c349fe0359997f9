"""Issue 17 item 8: which instance gets which credentials, and warnings about exposed passwords."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from supv_cli.cli.options import PASSWORD_IN_PS
from tests.conftest import SupervisordFactory
from tests.support.cli import run_supv

pytestmark = pytest.mark.integration

OWN_PW = "own-pw-8fQ1"
GLOBAL_PW = "global-pw-Lx02"


def test_global_credentials_go_only_to_instances_without_their_own(supervisord: SupervisordFactory,
                                                                    tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    own = supervisord(nick="own", username="admin", password=OWN_PW)
    other = supervisord(nick="other", username="ops", password=GLOBAL_PW)
    monkeypatch.setenv("TEST_OWN_PW", OWN_PW)
    inventory = tmp_path / "supv.conf"
    inventory.write_text(f"[instance:own]\nserverurl = {own.url}\nusername = admin\n"
                         "password = %(ENV_TEST_OWN_PW)s\n"
                         f"[instance:other]\nserverurl = {other.url}\n")
    # -u/--password (and SUPV_PASSWORD) serve `other` only: `own` keeps its inventory credentials
    for args, env in ((("-u", "ops", "--password", GLOBAL_PW), {}),
                      (("-u", "ops"), {"SUPV_PASSWORD": GLOBAL_PW})):
        result = run_supv("instances", "--json", "-c", str(inventory), *args, env=env)
        assert result.exit_code == 0, result.output
        assert {row["nick"]: row["state"] for row in json.loads(result.stdout)} == {"own": "RUNNING",
                                                                                   "other": "RUNNING"}
        assert OWN_PW not in result.output and GLOBAL_PW not in result.output
    # the command-line password is visible in ps: said once
    result = run_supv("instances", "-c", str(inventory), "-u", "ops", "--password", GLOBAL_PW)
    assert result.stderr.count(PASSWORD_IN_PS) == 1
    result = run_supv("instances", "-c", str(inventory), "-u", "ops", env={"SUPV_PASSWORD": GLOBAL_PW})
    assert PASSWORD_IN_PS not in result.stderr
    # the inventory takes its password from the environment: no warning whatever its mode
    inventory.chmod(0o644)
    assert "readable by" not in run_supv("instances", "-c", str(inventory)).stderr


@pytest.mark.parametrize(("mode", "warned"), [(0o600, False), (0o640, True), (0o604, True), (0o644, True)])
def test_an_inventory_with_a_literal_password_readable_by_others_is_warned_about(tmp_path: Path, mode: int,
                                                                                 warned: bool) -> None:
    inventory = tmp_path / "supv.conf"
    inventory.write_text(f"[supv]\npassword = {OWN_PW}\n[instance:a]\nserverurl = http://127.0.4.1:1\n")
    inventory.chmod(mode)
    result = run_supv("instances", "-c", str(inventory), "--timeout", "0.5")
    lines = [line for line in result.stderr.splitlines() if "readable by" in line]
    assert len(lines) == (1 if warned else 0), result.stderr
    if warned:
        assert lines[0] == (f"supv: warning: {inventory}: holds a literal password ([supv]) and is readable by "
                            f"{ {0o640: 'its group', 0o604: 'others', 0o644: 'group and others'}[mode]} "
                            f"(mode {mode:04o}): chmod 600 {inventory}, or write password = %(ENV_VARIABLE)s")
    assert OWN_PW not in result.output
