"""Faults at the command line against real processes (issue 9): a password-protected supervisord
reached with wrong credentials (item 8: the hint names where they were given; item 6: --debug keeps
exit 3), SIGTERM on run-plan and stop-plan (item 7: the report, then exit 143), and Ctrl-C while
Python imports supv (item 7: exit 130 without a traceback)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SupervisordFactory
from tests.support.cli import run_supv
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

RIGHT = "right-Hq62x"
WRONG = "wrong-Pz07c"


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a supv subprocess: none of the developer's SUPV_* variables, no colour."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("SUPV_")}
    return {**env, "NO_COLOR": "1", **extra}


# ================================================================================ wrong credentials

@pytest.fixture
def protected(tmp_path: Path, supervisord: SupervisordFactory) -> tuple[Any, Path]:
    """A supervisord asking for ops / RIGHT, and an inventory giving it the wrong password."""
    server = supervisord(nick="server_1", username="ops", password=RIGHT)
    inventory = tmp_path / "supv.conf"
    inventory.write_text(f"[supv]\ntimeout = 3\n\n[instance:server_1]\nserverurl = {server.url}\n"
                         f"username = ops\npassword = {WRONG}\n")
    return server, inventory


def test_a_wrong_password_points_at_where_it_was_given(protected: tuple[Any, Path]) -> None:
    server, inventory = protected
    cases = [
        # where the credentials come from -> the hint
        ((["-c", str(inventory)], {}), f"check the password of [instance:server_1] ({inventory}:7)"),
        ((["-i", server.spec, "-u", "ops", "--password", WRONG], {}), "check --password (command line)"),
        ((["-i", server.spec], {"SUPV_USERNAME": "ops", "SUPV_PASSWORD": WRONG}),
         "check SUPV_PASSWORD (environment)"),
        ((["-i", server.spec], {}), "the instance wants credentials; give -u/--password"),
    ]
    for (args, env), hint in cases:
        for debug in ([], ["--debug"]):
            result = run_supv("instances", "--format", "plain", *args, *debug, env=env)
            assert result.exit_code == 3, (args, debug, result.stderr)     # --debug keeps the code
            assert f"authentication failed (HTTP 401): {hint}" in result.stderr + result.stdout
            if args[0] == "-c":   # the inventory's password failed: no hint at the options
                assert "--password" not in result.stderr + result.stdout
            for secret in (RIGHT, WRONG):
                assert secret not in result.stdout and secret not in result.stderr
            assert ("Traceback" in result.stderr) == bool(debug)
    # issue 17 item 8: --password never replaces the password an instance has of its own...
    kept = run_supv("instances", "--format", "plain", "-c", str(inventory), "--password", RIGHT)
    assert kept.exit_code == 3, kept.stderr
    assert f"authentication failed (HTTP 401): check the password of [instance:server_1] ({inventory}:7)" in kept.stderr
    assert ("--password: not used, every instance has credentials of its own in the inventory (they go only to "
            "instances without)") in kept.stderr
    # ...it wins over the [supv] password, which serves the instances without their own
    shared = inventory.with_name("shared.conf")
    shared.write_text(f"[supv]\nusername = ops\npassword = {WRONG}\n\n[instance:server_1]\nserverurl = {server.url}\n")
    shared.chmod(0o600)
    good = run_supv("instances", "--json", "-c", str(shared), "--password", RIGHT)
    assert good.exit_code == 0, good.stderr
    assert f"password: --password (command line) overrides -c {shared}" in good.stderr


# ================================================================================ SIGTERM on a run

RULES = """<root>
<application name="slow_app"><start_sequence>1</start_sequence><programs>
  <program name="slow"><start_sequence>1</start_sequence><required>true</required></program>
