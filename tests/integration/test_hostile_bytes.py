"""Issue 17 item 7: names and log lines from supervisord never drive the terminal.

A real supervisord runs a program whose log holds an OSC title, a line forgery (``CSI 1A`` ``CSI 2K``)
and a BEL, and a program whose very name holds them. Through every view: on a terminal the control
characters are shown visibly (``\\x1b``), in a pipe the bytes stay as they are, JSON escapes them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from supv_cli.cli.terminal import Terminal
from supv_cli.errors import ExitCode
from tests.conftest import SupervisordFactory
from tests.support.cli import run_supv
from tests.support.supervisord import Supervisord
from tests.support.terminal import OnTerminal
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

#: a name that forges the line above (cursor up, erase line) and rings
BAD = "bad\x1b[1A\x1b[2K\x07"
#: what must never reach a terminal raw: the name's sequence, the log's OSC title and forgery
RAW = ("\x1b[1A\x1b[2K", "\x1b]0;pwned", "\x07")
LOGGED = "\x1b]0;pwned\x07 \x1b[1A\x1b[2K forged \x07bell"
GOOD = {"command": "sh -c 'printf \"\\033]0;pwned\\007 \\033[1A\\033[2K forged \\007bell\\n\"; exec sleep 1000'"}
TTY = Terminal(out_tty=True, err_tty=True)


def hostile(supervisord: SupervisordFactory) -> Supervisord:
    server = supervisord(nick="s1", programs={"good": GOOD, BAD: {"command": "sleep 1000"}},
                         groups={"web": ["good", BAD]})
    server.wait_process("web:good", ["RUNNING"])
    # RUNNING (startsecs 0) may come before supervisord has logged the line on a busy machine
    wait_for("web:good has logged its line", lambda: server.proxy().supervisor.readProcessStdoutLog("web:good", 0, 0),
             lambda text: "forged" in text)
    return server


def assert_shown_visibly(text: str) -> None:
    assert not any(raw in text for raw in RAW), repr(text)
    assert "\x1b" not in text, repr(text)


def test_sstatus_and_application_views_on_a_terminal_a_pipe_and_json(supervisord: SupervisordFactory,
                                                                       tmp_path: Path) -> None:
    server = hostile(supervisord)
    for fmt in ("plain", "table"):
        result = run_supv("sstatus", "-i", server.spec, "--format", fmt, terminal=TTY)
        assert result.exit_code == 0, result.output
        assert_shown_visibly(result.stdout)
        assert "bad\\x1b[1A\\x1b[2K\\x07" in result.stdout
    # a table in a pipe is still a layout: visible; plain in a pipe: the bytes as supervisord gave them
    table = run_supv("sstatus", "-i", server.spec, "--format", "table")
    assert_shown_visibly(table.stdout)
    plain = run_supv("sstatus", "-i", server.spec, "--format", "plain")
    assert f"web          {BAD}" in plain.stdout
    listed = json.loads(run_supv("sstatus", "-i", server.spec, "--json").stdout)
    assert BAD in {row["process_name"] for row in listed}
    assert "\x1b" not in run_supv("sstatus", "-i", server.spec, "--json").stdout   # escaped as JSON does
    # a stderr message naming it: shown visibly on a terminal too
    missing = run_supv("sstatus", "-i", server.spec, f"web:{BAD}x", terminal=TTY)
    assert_shown_visibly(missing.stderr + missing.stdout)


def test_logs_shows_a_hostile_line_visibly_and_reports_the_name_it_cannot_send(
        supervisord: SupervisordFactory) -> None:
    server = hostile(supervisord)
    result = run_supv("logs", "-i", server.spec, "web:*", terminal=TTY)
    # the one process whose name XML-RPC cannot carry is reported; the others' logs are read
    assert result.exit_code == ExitCode.FAILED, result.output
    assert "not a supervisord" not in result.stderr
    assert "s1 web:good | \\x1b]0;pwned\\x07 \\x1b[1A\\x1b[2K forged \\x07bell" in result.stdout
    assert "web:bad\\x1b[1A\\x1b[2K\\x07 on s1: its name holds a control character" in result.stderr
    assert_shown_visibly(result.stdout + result.stderr)
    # in a pipe the line is as logged; in JSON escaped
    piped = run_supv("logs", "-i", server.spec, "web:good")
    assert (piped.exit_code, piped.stdout) == (0, f"s1 web:good | {LOGGED}\n")
    line = json.loads(run_supv("logs", "-i", server.spec, "--json", "web:good").stdout.splitlines()[0])
    assert line["line"] == LOGGED


def test_logs_follow_events_and_live_top_on_a_real_terminal(supervisord: SupervisordFactory) -> None:
    server = hostile(supervisord)
    with OnTerminal("logs", "-f", "-i", server.spec, "--interval", "0.2", "web:good") as logs:
        drawn = logs.read(30, until=b"bell")
    assert b"forged" in drawn and b"\\x1b]0;pwned\\x07" in drawn, drawn
    assert not any(raw.encode() in drawn for raw in RAW), drawn
    with OnTerminal("events", "-i", server.spec, "--interval", "0.2") as events:
        events.read(30, until=b"watching")
        server.proxy().supervisor.stopProcessGroup("web", False)  # (its name cannot be sent alone)
        drawn = events.read(30, until=b"STOPPED")
    assert b"bad\\x1b[1A\\x1b[2K\\x07" in drawn and b"STOPPED" in drawn, drawn
    assert not any(raw.encode() in drawn for raw in RAW), drawn
    with OnTerminal("top", "-i", server.spec, "--interval", "0.2", env={"COLUMNS": "120"}) as top:
        drawn = top.read(30, until=b"Last events")
        top.press(b"q")
        top.process.wait(20)
    assert b"Last events" in drawn, drawn
    assert b"\x1b[1A\x1b[2K" not in drawn and b"\x07" not in drawn and b"\x1b]0;" not in drawn, drawn


def test_run_plan_dry_run_shows_a_hostile_name_visibly(supervisord: SupervisordFactory, tmp_path: Path) -> None:
    server = hostile(supervisord)
    rules = tmp_path / "rules.xml"
    rules.write_text('<root><application name="web"><start_sequence>1</start_sequence><programs>'
                     '<program pattern="."><start_sequence>1</start_sequence></program>'
                     '</programs></application></root>')
    # (its name cannot be sent alone); not waited for by supervisord: its answer may outlast the proxy's
    # timeout on a busy machine
    server.proxy().supervisor.stopProcessGroup("web", False)
    wait_for("web stopped", lambda: {p["statename"] for p in server.proxy().supervisor.getAllProcessInfo()},
             lambda states: states == {"STOPPED"})
    result = run_supv("run-plan", "--dry-run", "-i", server.spec, "-r", str(rules), "--format", "plain",
                      "web", terminal=TTY)
    assert result.exit_code == 0, result.output
    assert "bad\\x1b[1A\\x1b[2K\\x07" in result.stdout + result.stderr, result.output
    assert_shown_visibly(result.stdout + result.stderr)


def test_live_top_with_no_color_has_no_attribute_at_all(supervisord: SupervisordFactory) -> None:
    # issue 17 (minor): NO_COLOR still gave bold, dim and underline
    server = hostile(supervisord)
    with OnTerminal("top", "-i", server.spec, "--interval", "0.2", env={"NO_COLOR": "1"}) as top:
        drawn = top.read(30, until=b"Last events")
        top.press(b"q")
        top.process.wait(20)
    assert b"Last events" in drawn, drawn
    # no SGR sequence at all (bold 1, dim 2, underline 4, colours): only cursor and screen control
    assert re.findall(rb"\x1b\[[0-9;]*m", drawn) == [], drawn
