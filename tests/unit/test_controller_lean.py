"""The controller's lean process (controller/main.py, issue 18): ``supv run-plan --watch`` re-executes
itself into ``python -m supv_cli.controller FD`` (same pid, the settings and rules handed over through a
file descriptor), which runs the loop without click, lxml, rich, tabulate nor http.client/xmlrpc.client.

Run time, in processes of their own: the real command against an instance that refuses connections (the
loop runs, misses polls, logs, prints state lines), read from /proc while it runs.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from supv_cli.cluster.settings import ClusterSettings
from supv_cli.controller.conciliation import Conciliation
from supv_cli.controller.core import ControllerOptions
from supv_cli.controller.main import Handover, handover_fd, read_handover, visible
from supv_cli.model.instances import InstanceList
from supv_cli.plan.run_types import RunOptions
from supv_cli.rules import load_rules

ROOT = Path(__file__).resolve().parents[2]
#: what the lean process must not load (their roots), nor these modules
HEAVY = ("click", "lxml", "rich", "tabulate", "email", "ssl", "decimal", "xmlrpc", "supv_cli.cli")
HEAVY_MODULES = ("http.client",)
#: shared objects of those packages: seen in /proc/PID/maps when loaded
HEAVY_LIBRARIES = ("lxml", "_ssl", "_decimal")
RULES = """<?xml version="1.0" encoding="UTF-8"?>
<root>
    <application name="app"><starting_strategy>CONFIG</starting_strategy></application>
</root>
"""
SECRET = "s3cr3t-pass"


def heavy(modules: list[str]) -> list[str]:
    return sorted(m for m in modules if m in HEAVY_MODULES or any(m == r or m.startswith(r + ".") for r in HEAVY))


def closed_port() -> int:
    """A local port nothing listens on (connections refused: the controller misses polls, quickly)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def env(**extra: str) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SUPV_")}
    environ["PYTHONPATH"] = str(ROOT) + (os.pathsep + environ["PYTHONPATH"] if environ.get("PYTHONPATH") else "")
    return {**environ, **extra}


def wait_for_line(path: Path, process: subprocess.Popen[bytes], seconds: float = 30.0) -> str:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        text = path.read_text() if path.exists() else ""
        if text.strip():
            return text.splitlines()[0]
        assert process.poll() is None, f"exited with {process.returncode}"
        time.sleep(0.05)
    raise AssertionError(f"no line in {path} within {seconds:g} s")


def stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def start_watch(tmp_path: Path, **extra: str) -> tuple[subprocess.Popen[bytes], Path, Path]:
    rules = tmp_path / "rules.xml"
    rules.write_text(RULES)
    out, err = tmp_path / "out", tmp_path / "err"
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "supv_cli", "run-plan", "--watch", "-i", f"<one>127.0.0.1:{closed_port()}",
             "-r", str(rules), "-u", "admin", "--password", SECRET],
            stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL, env=env(**extra), cwd=str(tmp_path))
    return process, out, err


def test_run_plan_watch_becomes_the_lean_controller(tmp_path: Path) -> None:
    process, out, err = start_watch(tmp_path)
    try:
        state = json.loads(wait_for_line(out, process))
        assert state["acting"] is False or state["acting"] is True  # a state line, from the same pid
        cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes().split(b"\0")
        assert cmdline[1:3] == [b"-m", b"supv_cli.controller"], cmdline
        assert SECRET.encode() not in b"\0".join(cmdline)  # nor the rest of the old command line
        assert SECRET.encode() not in Path(f"/proc/{process.pid}/environ").read_bytes()
        maps = Path(f"/proc/{process.pid}/maps").read_text()
        assert [lib for lib in HEAVY_LIBRARIES if lib in maps] == []
    finally:
        code = stop(process)
    log = err.read_text()
    assert code == 0, log
    assert " start " in log and "SIGTERM: stopped after" in log and SECRET not in log
    assert "running in place" not in log


def test_lean_controller_modules_at_run_time(tmp_path: Path) -> None:
    """The handover read in a fresh interpreter and the loop run: nothing heavy is ever imported (the
    rules were loaded with lxml here; unpickling them must not import it back)."""
    instances = InstanceList.parse([f"<one>127.0.0.1:{closed_port()}"])
    rules_file = tmp_path / "rules.xml"
    rules_file.write_text(RULES)
    rules = load_rules([str(rules_file)], instances)
    settings = ClusterSettings(instances=instances, rules_files=[str(rules_file)], username="admin",
                               password=SECRET, timeout=0.5)
    options = ControllerOptions(interval=0.1, lost_after=2, conciliate=Conciliation.INFANTICIDE, restart_budget=3,
                                budget_window=300.0, startup_grace=1.0, autostart=True, quorum=None,
                                controller_program="supv_controller", run=RunOptions(5.0, 5.0, lost_after=2))
    fd = handover_fd(Handover(settings, rules, options, None, (), json_lines=True))
    modules = tmp_path / "modules.json"
    code = ("import atexit, json, runpy, sys\n"
            f"atexit.register(lambda: open({str(modules)!r}, 'w').write(json.dumps(sorted(sys.modules))))\n"
            f"sys.argv = ['supv_cli.controller', '{fd}']\n"
            "runpy.run_module('supv_cli.controller', run_name='__main__', alter_sys=True)\n")
    with open(tmp_path / "err", "wb") as stderr, open(tmp_path / "out", "wb") as stdout:
        process = subprocess.Popen([sys.executable, "-c", code], pass_fds=(fd,), env=env(), stdout=stdout,
                                   stderr=stderr)
    os.close(fd)
    try:
        wait_for_line(tmp_path / "out", process)
        time.sleep(1.0)  # a few cycles: polls missed, the instance lost
    finally:
        assert stop(process) == 0, (tmp_path / "err").read_text()
    loaded = json.loads(modules.read_text())
    assert "supv_cli.controller.core" in loaded and "supv_cli.cluster.session" in loaded
    assert heavy(loaded) == []
    events = [json.loads(line)["event"] for line in (tmp_path / "err").read_text().splitlines()]
    assert events[0] == "start" and "lost" in events and events[-1] == "stop"


