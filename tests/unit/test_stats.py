"""Statistics, pure parts: the sampler's line, its stdin commands, the rows of ``supv stats`` and the
Prometheus families; the sampler's psutil measures and its local call on real processes and sockets."""

from __future__ import annotations

import io
import os
import socket
import threading
from typing import Any, Iterator

import pytest

from supv_cli.cli.metrics import parse_listen
from supv_cli.cli.stats import hint
from supv_cli.cluster.local import LocalCallError, LocalSupervisor
from supv_cli.cluster.stats import (
    HostSample,
    ProcessSample,
    Sample,
    SamplerReport,
    decode,
    encode,
    last_sample,
    sample_time_text,
    sampler_info,
)
from supv_cli.look.metrics import cluster_families, lost_processes, stats_families
from supv_cli.look.sampler import Commands, Sampler, parse_command, run
from supv_cli.look.stats import human_bytes, stats_rows
from supv_cli.model.instances import parse_instance
from supv_cli.model.snapshot import InstanceSnapshot, ProcessInfo, ProcessState, Snapshot, Unreachable
from supv_cli.status import evaluate

S1, S2 = parse_instance("<s1>127.0.0.1:1001"), parse_instance("<s2>127.0.0.1:1002")
HOST = HostSample(12.5, 40.0, 8_000_000_000, 3_200_000_000, (0.5, 0.25, 0.75), 2)


def info(group: str, name: str, state: ProcessState = ProcessState.RUNNING, pid: int = 0) -> ProcessInfo:
    return ProcessInfo(group=group, name=name, state=state, pid=pid)


def sample(**processes: tuple[int, float | None, int]) -> Sample:
    procs = {name.replace("__", ":"): ProcessSample(name.replace("__", ":"), pid, cpu, rss)
             for name, (pid, cpu, rss) in processes.items()}
    return Sample(1_800_000_000.25, 5.0, HOST, procs)


# ------------------------------------------------------------------------------------------ the line

def test_a_line_round_trips() -> None:
    original = sample(app__worker=(42, 1.5, 1024), app__new=(43, None, 2048))
    line = encode(original)
    assert "\n" not in line and line.startswith('{"supv_stats":1')
    assert decode(line) == original


@pytest.mark.parametrize("line", [
    "", "hello", "supv_stats", '{"supv_stats": 2, "t": 1}', '{"supv_stats": 1}', "[1, 2]",
    '{"supv_stats":1,"t":1,"interval":5,"host":{"cpu":1,"mem":1,"total":1,"used":1,"load":[1,1,1],"cpus":1},'
    '"procs":{"a:b":[1,"x",3]}}',                                     # a string where a number belongs
    '{"supv_stats":1,"t":1,"interval":5,"host":{"cpu":NaN,"mem":1,"total":1,"used":1,"load":[1],"cpus":1},'
    '"procs":{}}',                                                    # NaN is no figure
    '{"supv_stats":1,"t":1,"interval":5,"host":{"cpu":1,"mem":1,"total":1,"used":1,"load":[1],"cpus":1},'
    '"procs":{"a:b":[1,2]}}',                                         # a short process entry
])
def test_what_is_not_a_statistics_line(line: str) -> None:
    assert decode(line) is None


def test_the_last_whole_line_of_a_tail_wins() -> None:
    first, second = sample(a__a=(1, 1.0, 1)), sample(a__a=(1, 2.0, 1))
    tail = f'oken line"}}\n{encode(first)}\nsupv sampler: noise\n{encode(second)}\n{encode(first)[:30]}'
    assert last_sample(tail) == second
    assert last_sample("nothing here\n") is None


# ------------------------------------------------------------------------------------------ the sampler

@pytest.mark.parametrize(("line", "period"), [
    ("interval 10", 10.0), ("interval 0.5\r", 0.5), ("  interval   3600 ", 3600.0), ("interval 0.05", None),
    ("interval 3601", None), ("interval", None), ("period 5", None), ("interval five", None), ("", None),
])
def test_stdin_commands(line: str, period: float | None) -> None:
    assert parse_command(line) == period


