"""A hostile or broken peer among the instances (a small fake HTTP server per hostile answer): the
one-shot commands and the controller report it with a one-line reason within --timeout + 1 s, and
the controller backs it off. The memory it costs is measured by bench/hostile.py."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

from tests.support.cli import run_supv
from tests.support.hostile import KINDS, HostileServer
from tests.support.supervisord import Supervisord

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 2.0
REASONS = {
    "huge": "not a supervisord (an answer over 16 MiB, the cap; see SUPV_MAX_ANSWER)",
    "endless": "not a supervisord (an answer over 16 MiB, the cap; see SUPV_MAX_ANSWER)",
    "entities": "not a supervisord (a DOCTYPE in the answer: entities and DTDs are refused)",
    "doctype": "not a supervisord (a DOCTYPE in the answer: entities and DTDs are refused)",
    "deep": "not a supervisord (the answer nests values deeper than 32 levels)",
}


@pytest.mark.parametrize("kind", KINDS)
def test_one_shot_command_reports_a_hostile_peer(kind: str) -> None:
    with HostileServer(kind) as server:
        started = time.monotonic()
        result = run_supv("instances", "-i", server.spec, "--timeout", f"{TIMEOUT:g}")
        elapsed = time.monotonic() - started
    assert elapsed <= TIMEOUT + 1.0
    assert result.exit_code == 3
    about = [line for line in result.stderr.splitlines() if f":{server.port}" in line]
    assert about == [f"supv: warning: {kind} (http://127.0.0.1:{server.port}): {REASONS[kind]}"]
    assert "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def answering(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Supervisord, Path]]:
    workdir = tmp_path_factory.mktemp("hostile")
    rules = workdir / "rules.xml"
    rules.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<root></root>\n')
    server = Supervisord(workdir / "s1", nick="s1", programs={"p": {"command": "sleep 1000", "autostart": False}})
    server.start()
    try:
        yield server, rules
    finally:
        server.stop()


def stamp_seconds(line: str) -> float:
    """Seconds of the day of a controller log line (``2026-12-07T14:00:48.985 ...``)."""
    hours, minutes, seconds = line.split()[0].split("T")[1].split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


@pytest.mark.parametrize("kind", KINDS)
def test_controller_reports_and_backs_off_a_hostile_peer(answering: tuple[Supervisord, Path], kind: str) -> None:
    server, rules = answering
    with HostileServer(kind) as hostile:
        controller = subprocess.Popen(
            [sys.executable, "-m", "supv_cli", "run-plan", "--watch", "-i", f"{server.spec} {hostile.spec}",
             "-r", str(rules), "--timeout", f"{TIMEOUT:g}", "--quorum", "1", "--lost-after", "1"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
        try:
            time.sleep(4.0)
        finally:
            controller.terminate()
            _, err = controller.communicate(timeout=15)
        asked = hostile.connections
    lines = err.decode().splitlines()
    assert "Traceback" not in err.decode()
    (start,) = [line for line in lines if " start " in line]
    (lost,) = [line for line in lines if " lost " in line]
    assert lost.endswith(f"{kind} on {kind}: lost after 1 missed polls ({REASONS[kind]})")
    assert stamp_seconds(lost) - stamp_seconds(start) <= TIMEOUT + 1.0
    # asked at once, then after 1 s and 2 s more of back-off (not every 0.5 s cycle: 8 times)
    assert 1 <= asked <= 3