def test_in_place_when_asked(tmp_path: Path) -> None:
    """SUPV_CONTROLLER_LEAN=0: the command itself runs the loop (as under a test's captured streams)."""
    process, out, err = start_watch(tmp_path, SUPV_CONTROLLER_LEAN="0")
    try:
        wait_for_line(out, process)
        cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes().split(b"\0")
        assert cmdline[1:3] == [b"-m", b"supv_cli"]
    finally:
        assert stop(process) == 0, err.read_text()


def test_handover_round_trip() -> None:
    instances = InstanceList.parse(["<a>127.0.0.1:1", "<b>127.0.0.1:2"])
    handover = Handover(ClusterSettings(instances=instances, password=SECRET), None, {"x": 1},  # type: ignore[arg-type]
                        instances[0], ("app",), json_lines=False, err_tty=True)
    back = read_handover(handover_fd(handover))
    assert [i.nick for i in back.settings.instances] == ["a", "b"] and back.settings.password == SECRET
    assert back.local is not None and back.local.nick == "a" and back.local.url == "http://127.0.0.1:1"
    assert (back.options, back.applications, back.json_lines, back.err_tty) == ({"x": 1}, ("app",), False, True)


def test_handover_refuses_what_is_not_one() -> None:
    read_end, write_end = os.pipe()
    os.write(write_end, b"\x80\x04N.")  # None pickled
    os.close(write_end)
    with pytest.raises(TypeError, match="not a controller handover"):
        read_handover(read_end)


@pytest.mark.parametrize(("text", "shown"), [
    ("plain", "plain"),
    ("tab\tand\nnewline", "tab\tand\nnewline"),
    ("esc \x1b[2J bell \x07 del \x7f csi \x9b", "esc \\x1b[2J bell \\x07 del \\x7f csi \\x9b"),
])
def test_visible_is_the_terminal_s(text: str, shown: str) -> None:
    from supv_cli.cli.terminal import visible as terminal_visible

    assert visible(text) == terminal_visible(text) == shown


def test_bad_arguments_and_handover(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "supv_cli.controller"], env=env(), capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and "started by `supv run-plan --watch`" in done.stderr
    read_end, write_end = os.pipe()
    os.write(write_end, b"not a pickle")
    os.close(write_end)
    done = subprocess.run([sys.executable, "-m", "supv_cli.controller", str(read_end)], env=env(), pass_fds=(read_end,),
                          capture_output=True, text=True, timeout=60)
    os.close(read_end)
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "handover could not be read" in done.stderr


def test_fallback_when_exec_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An exec that fails: the reason, and the controller runs in place (tested without exec)."""
    from supv_cli.controller import main

    def refuse(*_: Any) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(main.os, "execve", refuse)
    handover = Handover(ClusterSettings(), None, None, None, (), json_lines=False)  # type: ignore[arg-type]
    note = main.reexecute(handover)
    assert note == "not re-executed into the lean controller (Permission denied): running in place"


def test_handover_without_memfd(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where there is no memfd_create (macOS): an unlinked temporary file, read the same way."""
    monkeypatch.delattr(os, "memfd_create", raising=False)
    instances = InstanceList.parse(["<a>127.0.0.1:1"])
    fd = handover_fd(Handover(ClusterSettings(instances=instances, password=SECRET), None, None,  # type: ignore[arg-type]
                              None, ("x" * 100_000,), json_lines=True))
    assert os.get_inheritable(fd) and not Path(os.readlink(f"/proc/self/fd/{fd}")).exists()
    back = read_handover(fd)
    assert back.applications == ("x" * 100_000,) and back.settings.password == SECRET


def test_release_freed_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """glibc's malloc_trim once a minute; nothing (False) where the C library has none."""
    from supv_cli.controller import main

    assert main.release_freed_memory() is True  # this test machine's glibc
    monkeypatch.setattr(main, "_TRIM", [None])
    assert main.release_freed_memory() is False
