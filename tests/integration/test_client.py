"""The XML-RPC client against real supervisord processes (http and unix sockets, auth, failures)."""

from __future__ import annotations

import dataclasses
import http.server
import socket
import threading
import time
from typing import Any, Iterator

import pytest

from supv_cli.cluster.client import CallError
from supv_cli.errors import ExitCode
from supv_cli.model.instances import InstanceList, parse_instance
from supv_cli.model.snapshot import Faults, ProcessState, Unreachable
from tests.conftest import SupervisordFactory
from tests.support.calls import call, multicall_many, run_on, take_snapshot

pytestmark = pytest.mark.integration

PROGRAMS: dict[str, dict[str, Any]] = {
    "sleeper": {"command": "sleep 1000", "startsecs": 0, "stopwaitsecs": 2},
    "exit_ok": {"command": "sh -c 'exit 3'", "autorestart": False, "exitcodes": "0,3"},
    "exit_bad": {"command": "sh -c 'exit 4'", "autorestart": False, "startsecs": 0},
    "idle": {"command": "sleep 1000", "autostart": False, "startsecs": 5},
}


def settle(server: Any) -> None:
    server.wait_process("exit_ok", ["EXITED"])
    server.wait_process("exit_bad", ["EXITED"])


@pytest.mark.parametrize("unix", [False, True], ids=["http", "unix"])
def test_snapshot_merges_process_and_config_info(supervisord: SupervisordFactory, unix: bool) -> None:
    server = supervisord(nick="s1", programs=PROGRAMS, unix=unix)
    settle(server)
    instances = InstanceList.parse([server.spec])
    snapshot = take_snapshot(instances, timeout=5.0)
    (snap,) = snapshot.instances
    assert (snap.state, snap.error_kind, snap.reachable, snap.usable) == ("RUNNING", None, True, True)
    by_name = {info.name: info for info in snap.processes}
    assert sorted(by_name) == ["exit_bad", "exit_ok", "idle", "sleeper"]
    sleeper = by_name["sleeper"]
    assert sleeper.state is ProcessState.RUNNING and sleeper.pid > 0 and sleeper.running
    assert (sleeper.startsecs, sleeper.stopwaitsecs, sleeper.exitcodes, sleeper.autostart) == (
        0, 2, (0,), True)
    exit_ok, exit_bad = by_name["exit_ok"], by_name["exit_bad"]
    assert (exit_ok.state, exit_ok.exitstatus, exit_ok.exitcodes, exit_ok.expected_exit) == (
        ProcessState.EXITED, 3, (0, 3), True)
    assert (exit_bad.state, exit_bad.exitstatus, exit_bad.expected_exit) == (ProcessState.EXITED, 4, False)
    idle = by_name["idle"]
    assert (idle.state, idle.autostart, idle.startsecs, idle.stopped) == (
        ProcessState.STOPPED, False, 5, True)
    assert snapshot.info(instances[0], "sleeper:sleeper") == sleeper


def test_groups_and_the_same_program_on_two_instances(supervisord: SupervisordFactory) -> None:
    programs = {"worker": {"command": "sleep 1000"}, "cmd_1": {"command": "sleep 1000"},
                "cmd_2": {"command": "sleep 1000", "autostart": False}}
    one = supervisord(nick="one", programs=programs, groups={"app": ["cmd_1", "cmd_2"]})
    two = supervisord(nick="two", programs={"worker": {"command": "sleep 1000", "autostart": False}},
                      unix=True)
    instances = InstanceList.parse([one.spec, two.spec])
    one.wait_process("worker", ["RUNNING"])
    snapshot = take_snapshot(instances, timeout=5.0)
    assert [s.instance.nick for s in snapshot] == ["one", "two"]
    assert snapshot.info(instances[0], "worker:worker").state is ProcessState.RUNNING  # type: ignore[union-attr]
    assert snapshot.info(instances[1], "worker:worker").state is ProcessState.STOPPED  # type: ignore[union-attr]
    assert snapshot.info(instances[1], "app:cmd_1") is None
    assert sorted(snapshot.namespecs()) == ["app:cmd_1", "app:cmd_2", "worker:worker"]