def test_commands_come_whole_from_a_pipe_and_end_of_file_stops_reading() -> None:
    read, write = os.pipe()
    commands = Commands(read)
    try:
        os.write(write, b"interval 2\ninter")
        assert commands.wait(1.0) == ["interval 2"]
        os.write(write, b"val 3\n")
        assert commands.wait(1.0) == ["interval 3"]
        assert commands.wait(0.01) == []
        os.close(write)
        assert commands.wait(1.0) == [] and commands.fd is None    # end of file: a plain sleep from now on
    finally:
        os.close(read)


def test_the_sampler_measures_real_processes() -> None:
    sampler = Sampler(clock=lambda: 123.0)
    me = os.getpid()
    first = sampler.sample({"me:me": me, "gone:gone": 2 ** 22 + 12345}, 5.0)
    assert first.time == 123.0 and set(first.processes) == {"me:me"}     # a pid that does not exist is left out
    assert first.processes["me:me"].cpu_percent is None                  # no reference yet
    assert first.processes["me:me"].rss_bytes > 1_000_000
    sum(range(200_000))
    second = sampler.sample({"me:me": me}, 5.0)
    assert second.processes["me:me"].cpu_percent is not None and second.processes["me:me"].cpu_percent >= 0
    host = second.host
    assert 0 <= (host.cpu_percent or 0) <= 100 and 0 < host.memory_percent < 100 and host.cpus >= 1
    assert 0 < host.memory_used < host.memory_total and len(host.load) == 3


def test_run_prints_a_line_a_period_and_says_a_failed_call_once() -> None:
    out, err = io.StringIO(), io.StringIO()
    calls = []

    def fetch() -> dict[str, int]:
        calls.append(1)
        if len(calls) in (2, 3):
            raise LocalCallError("http://127.0.0.1:1: connection refused")
        return {"me:me": os.getpid()}

    run(fetch, 0.1, out, err, Commands(None), count=3)
    samples = [decode(line) for line in out.getvalue().splitlines()]
    assert len(samples) == 3 and all(s is not None and "me:me" in s.processes for s in samples)
    assert err.getvalue().count("connection refused") == 1 and "answers again" in err.getvalue()


# ------------------------------------------------------------------------------------------ the local call

