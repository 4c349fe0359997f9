"""The one place that owns every shared option (each with its environment variable)."""

from __future__ import annotations

import functools
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import click

from supv_cli.cluster.precedence import CLUSTER_OPTIONS, COMMAND_LINE, ENVIRONMENT

F = Callable[..., Any]
#: option name -> its environment variable
ENV = {name: envvar for name, (_, envvar) in CLUSTER_OPTIONS.items()}


@dataclass(frozen=True)
class ClusterOptions:
    """Raw cluster options as given on the command line or in the environment."""

    instances: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    config: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float | None = None
    #: option name -> "command line" or "environment", for the options given (absent: command line)
    origins: Mapping[str, str] = field(default_factory=dict)
    #: options given on the command line while their environment variable is set too
    shadowed: tuple[str, ...] = ()

    def origin(self, name: str) -> str:
        """Where option ``name`` came from: "command line" or "environment"."""
        return self.origins.get(name, "command line")


def _split_env_rules(ctx: click.Context, param: click.Parameter, value: Any) -> tuple[str, ...]:
    # SUPV_RULES holds space-separated globs; click gives it as one string per -r otherwise
    items: list[str] = []
    for item in value or ():
        items.extend(item.split())
    return tuple(items)


def cluster_options(func: F) -> F:
    """Add -i/-r/-c/-u/--password/--timeout and pass a ``cluster: ClusterOptions`` argument."""

    @click.option("-i", "--instances", "instances", multiple=True, envvar=ENV["instances"], metavar="SPEC",
                  help="Instances, Supvisors supvisors_list syntax: <nick>host:port, <nick>http://host:port "
                       "or <nick>unix:///path.sock, separated by commas or spaces; repeatable "
                       f"[{ENV['instances']}].")
    @click.option("-r", "--rules", "rules", multiple=True, envvar=ENV["rules"], metavar="FILE",
                  callback=_split_env_rules,
                  help=f"Supvisors rules file or glob; repeatable [{ENV['rules']}, space separated].")
    @click.option("-c", "--config", "config", envvar=ENV["config"], metavar="FILE",
                  help="supv inventory file, or a supervisord.conf with a [rpcinterface:supvisors] "
                       f"section [{ENV['config']}].")
    @click.option("-u", "--username", "username", envvar=ENV["username"], metavar="USER",
                  help=f"HTTP basic auth user for every instance [{ENV['username']}].")
    @click.option("--password", "password", envvar=ENV["password"], metavar="PASSWORD",
                  help=f"HTTP basic auth password for every instance; prefer the env var [{ENV['password']}].")
    @click.option("--timeout", "timeout", envvar=ENV["timeout"], type=click.FloatRange(min=0.1),
                  metavar="SECONDS", help=f"Timeout of every XML-RPC call, default 5 [{ENV['timeout']}].")
    @functools.wraps(func)
    def wrapper(*args: Any, instances: tuple[str, ...], rules: tuple[str, ...], config: str | None,
                username: str | None, password: str | None, timeout: float | None, **kwargs: Any) -> Any:
        origins, shadowed = option_origins(click.get_current_context())
        kwargs["cluster"] = ClusterOptions(instances=instances, rules=rules, config=config, username=username,
                                           password=password, timeout=timeout, origins=origins,
                                           shadowed=shadowed)
        return func(*args, **kwargs)

    return wrapper


def option_origins(ctx: click.Context) -> tuple[dict[str, str], tuple[str, ...]]:
    """Where each cluster option came from (click merges the environment into the options), and the
    options given on the command line while their environment variable is set as well."""
    from click.core import ParameterSource

    origins: dict[str, str] = {}
    shadowed: list[str] = []
    for name, envvar in ENV.items():
        source = ctx.get_parameter_source(name)
        if source == ParameterSource.ENVIRONMENT:
            origins[name] = ENVIRONMENT
        elif source == ParameterSource.COMMANDLINE:
            origins[name] = COMMAND_LINE
            if os.environ.get(envvar):
                shadowed.append(name)
    return origins, tuple(shadowed)


FORMATS = ("table", "plain", "json")


def resolve_format(fmt: str | None, json_flag: bool) -> str:
    """``--json`` wins; then ``--format``; else table on a terminal and plain otherwise."""
    if json_flag:
        return "json"
    if fmt:
        return fmt
    return "table" if sys.stdout.isatty() else "plain"


def output_options(func: F) -> F:
    """Add --format/--json and pass ``fmt`` (one of table, plain, json)."""

    @click.option("--format", "fmt", type=click.Choice(FORMATS), envvar="SUPV_FORMAT",
                  help="Output format; default table on a terminal, plain otherwise [SUPV_FORMAT].")
    @click.option("--json", "json_flag", is_flag=True, help="Same as --format json.")
    @functools.wraps(func)
    def wrapper(*args: Any, fmt: str | None, json_flag: bool, **kwargs: Any) -> Any:
        kwargs["fmt"] = resolve_format(fmt, json_flag)
        return func(*args, **kwargs)

    return wrapper
