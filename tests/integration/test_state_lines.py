"""The controller's state lines read back through supervisord (cluster/state_line.py, issue 19 item 2).

Whatever runs under the controller's program name writes the log the views read: a real supervisord runs
a stand-in that prints one good state line, then lines of other shapes (nested deeper than a JSON parser
goes, wrong types, a later version). The views show the good line's state, the instance stays answering
(the hostile lines are not an answer that fails), and nothing is a traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from supv_cli.cluster.state_line import encode
from tests.conftest import SupervisordFactory
from tests.support.cli import run_supv
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

KNOWN = {"acting": True, "leader": "s1", "lost": [], "missed": [], "quorum": {"seen": 1, "needed": 1}, "jobs": [],
         "conciliate": "user", "in_flight": [], "recent": ["a decision"], "last_known": {}}
HOSTILE = [
    '{"acting": "yes", "lost": 5, "recent": 7}',
    '{"acting": false, "version": 2, "leader": {"new": "format"}}',
    "{\x1b]0;pwned\x07",
    '{"acting": true, "x": ' + "[" * 5000 + "]" * 5000 + "}",  # RecursionError in json.loads
]


def stand_in(tmp_path: Path, lines: list[str]) -> str:
    """The command of a program that prints ``lines`` on stdout, then sleeps."""
    script = tmp_path / "controller.py"
    script.write_text(f"import sys, time\nfor line in {lines!r}:\n    print(line)\nsys.stdout.flush()\n"
                      "time.sleep(1000)\n", encoding="utf-8")
    return f"{sys.executable} -u {script}"


def printed(server: Any) -> None:
    """Wait until the stand-in controller of ``server`` runs and has printed its lines (the last hostile)."""
    server.wait_process("supv_controller", ["RUNNING"])
    wait_for("the stand-in has printed its lines",
             lambda: server.proxy().supervisor.tailProcessStdoutLog("supv_controller", 0, 65536)[0],
             lambda text: "pwned" in text)


def test_views_read_the_last_good_state_line_past_hostile_ones(supervisord: SupervisordFactory,
                                                               tmp_path: Path) -> None:
    good = encode("2026-12-07T12:00:00.000", "s1", 7, KNOWN)
    server = supervisord(nick="s1", programs={"supv_controller": {"command": stand_in(tmp_path, [good, *HOSTILE]),
                                                                  "startsecs": 0}})
    printed(server)
    result = run_supv("instances", "-i", server.spec, "--json")
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert (row["state"], row["error_kind"]) == ("RUNNING", None) and row["controller"] == json.loads(good), row
    assert "Traceback" not in result.output
    status = run_supv("controller", "status", "-i", server.spec, "--json")
    assert status.exit_code == 0, status.output
    data = json.loads(status.stdout)
    assert (data["acting"], data["recent"], data["unreachable"]) == ("s1", ["a decision"], []), data


def test_only_hostile_lines_is_no_controller_state(supervisord: SupervisordFactory, tmp_path: Path) -> None:
    server = supervisord(nick="s1", programs={"supv_controller": {"command": stand_in(tmp_path, HOSTILE),
                                                                  "startsecs": 0}})
    printed(server)
    result = run_supv("instances", "-i", server.spec, "--json")
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert (row["state"], row["error_kind"], row["controller"]) == ("RUNNING", None, None), row