class CannedSupervisord:
    """A TCP server that answers every request with one canned HTTP answer, and keeps the requests."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        self.requests: list[bytes] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                data = conn.recv(65536)
                while b"</methodCall>" not in data:
                    data += conn.recv(65536)
                self.requests.append(data)
                conn.sendall(self.answer)


@pytest.fixture
def canned() -> Iterator[Any]:
    servers: list[CannedSupervisord] = []

    def make(status: str, body: str) -> CannedSupervisord:
        server = CannedSupervisord(f"HTTP/1.0 {status}\r\nContent-Type: text/xml\r\n\r\n{body}".encode())
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.sock.close()


def struct(group: str, name: str, pid: int) -> str:
    return (f"<value><struct><member><name>name</name><value><string>{name}</string></value></member>"
            f"<member><name>group</name><value><string>{group}</string></value></member>"
            f"<member><name>pid</name><value><int>{pid}</int></value></member></struct></value>")


def test_the_local_call_reads_the_pids(canned: Any) -> None:
    body = ("<?xml version='1.0'?><methodResponse><params><param><value><array><data>"
            + struct("app", "worker", 42) + struct("app", "stopped", 0) + struct("a&amp;b", "x", 7)
            + "</data></array></value></param></params></methodResponse>")
    server = canned("200 OK", body)
    assert LocalSupervisor(server.url, "ops", "secret").pids() == {"app:worker": 42, "a&b:x": 7}
    assert b"Authorization: Basic b3BzOnNlY3JldA==" in server.requests[0]
    assert b"supervisor.getAllProcessInfo" in server.requests[0]


@pytest.mark.parametrize(("status", "body", "message"), [
    ("401 Unauthorized", "", "HTTP 401: set SUPV_USERNAME / SUPV_PASSWORD"),
    ("200 OK", "<methodResponse><fault><value><struct><member><name>faultString</name><value><string>SHUTDOWN_STATE"
               "</string></value></member></struct></value></fault></methodResponse>", "fault: SHUTDOWN_STATE"),
])
def test_the_local_call_fails_in_one_line(canned: Any, status: str, body: str, message: str) -> None:
    server = canned(status, body)
    with pytest.raises(LocalCallError, match=message):
        LocalSupervisor(server.url).pids()


def test_the_local_call_to_nobody() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]            # closed at once: nobody listens there
    with pytest.raises(LocalCallError, match="refused"):
        LocalSupervisor(f"http://127.0.0.1:{port}").pids()
    with pytest.raises(LocalCallError, match="expected http://host:port"):
        LocalSupervisor("ftp://x")


# ------------------------------------------------------------------------------------------ the rows

def two_instances(s1_processes: tuple[ProcessInfo, ...]) -> Snapshot:
    return Snapshot((InstanceSnapshot(S1, "RUNNING", processes=s1_processes),
                     InstanceSnapshot(S2, "RUNNING", processes=(info("solo", "solo", pid=9),))))


def test_stats_rows_take_figures_only_for_the_pid_measured() -> None:
    snapshot = two_instances((info("app", "worker", pid=42), info("app", "restarted", pid=50),
                              info("app", "stopped", ProcessState.STOPPED), info("supv_sampler", "supv_sampler",
                                                                                 pid=60)))
    reports = {"s1": SamplerReport("s1", "sampling", sample(app__worker=(42, 1.5, 800_000_000),
                                                             app__restarted=(49, 3.0, 1))),
               "s2": SamplerReport("s2", "none")}
    rows = stats_rows(snapshot, reports)
    assert [(r["instance"], r["kind"], r["process_name"], r["cpu_percent"], r["rss_bytes"], r["memory_percent"])
            for r in rows] == [
        ("s1", "host", None, 12.5, 3_200_000_000, 40.0),
        ("s1", "process", "worker", 1.5, 800_000_000, 10.0),
        ("s1", "process", "restarted", None, None, None),          # measured with its old pid
        ("s1", "process", "supv_sampler", None, None, None),       # not in the sample (yet)
        ("s2", "host", None, None, None, None),
        ("s2", "process", "solo", None, None, None)]
    assert rows[0]["load_average"] == [0.5, 0.25, 0.75] and rows[0]["sampler"] == "sampling"
    assert rows[4]["sampler"] == "none" and rows[5]["pid"] == 9
    assert rows[1]["time"] == rows[0]["time"] == sample_time_text(reports["s1"].sample) and rows[2]["time"] is None
    selected = stats_rows(snapshot, reports, {("app", "worker")})
    assert [(r["instance"], r["kind"]) for r in selected] == [("s1", "host"), ("s1", "process")]


@pytest.mark.parametrize(("value", "text"), [(None, "-"), (0, "0B"), (1023, "1023B"), (1536, "1.5K"),
                                             (11_849_728, "11.3M"), (3 * 2 ** 40, "3.0T")])
def test_human_bytes(value: int | None, text: str) -> None:
    assert human_bytes(value) == text


def test_one_hint_for_the_instances_without_statistics() -> None:
    assert hint({"s1": SamplerReport("s1", "sampling")}) is None
    assert hint({"s1": SamplerReport("s1", "unreachable", detail="refused")}) is None   # said elsewhere
    only = hint({"s1": SamplerReport("s1", "sampling"), "s2": SamplerReport("s2", "none")})
    assert only is not None and only.startswith("s2: no sampler: add a [program:supv_sampler]")
    both = hint({"s1": SamplerReport("s1", "stopped", detail="STOPPED"), "s2": SamplerReport("s2", "none")})
    assert both is not None and "s1 (stopped: STOPPED), s2 (none)" in both and "enable_stats" in both


def test_the_sampler_program_running_first() -> None:
    snap = InstanceSnapshot(S1, "RUNNING", processes=(info("supv_sampler", "old", ProcessState.STOPPED),
                                                      info("x", "supv_sampler", pid=3)))
    found = sampler_info(snap)
    assert found is not None and found.namespec == "x:supv_sampler"
    assert sampler_info(InstanceSnapshot(S1, "RUNNING", processes=(info("a", "b"),))) is None


# ------------------------------------------------------------------------------------------ the metrics

def values(families: list[Any]) -> dict[tuple[str, tuple[str, ...]], float]:
    return {(family.name, labels): value for family in families for labels, value in family.samples}


def test_cluster_families_state_sets_and_lost_programs() -> None:
    down = InstanceSnapshot(S2, "UNREACHABLE", reason="connection refused", error_kind=Unreachable.REFUSED)
    snapshot = Snapshot((InstanceSnapshot(S1, "RUNNING", processes=(info("app", "worker", pid=4),
                                                                    info("app", "other", ProcessState.STOPPED))),
                         down))
    status = evaluate(None, snapshot)
    last = {"s2": InstanceSnapshot(S2, "RUNNING", processes=(info("app", "other", pid=5),
                                                             info("app", "idle", ProcessState.STOPPED)))}
    got = values(cluster_families(status, {"s1": {"acting": True}}, last))
    assert got[("supv_instance_up", ("s1",))] == 1.0 and got[("supv_instance_up", ("s2",))] == 0.0
    assert got[("supv_instance_state", ("s2", "UNREACHABLE"))] == 1.0
    assert got[("supv_instance_state", ("s2", "RUNNING"))] == 0.0
    states = {labels[-1]: value for (name, labels), value in got.items()
              if name == "supv_process_state" and labels[:3] == ("s1", "app", "worker")}
    assert states["RUNNING"] == 1.0 and sum(states.values()) == 1.0 and len(states) == len(ProcessState)
    assert got[("supv_application_state", ("app", "RUNNING"))] == 1.0
    assert got[("supv_controller_acting", ("s1",))] == 1.0
    # app:other ran on s2, which stopped answering, and runs nowhere now: lost; app:idle was not running
    assert lost_processes(status, last) == [("app", "other", "s2")]
    assert got[("supv_process_lost", ("app", "other", "s2"))] == 1.0


def test_stats_families_only_where_a_sampler_samples() -> None:
    snapshot = two_instances((info("app", "worker", pid=42), info("app", "moved", pid=7)))
    status = evaluate(None, snapshot)
    reports = {"s1": SamplerReport("s1", "sampling", sample(app__worker=(42, None, 100), app__moved=(6, 1.0, 1))),
               "s2": SamplerReport("s2", "stale", sample())}
    got = values(stats_families(status, reports))
    assert got[("supv_sampler_up", ("s1",))] == 1.0 and got[("supv_sampler_up", ("s2",))] == 0.0
    assert got[("supv_host_cpu_percent", ("s1",))] == 12.5 and ("supv_host_cpu_percent", ("s2",)) not in got
    assert got[("supv_process_rss_bytes", ("s1", "app", "worker"))] == 100.0
    assert ("supv_process_cpu_percent", ("s1", "app", "worker")) not in got      # no figure yet
    assert ("supv_process_rss_bytes", ("s1", "app", "moved")) not in got         # another pid


@pytest.mark.parametrize(("text", "address"), [
    ("127.0.0.1:9716", ("127.0.0.1", 9716)), (":9716", ("0.0.0.0", 9716)), ("[::1]:80", ("::1", 80)),
    ("localhost:1", ("localhost", 1)),
])
def test_listen_addresses(text: str, address: tuple[str, int]) -> None:
    assert parse_listen(text) == address


@pytest.mark.parametrize("text", ["nowhere", "host:0", "host:65536", "::1:80", "host:port", ""])
def test_bad_listen_addresses(text: str) -> None:
    import click

    with pytest.raises(click.BadParameter):
        parse_listen(text)


# ------------------------------------------------------------------------------------------ the reader

class LogClient:
    """An instance whose sampler log is a real file, tailed by supervisord's own function."""

    def __init__(self, instance: Any, path: Any) -> None:
        self.instance, self.path, self.calls = instance, path, []

    def call(self, method: str, namespec: str, offset: int, length: int) -> Any:
        from supervisor.options import tailFile

        self.calls.append((method, namespec, offset, length))
        return tailFile(str(self.path), offset, length)


