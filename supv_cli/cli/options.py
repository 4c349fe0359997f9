"""The one place that owns every shared option (each with its environment variable).

``cluster_options`` and ``output_options`` store what they parse in the application object
(``cli/app.py``), which commands receive with ``click.pass_obj``; the other shared options are plain
decorators passing one keyword argument each (``dry_run``, ``quiet``, ``poll_interval``).
"""

from __future__ import annotations

import functools
import sys
from typing import Any, Callable

import click

F = Callable[..., Any]

# environment variables of the shared options (documented in the README and supv(1))
ENV_INSTANCES = "SUPV_INSTANCES"
ENV_RULES = "SUPV_RULES"
ENV_CONFIG = "SUPV_CONFIG"
ENV_USERNAME = "SUPV_USERNAME"
ENV_PASSWORD = "SUPV_PASSWORD"
ENV_TIMEOUT = "SUPV_TIMEOUT"
ENV_FORMAT = "SUPV_FORMAT"
ENV_DEBUG = "SUPV_DEBUG"
#: default of --poll-interval (seconds)
DEFAULT_POLL_INTERVAL = 0.2


def app_of(ctx: click.Context | None = None) -> Any:
    """The application object of the running command (created by the root group; made here when a
    command is invoked on its own, as some tests do)."""
    from supv_cli.cli.app import App

    return (ctx or click.get_current_context()).ensure_object(App)


def _split_env_rules(ctx: click.Context, param: click.Parameter, value: Any) -> tuple[str, ...]:
    # SUPV_RULES holds space-separated globs; click gives it as one string per -r otherwise
    items: list[str] = []
    for item in value or ():
        items.extend(item.split())
    return tuple(items)


def cluster_options(func: F) -> F:
    """Add -i/-r/-c/-u/--password/--timeout; they go to ``app.cluster`` (a ClusterOptions)."""

    @click.option("-i", "--instances", "instances", multiple=True, envvar=ENV_INSTANCES, metavar="SPEC",
                  help="Instances, Supvisors supvisors_list syntax: <nick>host:port, <nick>http://host:port "
                       "or <nick>unix:///path.sock, separated by commas or spaces; repeatable "
                       "[SUPV_INSTANCES].")
    @click.option("-r", "--rules", "rules", multiple=True, envvar=ENV_RULES, metavar="FILE",
                  callback=_split_env_rules,
                  help="Supvisors rules file or glob; repeatable [SUPV_RULES, space separated].")
    @click.option("-c", "--config", "config", envvar=ENV_CONFIG, metavar="FILE",
                  help="supv inventory file, or a supervisord.conf with a [rpcinterface:supvisors] "
                       "section [SUPV_CONFIG].")
    @click.option("-u", "--username", "username", envvar=ENV_USERNAME, metavar="USER",
                  help="HTTP basic auth user for every instance [SUPV_USERNAME].")
    @click.option("--password", "password", envvar=ENV_PASSWORD, metavar="PASSWORD",
                  help="HTTP basic auth password for every instance; prefer the env var [SUPV_PASSWORD].")
    @click.option("--timeout", "timeout", envvar=ENV_TIMEOUT, type=click.FloatRange(min=0.1),
                  metavar="SECONDS", help="Timeout of every XML-RPC call, default 5 [SUPV_TIMEOUT].")
    @functools.wraps(func)
    def wrapper(*args: Any, instances: tuple[str, ...], rules: tuple[str, ...], config: str | None,
                username: str | None, password: str | None, timeout: float | None, **kwargs: Any) -> Any:
        from supv_cli.cluster.settings import ClusterOptions  # not at import: `supv --help` stays fast

        app_of().cluster = ClusterOptions(instances=instances, rules=rules, config=config, username=username,
                                          password=password, timeout=timeout)
        return func(*args, **kwargs)

    return wrapper


FORMATS = ("table", "plain", "json")


def resolve_format(fmt: str | None, json_flag: bool) -> str:
    """``--json`` wins; then ``--format``; else table on a terminal and plain otherwise."""
    if json_flag:
        return "json"
    if fmt:
        return fmt
    return "table" if sys.stdout.isatty() else "plain"


def output_options(func: F) -> F:
    """Add --format/--json; the format (table, plain or json) goes to ``app.fmt``."""

    @click.option("--format", "fmt", type=click.Choice(FORMATS), envvar=ENV_FORMAT,
                  help="Output format; default table on a terminal, plain otherwise [SUPV_FORMAT].")
    @click.option("--json", "json_flag", is_flag=True, help="Same as --format json.")
    @functools.wraps(func)
    def wrapper(*args: Any, fmt: str | None, json_flag: bool, **kwargs: Any) -> Any:
        app_of().fmt = resolve_format(fmt, json_flag)
        return func(*args, **kwargs)

    return wrapper


def dry_run_option(help_text: str = "Print the plan; change nothing.") -> Callable[[F], F]:
    """``--dry-run``, passed as ``dry_run``."""
    return click.option("--dry-run", is_flag=True, help=help_text)


def quiet_option(func: F) -> F:
    """``-q/--quiet``, passed as ``quiet``."""
    return click.option("-q", "--quiet", is_flag=True,
                        help="No progress on stderr (the final report is still printed).")(func)


def poll_interval_option(func: F) -> F:
    """``--poll-interval``, passed as ``poll_interval``."""
    return click.option("--poll-interval", type=click.FloatRange(min=0.02, max=10), default=DEFAULT_POLL_INTERVAL,
                        show_default=True, metavar="SECONDS",
                        help="Longest wait between two polls of the instances.")(func)
