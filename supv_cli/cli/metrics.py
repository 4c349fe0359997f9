"""``supv metrics``: a Prometheus endpoint of the cluster's state (or one exposition with ``--once``)."""

from __future__ import annotations

import re
import sys
import threading
from typing import TYPE_CHECKING, Any, Callable, Iterator

import click

from supv_cli.cli.options import Seconds, cluster_options
from supv_cli.cli.output import echo_err
from supv_cli.cli.stats import sampler_option
from supv_cli.cluster import CONTROLLER_PROGRAM
from supv_cli.errors import ConfigError

if TYPE_CHECKING:
    from types import TracebackType
    from wsgiref.types import StartResponse, WSGIEnvironment

    from prometheus_client.core import GaugeMetricFamily
    from prometheus_client.registry import CollectorRegistry

    from supv_cli.cli.app import App
    from supv_cli.look.metrics import Family
    from supv_cli.model.snapshot import Snapshot
    from supv_cli.status import ClusterStatus

#: where the endpoint listens unless --listen says otherwise
DEFAULT_LISTEN = "127.0.0.1:9716"
_LISTEN_RE = re.compile(r"^(?:\[(?P<v6>[^\]]+)\]|(?P<host>[^:\[\]]*)):(?P<port>\d{1,5})$")


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT``, ``[IPv6]:PORT`` or ``:PORT`` (every address) -> (address, port)."""
    match = _LISTEN_RE.match(text.strip())
    port = int(match.group("port")) if match else 0
    if not match or not 0 < port < 65536:
        raise click.BadParameter(f"{text!r}: expected HOST:PORT (e.g. 127.0.0.1:9716, :9716 or [::1]:9716)",
                                 param_hint="--listen")
    address = match.group("v6") or match.group("host") or "0.0.0.0"
    return address, port


class ClusterCollector:
    """A prometheus-client collector that gives the families of the last poll (swapped whole by the
    polling loop: a scrape never sees half of one poll)."""

    def __init__(self) -> None:
        self.families: list[Family] = []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from prometheus_client.core import GaugeMetricFamily

        for family in self.families:
            metric = GaugeMetricFamily(family.name, family.help, labels=list(family.labels))
            for labels, value in family.samples:
                metric.add_metric(list(labels), value)
            yield metric


class MetricsWatch:
    """One poll -> the families: the status evaluated only when the answers changed (``same_answers``),
    the controllers' state lines and the samplers' lines read every poll (incremental for the samplers)."""

    def __init__(self, app: App, sampler_program: str, controller_program: str) -> None:
        from supv_cli.cluster.stats import StatsReader

        self.app = app
        self.rules = app.rules
        self.reader = StatsReader(app.session, sampler_program)
        self.controller_program = controller_program
        self._previous: Snapshot | None = None
        self._status: ClusterStatus | None = None

    def families(self, snapshot: Snapshot) -> list[Family]:
        from supv_cli.cluster.polling import same_answers
        from supv_cli.look.metrics import Family, cluster_families, stats_families
        from supv_cli.status import evaluate

        if self._status is None or not same_answers(snapshot, self._previous):
            self._status = evaluate(self.rules, self.app.fill(snapshot))
        self._previous = snapshot
        session = self.app.session
        controllers = session.controller_states(snapshot, self.controller_program)
        reports = self.reader.read(snapshot)
        polled = Family("supv_poll_timestamp_seconds", "When supv last polled the instances (Unix time).", ())
        polled.add(snapshot.taken_at)
        return [*cluster_families(self._status, controllers, session.last_answers()),
                *stats_families(self._status, reports), polled]


@click.command("metrics", context_settings={"help_option_names": ["-h", "--help"]})
@cluster_options
@click.option("--listen", default=DEFAULT_LISTEN, show_default=True, metavar="HOST:PORT",
              envvar="SUPV_METRICS_LISTEN", help="Address of the HTTP endpoint (/metrics) [SUPV_METRICS_LISTEN].")
@click.option("--once", is_flag=True, help="Print one exposition on stdout and exit (cron, textfile collectors).")
@click.option("--interval", type=Seconds(min=0.5), default=5.0, show_default=True, metavar="SECONDS",
              help="Seconds between two polls of the instances.")
@sampler_option
@click.option("--controller-program", "controller_program", default=CONTROLLER_PROGRAM, show_default=True,
              metavar="NAME", help="Group or program name of the supv controllers in supervisord.")
@click.pass_obj
def metrics(app: App, listen: str, once: bool, interval: float, program: str, controller_program: str) -> None:
    """Serve the cluster's state to Prometheus, or print it once.

    The instances are polled every --interval seconds as `supv events` and the controller poll them
    (one cheap call per instance when nothing changed); a scrape of http://HOST:PORT/metrics answers
    from the last poll, without touching the instances. Exposed (all gauges; see docs/metrics.md for
    the labels, an example scrape configuration and alert rules): supv_instance_up, supv_instance_state,
    supv_process_state, supv_application_state, supv_application_major_failure,
    supv_application_minor_failure, supv_application_operational, supv_conflicts,
    supv_controller_acting, supv_process_lost, and where a sampler runs (supv sampler):
    supv_host_cpu_percent, supv_host_memory_percent, supv_process_cpu_percent, supv_process_rss_bytes.

    --once polls once and prints the exposition text on stdout (for node_exporter's textfile
    collector: `supv metrics --once > x.prom.tmp && mv x.prom.tmp x.prom`); instances that do not answer
    are in it (supv_instance_up 0) and are also reported on stderr.

    \b
    Exit status: 0 stopped (Ctrl-C: 130) or printed once; 2 usage or configuration error, or the address
    cannot be listened on.

    \b
    Examples:
      supv metrics -c etc/supv.conf --listen 0.0.0.0:9716
      supv metrics -c etc/supv.conf --once > /var/lib/node_exporter/supv.prom.tmp
      curl -s localhost:9716/metrics | grep '^supv_application_operational'
    """
    from prometheus_client import CollectorRegistry, generate_latest

    from supv_cli.cli.polling import snapshots, use_watch_timeout

    address = None if once else parse_listen(listen)
    use_watch_timeout(app)
    app.session  # noqa: B018  ("no instances" is an error before anything is served)
    watch = MetricsWatch(app, program, controller_program)
    collector = ClusterCollector()
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    if once:
        snapshot = app.snapshot(need_answer=False)
        collector.families = watch.families(snapshot)
        # the bytes the endpoint serves: click.echo would strip what looks like ANSI codes from the label
        # values of a pipe (a program named with ESC [2J would get another name than on the endpoint)
        sys.stdout.flush()
        sys.stdout.buffer.write(generate_latest(registry))
        sys.stdout.buffer.flush()
        return
    assert address is not None
    first = True
    answers = CachedApp(registry)
    for snapshot in snapshots(app, interval):
        app.report_unreachable(snapshot)
        collector.families = watch.families(snapshot)
        answers.invalidate()
        if first:  # served once there is something to serve
            serve(answers, *address)
            echo_err(f"supv: metrics: serving http://{listen_text(*address)}/metrics, polling "
                     f"{len(app.instances)} instance(s) every {interval:g}s")
            first = False


def listen_text(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


class CachedApp:
    """prometheus-client's WSGI app, its answers kept until the next poll: formatting the text costs
    ~8 ms for Scenario 3 (bench/metrics_cost.py), more than the poll, and only a poll changes it. Kept per
    request shape (path, query, Accept, Accept-Encoding: the format and compression negotiated)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        from prometheus_client import make_wsgi_app

        self.app = make_wsgi_app(registry)
        self._answers: dict[tuple[str, ...], tuple[str, list[tuple[str, str]], bytes]] = {}
        self._lock = threading.Lock()
        self._generation = 0

    def invalidate(self) -> None:
        """A new poll: every kept answer is old (and one being made from the last poll is not kept)."""
        with self._lock:
            self._answers.clear()
            self._generation += 1

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        key = tuple(str(environ.get(name, "")) for name in ("PATH_INFO", "QUERY_STRING", "HTTP_ACCEPT",
                                                              "HTTP_ACCEPT_ENCODING"))
        with self._lock:
            answer, generation = self._answers.get(key), self._generation
        if answer is None:
            captured: list[tuple[str, list[tuple[str, str]]]] = []

            def capture(status: str, headers: list[tuple[str, str]],
                        exc_info: tuple[type[BaseException], BaseException, TracebackType] | tuple[None, None, None]
                        | None = None, /) -> Callable[[bytes], object]:
                captured[:] = [(status, headers)]
                return lambda data: None

            body = b"".join(self.app(environ, capture))
            answer = (captured[0][0], list(captured[0][1]), body)
            with self._lock:
                if len(self._answers) >= 32:  # odd request shapes must not grow it without end
                    self._answers.clear()
                if generation == self._generation:
                    self._answers[key] = answer
        start_response(answer[0], answer[1])
        return [answer[2]]


def serve(app: CachedApp, address: str, port: int) -> None:
    """The HTTP endpoint in a daemon thread; a ConfigError (exit 2) when the address cannot be used."""
    import socket
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    class Server(ThreadingMixIn, WSGIServer):
        daemon_threads = True
        address_family = socket.AF_INET6 if ":" in address else socket.AF_INET

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the stdlib's name and types)
            """No line per scrape on stderr."""

    try:
        server = make_server(address, port, app, Server, QuietHandler)
    except OSError as error:
        raise ConfigError(f"--listen {listen_text(address, port)}: {error.strerror or error}; choose another "
                          "address or port") from None
    threading.Thread(target=server.serve_forever, name="supv-metrics-http", daemon=True).start()
