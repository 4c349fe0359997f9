"""Economical polling on real supervisord: kept connections, the configuration cache and its
invalidation, unchanged answers given as the same objects, watched instances (cluster/polling.py)."""

from __future__ import annotations

import http.server
import threading
import time
import xmlrpc.client
from typing import Any

import pytest

from supv_cli.cluster.session import ClusterSession
from supv_cli.cluster.settings import ClusterSettings
from supv_cli.cluster.transport import TimeoutTransport
from supv_cli.model.instances import InstanceList
from supv_cli.model.snapshot import InstanceSnapshot, ProcessState, Unreachable
from tests.conftest import SupervisordFactory
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

PROGRAMS: dict[str, dict[str, Any]] = {
    "sleeper": {"command": "sleep 1000", "startsecs": 0, "stopwaitsecs": 2},
    "idle": {"command": "sleep 1000", "autostart": False, "startsecs": 5},
}


def session_on(*servers: Any, timeout: float = 2.0) -> ClusterSession:
    return ClusterSession(ClusterSettings(instances=InstanceList.parse([s.spec for s in servers]), timeout=timeout))


def only(session: ClusterSession, **kwargs: Any) -> InstanceSnapshot:
    (snap,) = session.poller.poll(**kwargs).instances
    return snap


def by_name(snap: InstanceSnapshot) -> dict[str, Any]:
    return {info.name: info for info in snap.processes}


@pytest.mark.parametrize("unix", [False, True], ids=["http", "unix"])
def test_one_kept_connection_and_unchanged_answers(supervisord: SupervisordFactory, unix: bool) -> None:
    server = supervisord(nick="s1", programs=PROGRAMS, unix=unix)
    server.wait_process("sleeper", ["RUNNING"])
    session = session_on(server)
    client = session.client(session.instances[0])
    first = only(session)
    assert (first.state, by_name(first)["idle"].startsecs, by_name(first)["sleeper"].stopwaitsecs) == ("RUNNING", 5, 2)
    for _ in range(5):
        assert only(session) is first  # only the clock moved: the very same answer
        assert only(session, full=()) is first  # watched: nothing asked
    assert client.connections == 1
    client.call("supervisor.startProcess", "idle", False)
    server.wait_process("idle", ["STARTING", "RUNNING"])
    changed = only(session)
    assert changed is not first and by_name(changed)["idle"].state in (ProcessState.STARTING, ProcessState.RUNNING)
    assert by_name(changed)["idle"].startsecs == 5  # the cached configuration
    assert client.connections == 1


def test_configuration_fetched_again_when_the_process_list_or_supervisord_changes(
        supervisord: SupervisordFactory) -> None:
    server = supervisord(nick="s1", programs=PROGRAMS)
    session = session_on(server, timeout=5.0)
    client = session.client(session.instances[0])
    assert "extra" not in by_name(only(session))
    # supervisorctl reread + add: a new process, its configuration with it
    server.programs["extra"] = {"command": "sleep 1000", "autostart": False, "startsecs": 7}
    server._write_config()
    client.call("supervisor.reloadConfig")
    client.call("supervisor.addProcessGroup", "extra")
    assert by_name(only(session))["extra"].startsecs == 7
    # supervisord restarted in place with another configuration: its connections close, it is read again
    server.programs["idle"]["startsecs"] = 9
    server._write_config()
    client.call("supervisor.restart")
    wait_for("supervisord restarted in place", lambda: restarted(server), bool, deadline=20.0,  # another connection
             every=0.2)
    snap = only(session)  # its kept connection was closed by the restart: a new one, a new configuration
    assert by_name(snap)["idle"].startsecs == 9
    assert client.connections == 2


def restarted(server: Any) -> bool:
    try:
        proxy = server.proxy(2.0)
        configs = proxy.supervisor.getAllConfigInfo()
        return bool(proxy.supervisor.getState()["statename"] == "RUNNING"
                    and any(c["name"] == "idle" and c["startsecs"] == 9 for c in configs))
    except Exception:  # restarting
        return False


def test_watched_instances(supervisord: SupervisordFactory) -> None:
    frozen = supervisord(nick="frozen", programs=PROGRAMS)
    killed = supervisord(nick="killed", programs=PROGRAMS)
    session = session_on(frozen, killed, timeout=2.0)
    before = session.poller.poll()
    assert all(snap.usable for snap in before)
    frozen.sigstop()
    killed.kill9()
    started = time.monotonic()
    after = session.poller.poll(full=())
    elapsed = time.monotonic() - started
    # a supervisord that dies closes its connections: seen at once, without waiting for anything
    assert (after.instances[1].error_kind, after.instances[1].usable) == (Unreachable.REFUSED, False)
    # a frozen one keeps its connection open: only a probe or a full poll tells (the call timeout)
    assert after.instances[0] is before.instances[0]
    assert elapsed < 1.0
    probed = session.poller.poll(full=(), probe={"frozen"})
    assert probed.instances[0].error_kind is Unreachable.TIMEOUT
    frozen.sigcont()


class _ChunkedHandler(http.server.BaseHTTPRequestHandler):
    """An XML-RPC server keeping its connections alive, answering by chunks every other time (as a
    reverse proxy may), with a Content-Length otherwise."""

    protocol_version = "HTTP/1.1"
    count = 0

    def do_POST(self) -> None:  # noqa: N802 (http.server naming)
        self.rfile.read(int(self.headers["Content-Length"]))
        type(self).count += 1
        body = xmlrpc.client.dumps(({"statename": "RUNNING", "answer": self.count},), methodresponse=True).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        if self.count % 2:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(body), 100):
                piece = body[start:start + 100]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_chunked_answers_over_one_kept_connection() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ChunkedHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        transport = TimeoutTransport(f"http://127.0.0.1:{server.server_address[1]}", 5.0)
        proxy = xmlrpc.client.ServerProxy(f"http://127.0.0.1:{server.server_address[1]}/RPC2", transport=transport)
        assert [proxy.supervisor.getState()["answer"] for _ in range(4)] == [1, 2, 3, 4]
        assert transport.connections == 1
        transport.close()
    finally:
        server.shutdown()
        server.server_close()
