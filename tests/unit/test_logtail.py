"""Reading logs in bounded memory (``supv logs``): the cursor and the follower, answered by Supervisor's
own ``tailFile`` / ``readFile`` over real files (what supervisord runs for tailProcessStdoutLog and
readProcessStdoutLog)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from supervisor.options import readFile, tailFile

from supv_cli.cluster.client import CallError
from supv_cli.look import logtail
from supv_cli.look.follow import LogFollower
from supv_cli.look.logtail import LogCursor, LogLine, Notice, Source, locate
from supv_cli.model.instances import parse_instance
from supv_cli.model.snapshot import InstanceSnapshot, ProcessInfo, ProcessState, Snapshot, Unreachable

SRC = Source("a", "app:p")
INSTANCE = parse_instance("<a>127.0.0.1:61000")


class FakeSupervisord:
    """Answers the log calls of one instance like supervisord does, from real files (path per process)."""

    def __init__(self, files: dict[str, Path | None], states: dict[str, ProcessState] | None = None) -> None:
        self.files = files
        self.states = states if states is not None else {}

    def answer(self, method: str, params: tuple[Any, ...]) -> Any:
        name = params[0]
        path = self.files.get(name)
        if method == "supervisor.getProcessInfo":
            # a process that ran has a start time (and its AUTO log file was created when it started)
            ran = name in self.states or (path is not None and path.exists())
            return {"name": name, "stdout_logfile": str(path) if path else "", "stderr_logfile": "",
                    "state": int(self.states.get(name, ProcessState.STOPPED)), "start": 1_700_000_000 if ran else 0}
        if path is None or not path.exists():
            return ["", 0, False] if "tail" in method else CallError(INSTANCE, Unreachable.FAULT, "fault: NO_FILE", 20)
        if "tail" in method:
            data, size, overflow = tailFile(str(path), params[1], params[2])
            return [data.decode("utf-8") if isinstance(data, bytes) else data, size, overflow]
        raw = readFile(str(path), params[1], params[2])
        try:
            return raw.decode("utf-8")        # supervisord's as_string: strict
        except UnicodeDecodeError as error:
            return CallError(INSTANCE, Unreachable.FAULT, f"fault: FAILED: <class 'UnicodeDecodeError'>:{error}", 30)

    def run(self, calls: Any) -> list[Any]:
        return [self.answer(method, params) for method, params in calls]


def poll(cursor: LogCursor, server: FakeSupervisord) -> list[Any]:
    return cursor.take(server.run(cursor.calls()))


def texts(items: list[Any]) -> list[str]:
    return [item.text if isinstance(item, LogLine) else f"! {item.message}" for item in items]


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "p.log"
    path.write_bytes(b"")
    return path


def append(path: Path, data: bytes) -> None:
    with open(path, "ab") as stream:
        stream.write(data)


def test_backlog_keeps_the_last_lines_and_holds_a_partial_one(log):
    append(log, b"".join(b"line %d\n" % n for n in range(20)) + b"half")
    server = FakeSupervisord({"app:p": log})
    cursor = LogCursor(SRC, lines=3)
    assert texts(poll(cursor, server)) == ["line 17", "line 18", "line 19"]
    assert texts(poll(cursor, server)) == []
    append(log, b" and the end\nnext")
    assert texts(poll(cursor, server)) == ["half and the end"]
    assert texts(cursor.flush()) == ["next"]


def test_backlog_bigger_than_what_is_read_back_drops_the_cut_line(log, monkeypatch):
    monkeypatch.setattr(logtail, "BACKLOG_MAX", 4096)
    append(log, b"x" * 5000 + b"\n" + b"short\n")
    cursor = LogCursor(SRC, lines=10)
    assert texts(poll(cursor, FakeSupervisord({"app:p": log}))) == ["short"]


def test_no_backlog_starts_at_the_end(log):
    append(log, b"old\n")
    server = FakeSupervisord({"app:p": log})
    cursor = LogCursor(SRC, lines=0)
    assert texts(poll(cursor, server)) == []
    append(log, b"new\n")
    assert texts(poll(cursor, server)) == ["new"]


def test_a_truncated_log_is_read_again_from_its_start(log):
    append(log, b"one\ntwo\nthree\n")
    server = FakeSupervisord({"app:p": log})
    cursor = LogCursor(SRC, lines=10)
    assert texts(poll(cursor, server)) == ["one", "two", "three"]
    append(log, b"held")
    assert texts(poll(cursor, server)) == []
    log.write_bytes(b"after\n")                      # rotated: smaller than the offset
    assert texts(poll(cursor, server)) == ["held", "! log rotated or truncated: reading it from the start"]
    assert texts(poll(cursor, server)) == ["after"]


def test_a_new_log_file_is_read_from_its_start(log, tmp_path):
    append(log, b"one\n")
    files: dict[str, Path | None] = {"app:p": log}
    server = FakeSupervisord(files)
    cursor = LogCursor(SRC, lines=10)
    assert texts(poll(cursor, server)) == ["one"]
    other = tmp_path / "p-new.log"
    other.write_bytes(b"first of the new file\n")
    files["app:p"] = other
    assert texts(poll(cursor, server)) == [f"! new log file {other}: reading it from the start"]
    assert texts(poll(cursor, server)) == ["first of the new file"]


def test_memory_is_bounded_when_the_log_grows_fast(log, monkeypatch):
    monkeypatch.setattr(logtail, "CHUNK", 1000)
    monkeypatch.setattr(logtail, "MAX_LAG", 4000)
    server = FakeSupervisord({"app:p": log})
    cursor = LogCursor(SRC, lines=0)
    poll(cursor, server)
    append(log, b"".join(b"%09d\n" % n for n in range(3000)))      # 30000 bytes at once
    items = poll(cursor, server)
    assert len([i for i in items if isinstance(i, LogLine)]) == 100   # one chunk read
    notice = items[-1]
    assert isinstance(notice, Notice) and notice.message.startswith("28000 bytes skipped")
    items = poll(cursor, server)
    lines = texts(items)
    assert lines[-1] == "000002999" and len(lines) == 100                  # the last chunk, whole lines
    assert cursor.offset == log.stat().st_size


def test_a_line_longer_than_the_limit_comes_out_in_pieces(log, monkeypatch):
    monkeypatch.setattr(logtail, "MAX_LINE", 10)
    server = FakeSupervisord({"app:p": log})
    cursor = LogCursor(SRC, lines=0)
    poll(cursor, server)
    append(log, b"a" * 25)
    assert texts(poll(cursor, server)) == ["a" * 10, "a" * 10]
    assert cursor.pending == b"a" * 5
    append(log, b"\n")
    assert texts(poll(cursor, server)) == ["a" * 5]


def test_a_read_cutting_a_character_retries_with_one_byte_less(log, monkeypatch):
    monkeypatch.setattr(logtail, "CHUNK", 8)
    server = FakeSupervisord({"app:p": log})
    cursor = LogCursor(SRC, lines=0)
    poll(cursor, server)
    append(log, "abcdefg\u00e9\n".encode())          # the 'é' (2 bytes) straddles byte 8
    assert texts(poll(cursor, server)) == []              # refused by supervisord: retried shorter
    assert texts(poll(cursor, server)) == []              # 7 bytes read: 'abcdefg', no end of line yet
    assert texts(poll(cursor, server)) == ["abcdefg\u00e9"]


def test_an_undecodable_byte_is_skipped(log):
    server = FakeSupervisord({"app:p": log})
    cursor = LogCursor(SRC, lines=0)
    poll(cursor, server)
    append(log, b"\xffok\n")
    out: list[str] = []
    for _ in range(6):
        out += texts(poll(cursor, server))
    assert out == ["! a byte that is not UTF-8 was skipped", "ok"]


def test_no_log_file_is_said_once(tmp_path):
    server = FakeSupervisord({"app:p": None})
    cursor = LogCursor(SRC, lines=10)
    first = poll(cursor, server)
    assert len(first) == 1 and "stdout_logfile=NONE" in first[0].message
    assert poll(cursor, server) == [] and cursor.no_file
    stderr = LogCursor(Source("a", "app:p", "stderr"))
    assert "redirect_stderr=true" in poll(stderr, server)[0].message


def test_a_log_not_created_yet_is_empty(tmp_path):
    path = tmp_path / "later.log"
    server = FakeSupervisord({"app:p": path})
    cursor = LogCursor(SRC, lines=10, offset=0)       # as after a move to an instance where it never ran
    assert poll(cursor, server) == []
    path.write_bytes(b"first\n")
    assert texts(poll(cursor, server)) == ["first"]


def test_a_process_that_never_started_is_said_so(tmp_path):
    path = tmp_path / "never.log"                     # AUTO: created when the process starts
    server = FakeSupervisord({"app:p": path})
    cursor = LogCursor(SRC, lines=10)
    assert texts(poll(cursor, server)) == [f"! {logtail.NEVER_STARTED}"]
    assert poll(cursor, server) == []                 # said once; then waiting for its first line
    path.write_bytes(b"first\n")
    assert texts(poll(cursor, server)) == ["first"]
    empty = tmp_path / "empty.log"                    # it ran and printed nothing: nothing to say
    empty.write_bytes(b"")
    assert poll(LogCursor(SRC, lines=10), FakeSupervisord({"app:p": empty})) == []


def test_json_and_plain_lines():
    line = LogLine(Source("server_1", "scen3_srv:scen3_srv_db", "stderr"), "ready")
    assert line.prefixed() == "server_1 scen3_srv:scen3_srv_db | ready"
    assert line.to_dict() == {"instance": "server_1", "application_name": "scen3_srv",
                              "process_name": "scen3_srv_db", "stream": "stderr", "line": "ready"}


# --------------------------------------------------------------------------------------------- the follower

NICKS = ("a", "b")
INSTANCES = {nick: parse_instance(f"<{nick}>127.0.0.1:{61010 + n}") for n, nick in enumerate(NICKS)}


def cluster(**where: Any) -> Snapshot:
    """``cluster(a={"app:p": (S.RUNNING, stop)}, b=None)``: None is an unreachable instance."""
    snaps = []
    for nick in NICKS:
        value = where.get(nick, {})
        if value is None:
            snaps.append(InstanceSnapshot(INSTANCES[nick], "UNREACHABLE", "connection refused",
                                          error_kind=Unreachable.REFUSED))
            continue
        infos = tuple(ProcessInfo(ns.split(":")[0], ns.split(":")[1], state, stop=stop)
                      for ns, (state, stop) in value.items())
        snaps.append(InstanceSnapshot(INSTANCES[nick], "RUNNING", processes=infos))
    return Snapshot(tuple(snaps))


S = ProcessState


def follow(follower: LogFollower, snapshot: Snapshot, servers: dict[str, FakeSupervisord | None]) -> list[str]:
    asks, items = follower.plan(snapshot)
    out = list(items)
    for ask in asks:
        server = servers.get(ask.source.nick)
        results: Any = (CallError(INSTANCES[ask.source.nick], Unreachable.REFUSED, "connection refused")
                        if server is None else server.run(ask.calls))
        out += follower.take(ask, results)
    return [item.prefixed() if isinstance(item, LogLine) else f"! {item.line()}" for item in out]


def test_two_processes_interleave_line_by_line(tmp_path):
    p, q = tmp_path / "p.log", tmp_path / "q.log"
    p.write_bytes(b"p1\n")
    q.write_bytes(b"q1\nq2 start")
    server = FakeSupervisord({"app:p": p, "app:q": q})
    snapshot = cluster(a={"app:p": (S.RUNNING, 0), "app:q": (S.RUNNING, 0)})
    follower = LogFollower(["app:p", "app:q"], lines=5)
    assert follow(follower, snapshot, {"a": server}) == ["a app:p | p1", "a app:q | q1"]
    append(p, b"p2\np3 ")
    append(q, b" end\n")
    assert follow(follower, snapshot, {"a": server}) == ["a app:p | p2", "a app:q | q2 start end"]
    append(p, b"done\n")
    assert follow(follower, snapshot, {"a": server}) == ["a app:p | p3 done"]


def test_a_moving_process_is_followed_from_where_its_new_log_was(tmp_path):
    on_a, on_b = tmp_path / "a.log", tmp_path / "b.log"
    on_a.write_bytes(b"a1\n")
    on_b.write_bytes(b"old run on b\n")
    servers: dict[str, FakeSupervisord | None] = {"a": FakeSupervisord({"app:p": on_a}),
                                                   "b": FakeSupervisord({"app:p": on_b})}
    follower = LogFollower(["app:p"], lines=5)
    running_a = cluster(a={"app:p": (S.RUNNING, 0)}, b={"app:p": (S.STOPPED, 5.0)})
    assert follow(follower, running_a, servers) == ["a app:p | a1"]
    append(on_a, b"a2 partial")
    append(on_b, b"new run on b\n")                                   # started on b, a lost
    servers["a"] = None
    moved = cluster(a=None, b={"app:p": (S.RUNNING, 0)})
    assert follow(follower, moved, servers) == [
        "! app:p on b: runs here now (was on a): following this log", "b app:p | new run on b"]
    append(on_b, b"more\n")
    assert follow(follower, moved, servers) == ["b app:p | more"]


def test_a_size_taken_after_the_process_started_there_is_not_used(tmp_path):
    """The snapshot said 'not running on b', but it started there before the size was asked: the size
    asked in the same multicall as the state is then known to hold new lines, and the older one is used."""
    on_a, on_b = tmp_path / "a.log", tmp_path / "b.log"
    on_a.write_bytes(b"a1\n")
    on_b.write_bytes(b"old\n")
    b_states: dict[str, ProcessState] = {}
    servers: dict[str, FakeSupervisord | None] = {"a": FakeSupervisord({"app:p": on_a}),
                                                   "b": FakeSupervisord({"app:p": on_b}, b_states)}
    follower = LogFollower(["app:p"], lines=0)
    before = cluster(a={"app:p": (S.RUNNING, 0)}, b={"app:p": (S.STOPPED, 0)})
    assert follow(follower, before, servers) == []                     # size of b.log: 4
    b_states["app:p"] = S.RUNNING                                       # starts on b between snapshot and probe
    append(on_b, b"new 1\n")
    assert follow(follower, before, servers) == []                     # probe of b sees RUNNING: 4 kept
    moved = cluster(a={"app:p": (S.STOPPED, 1.0)}, b={"app:p": (S.RUNNING, 0)})
    assert follow(follower, moved, servers)[1:] == ["b app:p | new 1"]


def test_the_instance_of_the_log_going_away_is_said_once(tmp_path):
    on_a = tmp_path / "a.log"
    on_a.write_bytes(b"a1\n")
    servers: dict[str, FakeSupervisord | None] = {"a": FakeSupervisord({"app:p": on_a})}
    follower = LogFollower(["app:p"], lines=5)
    snapshot = cluster(a={"app:p": (S.RUNNING, 0)}, b={})
    follow(follower, snapshot, servers)
    servers["a"] = None                # the snapshot still saw it: the read itself fails
    assert follow(follower, snapshot, servers) == ["! app:p on a: connection refused"]
    assert follow(follower, snapshot, servers) == []
    gone = cluster(a=None, b={"app:p": (S.STOPPED, 0)})      # then the snapshot sees it gone
    waiting = ["! app:p on a: the instance does not answer: waiting for it, or for the process to start elsewhere"]
    assert follow(follower, gone, servers) == waiting
    assert follow(follower, gone, servers) == []
    servers["a"] = FakeSupervisord({"app:p": on_a})
    append(on_a, b"back\n")
    assert follow(follower, snapshot, servers) == ["a app:p | back"]
    servers["a"] = None
    assert follow(follower, gone, servers) == waiting         # said again after it was back


LOCATE = [
    ("running", cluster(a={"app:p": (S.STOPPED, 9)}, b={"app:p": (S.RUNNING, 0)}), None, "b"),
    ("stopped everywhere: the last stop", cluster(a={"app:p": (S.STOPPED, 9)}, b={"app:p": (S.EXITED, 3)}),
     None, "a"),
    ("stop ties: the first listed", cluster(a={"app:p": (S.STOPPED, 0)}, b={"app:p": (S.STOPPED, 0)}), None, "a"),
    ("a follower stays while it runs nowhere", cluster(a={"app:p": (S.STOPPED, 9)}, b={"app:p": (S.STOPPED, 1)}),
     "b", "b"),
    ("a follower stays on one of a conflict", cluster(a={"app:p": (S.RUNNING, 0)}, b={"app:p": (S.RUNNING, 0)}),
     "b", "b"),
    ("known by an unreachable instance only", cluster(a=None, b={}), None, None),
]


@pytest.mark.parametrize("snapshot, current, expected", [c[1:] for c in LOCATE], ids=[c[0] for c in LOCATE])
def test_locate(snapshot, current, expected):
    assert locate(snapshot, "app:p", current) == expected
