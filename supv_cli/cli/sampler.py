"""``supv sampler``: the statistics sampler, run by supervisord as an ordinary program on each host."""

from __future__ import annotations

import os
import sys

import click

from supv_cli.cli.finite import FiniteSeconds
from supv_cli.cli.options import ENV_PASSWORD, ENV_USERNAME

#: the URL of its supervisord, set by supervisord for every program it starts
ENV_SERVER_URL = "SUPERVISOR_SERVER_URL"
#: XML-RPC timeout of the sampler's calls to its own supervisord
LOCAL_TIMEOUT = 2.0


@click.command("sampler", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--stats-interval", "interval", type=FiniteSeconds(min=0.1, max=3600.0), default=5.0,
              show_default=True, metavar="SECONDS", envvar="SUPV_STATS_INTERVAL",
              help="Seconds between two samples [SUPV_STATS_INTERVAL]; changed at run time by "
                   "`supv stats_period`.")
@click.option("--server-url", metavar="URL", envvar=ENV_SERVER_URL, required=True,
              help=f"Its supervisord: http://host:port or unix:///path.sock [{ENV_SERVER_URL}, which supervisord "
                   "sets for its programs].")
@click.option("--count", type=click.IntRange(min=1), metavar="N", help="Stop after N samples (tests, benchmarks).")
def sampler(interval: float, server_url: str, count: int | None) -> None:
    """Sample CPU and memory of this host and of every process of its supervisord.

    Meant to run under supervisord, as an ordinary program of every supervisord of the cluster (the
    statistics are an opt-in; see docs/metrics.md for the cost measured):

    \b
      [program:supv_sampler]
      command = supv sampler --stats-interval 5
      autostart = true
      autorestart = true
      stdout_logfile_maxbytes = 1MB
      stdout_logfile_backups = 1

    Every --stats-interval seconds it asks its supervisord (SUPERVISOR_SERVER_URL) for the pids of its
    processes, measures the host (CPU % of all cores, memory in use, load averages) and each process
    (CPU % of one core, RSS) with psutil, and prints one JSON line on stdout, which supervisord keeps in
    the program's stdout log: `supv stats`, `supv top`, `supv instances` and `supv metrics` read it
    from there over XML-RPC. Credentials of its supervisord, if it wants some: SUPV_USERNAME /
    SUPV_PASSWORD (or SUPERVISOR_USERNAME / SUPERVISOR_PASSWORD) in the program's environment.

    A line `interval SECONDS` on its stdin (`supv stats_period SECONDS` sends it through supervisord)
    changes the period until it is restarted.

    \b
    Exit status: 0 stopped (SIGTERM from supervisord, or --count samples printed); 2 usage error.

    \b
    Examples:
      supv sampler                                   # under supervisord
      supv sampler --server-url http://127.0.0.1:9001 --stats-interval 1 --count 3
    """
    from supv_cli.cluster.local import LocalCallError, LocalSupervisor
    from supv_cli.look.sampler import Commands, run

    username = os.environ.get(ENV_USERNAME) or os.environ.get("SUPERVISOR_USERNAME") or None
    password = os.environ.get(ENV_PASSWORD) or os.environ.get("SUPERVISOR_PASSWORD") or None
    try:
        local = LocalSupervisor(server_url, username, password, LOCAL_TIMEOUT)
    except LocalCallError as error:
        raise click.BadParameter(str(error), param_hint="--server-url") from None
    try:
        stdin: int | None = sys.stdin.fileno()
    except (AttributeError, OSError, ValueError):  # no real stdin (closed, or captured by a test)
        stdin = None
    try:
        run(local.pids, interval, sys.stdout, sys.stderr, Commands(stdin), count=count)
    except KeyboardInterrupt:  # SIGTERM from supervisord (or Ctrl-C): a normal stop
        click.echo("supv sampler: stopped", err=True)