class LogSession:
    def __init__(self, client: LogClient) -> None:
        self.client = client

    def each(self, instances: Any, work: Any) -> list[Any]:
        return [work(self.client) for _ in instances]


def test_the_reader_reads_only_what_was_written_since(tmp_path: Any) -> None:
    from supv_cli.cluster.stats import StatsReader

    log = tmp_path / "supv_sampler.out"
    first, second, third = (sample(a__a=(1, float(n), 1)) for n in (1, 2, 3))
    log.write_text("x" * 300 + "\n" + encode(first) + "\n")
    client = LogClient(S1, log)
    now = [100.0]
    reader = StatsReader(LogSession(client), tail_bytes=256, clock=lambda: now[0])  # type: ignore[arg-type]
    running = InstanceSnapshot(S1, "RUNNING", processes=(info("supv_sampler", "supv_sampler", pid=5),))
    snapshot = Snapshot((running,))

    report = reader.read(snapshot)["s1"]
    assert report.state == "sampling" and report.sample == first
    size = log.stat().st_size
    assert client.calls[-1][2:] == (0, 256)                      # the first read: the last 256 bytes

    with log.open("a") as stream:                               # half a line, then the rest
        stream.write(encode(second)[:20])
    assert reader.read(snapshot)["s1"].sample == first
    with log.open("a") as stream:
        stream.write(encode(second)[20:] + "\n")
    assert reader.read(snapshot)["s1"].sample == second
    assert client.calls[-2][2] == size                          # from where the first read ended

    now[0] += 3 * 5.0 + 2                                       # no new line for 3 periods: stuck
    stale = reader.read(snapshot)["s1"]
    assert stale.state == "stale" and stale.sample == second and "17s old" in stale.detail

    log.write_text(encode(third) + "\n")                        # rotated: smaller than the offset
    assert reader.read(snapshot)["s1"].sample == third

    # restarted (a new pid, the same log file): a line printed before it started is not its own
    started = ProcessInfo("supv_sampler", "supv_sampler", ProcessState.RUNNING, pid=6, start=third.time + 1)
    restarted = Snapshot((InstanceSnapshot(S1, "RUNNING", processes=(started,)),))
    assert reader.read(restarted)["s1"].state == "waiting"
    fourth = Sample(third.time + 2, 5.0, HOST, {})
    with log.open("a") as stream:
        stream.write(encode(fourth) + "\n")
    assert reader.read(restarted)["s1"].sample == fourth
    stopped = InstanceSnapshot(S1, "RUNNING", processes=(info("supv_sampler", "supv_sampler", ProcessState.STOPPED),))
    assert reader.read(Snapshot((stopped,)))["s1"].state == "stopped"


def test_the_endpoint_keeps_its_answer_until_the_next_poll() -> None:
    from prometheus_client import CollectorRegistry

    from supv_cli.cli.metrics import CachedApp, ClusterCollector
    from supv_cli.look.metrics import Family

    collector = ClusterCollector()
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    app = CachedApp(registry)
    calls = []

    def get(accept: str = "") -> bytes:
        environ = {"PATH_INFO": "/metrics", "QUERY_STRING": "", "HTTP_ACCEPT": accept, "REQUEST_METHOD": "GET"}
        return b"".join(app(environ, lambda status, headers, exc_info=None: calls.append(status)))

    def families(value: float) -> list[Family]:
        family = Family("supv_instance_up", "help", ("instance",))
        family.add(value, "s1")
        return [family]

    collector.families = families(1.0)
    assert b'supv_instance_up{instance="s1"} 1.0' in get()
    collector.families = families(0.0)                      # changed without a poll said: the kept answer
    assert b'supv_instance_up{instance="s1"} 1.0' in get()
    assert b"# EOF" in get("application/openmetrics-text")   # another format: its own answer
    app.invalidate()
    assert b'supv_instance_up{instance="s1"} 0.0' in get()
    assert calls and all(status.startswith("200") for status in calls)