@pytest.mark.parametrize("unix", [False, True], ids=["http", "unix"])
def test_authentication(supervisord: SupervisordFactory, unix: bool) -> None:
    server = supervisord(nick="secure", unix=unix, username="bob", password="s3cret",
                         programs={"sleeper": {"command": "sleep 1000"}})
    instances = InstanceList.parse([server.spec])
    good = take_snapshot(instances, timeout=5.0, username="bob", password="s3cret")
    assert good.instances[0].state == "RUNNING"
    for username, password in (("bob", "wrong-pw"), (None, None), ("alice", "s3cret")):
        (snap,) = take_snapshot(instances, timeout=5.0, username=username, password=password).instances
        assert (snap.state, snap.error_kind) == ("UNREACHABLE", Unreachable.AUTH)
    with pytest.raises(CallError) as caught:
        call(instances[0], "supervisor.getState", timeout=5.0, username="bob", password="wrong-pw")
    error = caught.value
    assert error.kind is Unreachable.AUTH and error.exit_code == ExitCode.UNREACHABLE
    assert str(error).startswith(f"secure ({server.url}): authentication failed")
    assert "wrong-pw" not in str(error) + repr(error)


def test_per_instance_credentials_win(supervisord: SupervisordFactory) -> None:
    server = supervisord(nick="secure", username="bob", password="s3cret")
    instance = dataclasses.replace(parse_instance(server.spec), username="bob", password="s3cret")
    (snap,) = take_snapshot([instance], timeout=5.0, username="eve", password="nope").instances
    assert snap.state == "RUNNING"


@pytest.mark.parametrize("unix", [False, True], ids=["http", "unix"])
def test_killed_instance_is_refused(supervisord: SupervisordFactory, unix: bool) -> None:
    alive = supervisord(nick="alive")
    dead = supervisord(nick="dead", unix=unix, programs={"sleeper": {"command": "sleep 1000"}})
    dead.kill9()
    instances = InstanceList.parse([dead.spec, alive.spec])
    snapshot = take_snapshot(instances, timeout=5.0)
    assert [(s.state, s.error_kind) for s in snapshot] == [
        ("UNREACHABLE", Unreachable.REFUSED), ("RUNNING", None)]
    assert [s.instance.nick for s in snapshot.unreachable] == ["dead"]
    with pytest.raises(CallError, match=r"^dead \(.*\): connection refused"):
        call(instances[0], "supervisor.getState", timeout=5.0)


def test_missing_socket_file_is_refused(tmp_path: Any) -> None:
    instance = parse_instance(f"<ghost>unix://{tmp_path}/none.sock")
    with pytest.raises(CallError) as caught:
        call(instance, "supervisor.getState", timeout=2.0)
    assert caught.value.kind is Unreachable.REFUSED


def test_hung_instance_times_out_within_the_timeout(supervisord: SupervisordFactory) -> None:
    hung = supervisord(nick="hung")
    hung_unix = supervisord(nick="hung_unix", unix=True)
    fine = supervisord(nick="fine")
    hung.sigstop()
    hung_unix.sigstop()
    instances = InstanceList.parse([hung.spec, hung_unix.spec, fine.spec])
    timeout = 1.0
    started = time.monotonic()
    snapshot = take_snapshot(instances, timeout=timeout)
    elapsed = time.monotonic() - started
    assert [s.error_kind for s in snapshot] == [Unreachable.TIMEOUT, Unreachable.TIMEOUT, None]
    assert snapshot.instances[2].state == "RUNNING"
    # the documented contract: a hung instance never delays a command beyond --timeout
    assert elapsed < timeout + 1.0
    with pytest.raises(CallError) as caught:
        call(instances[0], "supervisor.getState", timeout=0.5)
    assert caught.value.kind is Unreachable.TIMEOUT
    hung.sigcont()
    assert take_snapshot(instances[:1], timeout=5.0).instances[0].state == "RUNNING"


class _Handler(http.server.BaseHTTPRequestHandler):
    """A web server that is not supervisord: 200 with HTML on /html, 501 on other POSTs."""

    def do_POST(self) -> None:  # noqa: N802 (http.server naming)
        if getattr(self.server, "html", False):
            body = b"<html><body>hello</body></html>"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_error(501, "Unsupported method")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def web_server() -> Iterator[Any]:
    servers: list[http.server.ThreadingHTTPServer] = []

    def make(html: bool) -> str:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.html = html  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"<web>127.0.0.1:{server.server_address[1]}"

    yield make
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("html", [False, True], ids=["http-501", "http-200-html"])
def test_not_a_supervisord(web_server: Any, html: bool) -> None:
    instances = InstanceList.parse([web_server(html)])
    (snap,) = take_snapshot(instances, timeout=5.0).instances
    assert (snap.state, snap.error_kind) == ("UNREACHABLE", Unreachable.PROTOCOL)
    assert snap.reason.startswith("not a supervisord")