</programs></application>
<application name="stubborn_app"><stop_sequence>1</stop_sequence></application>
</root>
"""


def wait_state(server: Any, name: str, state: str, timeout: float = 20.0) -> dict[str, Any]:
    info: dict[str, Any] = wait_for(f"{name} {state}", lambda: server.proxy().supervisor.getProcessInfo(name),
                                    lambda info: info["statename"] == state, deadline=timeout, every=0.05)[0]
    return info


def test_sigterm_stops_a_run_like_ctrl_c_with_its_report_and_exit_143(tmp_path: Path,
                                                                     supervisord: SupervisordFactory) -> None:
    server = supervisord(nick="server_1", programs={
        # STARTING for 60 s: run-plan waits for it
        "slow": {"command": "sleep 1000", "autostart": False, "startsecs": 60},
        # deaf to SIGTERM for 30 s: stop-plan waits for it
        "stubborn": {"command": "sh -c \"trap '' TERM; while :; do sleep 0.2; done\"", "autostart": True,
                     "stopwaitsecs": 30},
    }, groups={"slow_app": ["slow"], "stubborn_app": ["stubborn"]})
    rules = tmp_path / "rules.xml"
    rules.write_text(RULES)
    assert wait_state(server, "stubborn_app:stubborn", "RUNNING")["statename"] == "RUNNING"
    for command, application, program, state in (("run-plan", "slow_app", "slow", "STARTING"),
                                                 ("stop-plan", "stubborn_app", "stubborn", "STOPPING")):
        supv = subprocess.Popen([sys.executable, "-m", "supv_cli", command, "-i", server.spec, "-r", str(rules),
                                 "--json", application], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=clean_env())
        try:
            assert wait_state(server, f"{application}:{program}", state)["statename"] == state
            time.sleep(0.3)       # supv is now waiting for it
            supv.send_signal(signal.SIGTERM)
            out, err = supv.communicate(timeout=30)
        finally:
            if supv.poll() is None:
                supv.kill()
        assert supv.returncode == 143, err.decode()
        report = json.loads(out)
        assert report["result"] == "interrupted"
        assert [(p["process_name"], p["outcome"]) for p in report["processes"]] == [(program, "INTERRUPTED")]
        assert b"Traceback" not in err
    os.kill(wait_state(server, "stubborn_app:stubborn", "STOPPING")["pid"], signal.SIGKILL)  # no 30 s wait


# ================================================================================ Ctrl-C while importing

@pytest.mark.parametrize(("signum", "code", "line"), [(signal.SIGINT, 130, "supv: interrupted"),
                                                       (signal.SIGTERM, 143, "supv: terminated")])
def test_a_signal_while_supv_is_imported_is_a_clean_exit(signum: int, code: int, line: str) -> None:
    """``-X importtime`` writes a line as each import ends: once the first module of click is imported,
    the signal lands while the rest of click and supv are being imported (Python's own start-up, before
    any supv code runs, is not supv's to handle)."""
    for delay in (0.0, 0.005, 0.01):
        supv = subprocess.Popen([sys.executable, "-X", "importtime", "-m", "supv_cli", "instances", "-i",
                                 "127.0.2.1:9"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, env=clean_env())
        assert supv.stderr is not None
        seen = []
        for raw in supv.stderr:
            seen.append(raw)
            if re.search(rb"\|\s+click\b", raw):
                break
        time.sleep(delay)
        supv.send_signal(signum)
        rest = supv.stderr.read()
        supv.wait(10)
        err = b"".join(seen).decode() + rest.decode()
        assert supv.returncode == code, err[-2000:]
        assert line in err
        assert "Traceback" not in err and "KeyboardInterrupt" not in err


def test_the_entry_point_handles_signals_as_soon_as_it_is_imported() -> None:
    """The console script imports ``supv_cli.__main__`` and then runs code of its own before calling
    ``main()``: the early handlers must be in place once the import returns, and the import must not
    pull anything slow (``typing``, click) in before them, or a Ctrl-C there prints a traceback."""
    probe = ("import signal, sys\n"
             "before = set(sys.modules)\n"
             "import supv_cli.__main__ as entry\n"
             "new = set(sys.modules) - before\n"
             "print(signal.getsignal(signal.SIGINT) is entry._exit_at_once,"
             " signal.getsignal(signal.SIGTERM) is entry._exit_at_once, sorted(new))\n")
    done = subprocess.run([sys.executable, "-c", probe], env=clean_env(), stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=30, check=True)
    sigint, sigterm, new = done.stdout.decode().split(" ", 2)
    assert (sigint, sigterm) == ("True", "True"), done.stdout
    assert "'typing'" not in new and "click" not in new, new