def test_not_http_at_all() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def answer_garbage() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"SSH-2.0-OpenSSH_9.0\r\n")

    thread = threading.Thread(target=answer_garbage, daemon=True)
    thread.start()
    try:
        instance = parse_instance(f"<ssh>127.0.0.1:{listener.getsockname()[1]}")
        with pytest.raises(CallError) as caught:
            call(instance, "supervisor.getState", timeout=5.0)
        assert caught.value.kind is Unreachable.PROTOCOL
    finally:
        thread.join(5)
        listener.close()


TRICKLED = [
    # headers then a body that never ends: socket timeouts alone would wait for every byte
    b"HTTP/1.0 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 100000\r\n\r\n<?xml version='1.0'?>",
    # headers that never end
    b"HTTP/1.0 200 OK\r\n",
]


@pytest.mark.parametrize("head", TRICKLED, ids=["body", "headers"])
def test_trickling_server_times_out(head: bytes) -> None:
    """A server sending a byte now and then, well within each socket timeout, for much longer than
    the call's timeout: the call must end as TIMEOUT (without a deadline it would end as PROTOCOL
    when the server gives up)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    stop = threading.Event()

    def trickle() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(head)
            for _ in range(150):
                if stop.wait(0.1):
                    return
                try:
                    conn.sendall(b" " if head.endswith(b"?>") else b"X-Slow: 1\r\n")
                except OSError:
                    return

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    try:
        instance = parse_instance(f"<slow>127.0.0.1:{listener.getsockname()[1]}")
        with pytest.raises(CallError) as caught:
            call(instance, "supervisor.getState", timeout=1.0)
        assert caught.value.kind is Unreachable.TIMEOUT
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def test_faults_and_actions(supervisord: SupervisordFactory) -> None:
    server = supervisord(nick="s1", programs=PROGRAMS)
    instance = parse_instance(server.spec)
    with pytest.raises(CallError) as caught:
        call(instance, "supervisor.getProcessInfo", "no_such_process", timeout=5.0)
    fault = caught.value
    assert (fault.kind, fault.fault_code, fault.exit_code) == (
        Unreachable.FAULT, Faults.BAD_NAME, ExitCode.FAILED)
    assert "BAD_NAME" in fault.reason
    server.wait_process("sleeper", ["RUNNING"])
    results = run_on(instance, [("supervisor.startProcess", ("idle", False)),
                                ("supervisor.startProcess", ("sleeper", False)),
                                ("supervisor.getState", ())], timeout=5.0)
    assert results[0] is True
    assert isinstance(results[1], CallError) and results[1].fault_code == Faults.ALREADY_STARTED
    assert results[2]["statename"] == "RUNNING"
    server.wait_process("idle", ["STARTING", "RUNNING"])
    assert run_on(instance, [("supervisor.stopProcess", ("idle", False))], timeout=5.0) == [True]
    server.wait_process("idle", ["STOPPED"])


def test_multicall_many(supervisord: SupervisordFactory) -> None:
    one = supervisord(nick="one")
    two = supervisord(nick="two", unix=True)
    dead = supervisord(nick="dead")
    dead.kill9()
    instances = InstanceList.parse([one.spec, dead.spec, two.spec])
    results = multicall_many(instances, [("supervisor.getIdentification", ())], timeout=5.0)
    assert results[0] == ["one"] and results[2] == ["two"]
    assert isinstance(results[1], CallError) and results[1].kind is Unreachable.REFUSED


def test_session_ask_groups_the_calls_of_an_instance_in_one_multicall(supervisord: SupervisordFactory) -> None:
    """``ClusterSession.ask`` (what ``supv logs`` asks through): the groups of one instance in one
    ``system.multicall``, each group given its own results in order, an instance's failure to each of its
    groups, a refused call as a FAULT in its place."""
    from tests.support.calls import close, session_of

    one = supervisord(nick="one", programs=PROGRAMS)
    dead = supervisord(nick="dead")
    dead.kill9()
    instances = InstanceList.parse([one.spec, dead.spec])
    session = session_of(instances, timeout=5.0)
    try:
        answers = session.ask([
            (instances[0], [("supervisor.getIdentification", ()), ("supervisor.getState", ())]),
            (instances[1], [("supervisor.getIdentification", ())]),
            (instances[0], []),
            (instances[0], [("supervisor.getProcessInfo", ("no_such_process",)), ("system.listMethods", ())]),
        ])
    finally:
        close(session)
    first, lost, empty, last = answers
    assert first[0] == "one" and first[1]["statename"] == "RUNNING"
    assert isinstance(lost, CallError) and lost.kind is Unreachable.REFUSED
    assert empty == []
    assert isinstance(last[0], CallError) and last[0].fault_code == Faults.BAD_NAME
    assert "supervisor.getState" in last[1]
