"""The one place that owns every shared option (each with its environment variable).

``cluster_options`` and ``output_options`` store what they parse in the application object
(``cli/app.py``), which commands receive with ``click.pass_obj``; the other shared options are plain
decorators passing one keyword argument each (``dry_run``, ``quiet``, ``poll_interval``).
"""

from __future__ import annotations

import functools
import math
import os
from typing import TYPE_CHECKING, Any, Callable, Sequence, TypeVar, overload

import click

from supv_cli.cluster.precedence import CLUSTER_OPTIONS, COMMAND_LINE, ENVIRONMENT

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

    from supv_cli.cli.app import App

#: a command function: Any, as click's own decorators take any callable and pass its parameters through
F = Callable[..., Any]
#: the same, given back as it was by a decorator that only adds a parameter
G = TypeVar("G", bound=Callable[..., Any])

# environment variables of the shared options (documented in docs/cluster.md and supv(1)); those of the
# cluster options come from the core's table, which names them in precedence warnings
#: cluster option name -> its environment variable
ENV = {name: envvar for name, (_, envvar) in CLUSTER_OPTIONS.items()}
ENV_INSTANCES = ENV["instances"]
ENV_RULES = ENV["rules"]
ENV_CONFIG = ENV["config"]
ENV_USERNAME = ENV["username"]
ENV_PASSWORD = ENV["password"]
ENV_TIMEOUT = ENV["timeout"]
ENV_FORMAT = "SUPV_FORMAT"
ENV_DEBUG = "SUPV_DEBUG"
#: said once when --password is given on the command line
PASSWORD_IN_PS = (f"--password on the command line is visible to every user of this machine (ps); export "
                  f"{ENV_PASSWORD} instead, or give it in the inventory (password = %(ENV_VARIABLE)s)")
#: default of --poll-interval (seconds)
DEFAULT_POLL_INTERVAL = 0.2


class Seconds(click.ParamType):
    """A duration in seconds, the one type of every time option and its environment variable: a finite
    number within ``[min, max]`` (``nan``, ``inf`` and negative numbers would hang or overflow a wait).
    A bad value is a usage error (exit 2) naming the option."""

    name = "seconds"

    def __init__(self, min: float = 0.0, max: float | None = None) -> None:
        self.min = min
        self.max = max

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = float(value)
        else:
            try:
                number = float(str(value).strip())
            except ValueError:
                self.fail(f"{value!r} is not a number of seconds{_from_env(param, ctx)}.", param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number of seconds{_from_env(param, ctx)}.", param, ctx)
        if number < self.min or (self.max is not None and number > self.max):
            bounds = f"between {self.min:g} and {self.max:g}" if self.max is not None else f"at least {self.min:g}"
            self.fail(f"{value!r}{_from_env(param, ctx)}: the number of seconds must be {bounds}.", param, ctx)
        return number

    def __repr__(self) -> str:
        return f"Seconds(min={self.min!r}, max={self.max!r})"


def _from_env(param: click.Parameter | None, ctx: click.Context | None) -> str:
    """`` (from SUPV_X)`` when the bad value came from the option's environment variable."""
    from click.core import ParameterSource

    envvar = getattr(param, "envvar", None)
    if ctx is None or param is None or not param.name or not isinstance(envvar, str):
        return ""
    return f" (from {envvar})" if ctx.get_parameter_source(param.name) == ParameterSource.ENVIRONMENT else ""


def app_of(ctx: click.Context | None = None) -> App:
    """The application object of the running command (created by the root group; made here when a
    command is invoked on its own, as some tests do)."""
    from supv_cli.cli.app import App

    return (ctx or click.get_current_context()).ensure_object(App)


def _split_env_rules(ctx: click.Context, param: click.Parameter, value: Sequence[str] | None) -> tuple[str, ...]:
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
                  help="HTTP basic auth user of every instance without credentials of its own in the "
                       "inventory [SUPV_USERNAME].")
    @click.option("--password", "password", envvar=ENV_PASSWORD, metavar="PASSWORD",
                  help="HTTP basic auth password of the same instances; prefer the env var (the command "
                       "line is visible in ps) [SUPV_PASSWORD].")
    @click.option("--timeout", "timeout", envvar=ENV_TIMEOUT, type=Seconds(min=0.1),
                  metavar="SECONDS", help="Timeout of every XML-RPC call, default 5 [SUPV_TIMEOUT].")
    @functools.wraps(func)  # Any: the command's own parameters and result, passed through
    def wrapper(*args: Any, instances: tuple[str, ...], rules: tuple[str, ...], config: str | None,
                username: str | None, password: str | None, timeout: float | None, **kwargs: Any) -> Any:
        from supv_cli.cluster.settings import ClusterOptions  # not at import: `supv --help` stays fast

        origins, shadowed = option_origins(click.get_current_context())
        if origins.get("password") == COMMAND_LINE:
            from supv_cli.cli.output import warn

            warn(PASSWORD_IN_PS)
        app_of().cluster = ClusterOptions(instances=instances, rules=rules, config=config, username=username,
                                          password=password, timeout=timeout, origins=origins, shadowed=shadowed)
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


def resolve_format(fmt: str | None, json_flag: bool, default: str = "plain") -> str:
    """``--json`` wins; then ``--format``; else ``default`` (the Terminal's: table on a terminal and
    plain otherwise)."""
    if json_flag:
        return "json"
    if fmt:
        return fmt
    return default


def output_options(func: F) -> F:
    """Add --format/--json; the format (table, plain or json) goes to ``app.fmt``."""

    @click.option("--format", "fmt", type=click.Choice(FORMATS), envvar=ENV_FORMAT,
                  help="Output format; default table on a terminal, plain otherwise [SUPV_FORMAT].")
    @click.option("--json", "json_flag", is_flag=True, help="Same as --format json.")
    @functools.wraps(func)  # Any: the command's own parameters and result, passed through
    def wrapper(*args: Any, fmt: str | None, json_flag: bool, **kwargs: Any) -> Any:
        app = app_of()
        app.fmt = resolve_format(fmt, json_flag, app.terminal.default_format)
        return func(*args, **kwargs)

    return wrapper


def dry_run_option(help_text: str = "Print the plan; change nothing.") -> Callable[[F], F]:
    """``--dry-run``, passed as ``dry_run``."""
    return click.option("--dry-run", is_flag=True, help=help_text)


def quiet_option(func: F) -> F:
    """``-q/--quiet``, passed as ``quiet``."""
    return click.option("-q", "--quiet", is_flag=True,
                        help="No progress on stderr (the final report is still printed).")(func)


@overload
def poll_interval_option(func: G) -> G: ...


@overload
def poll_interval_option(func: None = None, *, default: float = ...,
                         help_text: str = ...) -> Callable[[G], G]: ...


def poll_interval_option(func: G | None = None, *, default: float = DEFAULT_POLL_INTERVAL,
                         help_text: str = "Longest wait between two polls of the instances.") -> G | Callable[[G], G]:
    """``--poll-interval``, passed as ``poll_interval``: ``@poll_interval_option``, or
    ``@poll_interval_option(default=..., help_text=...)`` for a command that polls at its own pace."""

    def decorate(target: G) -> G:
        return click.option("--poll-interval", type=Seconds(min=0.02, max=10), default=default,
                            show_default=True, metavar="SECONDS", help=help_text)(target)

    return decorate(func) if func is not None else decorate


def local_option(help_text: str = "The instance the LOCAL strategy means (default: the supervisord that "
                 "started supv, from SUPERVISOR_SERVER_URL).") -> Callable[[F], F]:
    """``--local NICK``, passed as ``local``."""
    return click.option("--local", metavar="NICK", help=help_text)


# ----------------------------------------------------------------------------- options of the action commands
STRATEGIES = ("CONFIG", "LESS_LOADED", "MOST_LOADED", "LOCAL", "LESS_LOADED_NODE", "MOST_LOADED_NODE")


def action_options(func: F) -> F:
    """--dry-run, -q/--quiet and --poll-interval, as run-plan and stop-plan have them."""
    func = quiet_option(poll_interval_option(func))
    return dry_run_option("Print what would be done (instance per program, reasons); change nothing.")(func)


def start_options(func: F) -> F:
    """--start-timeout, --exit-timeout and --local: the deadlines and the LOCAL instance of a start."""
    from supv_cli.plan.run_types import DEFAULT_EXIT_TIMEOUT

    func = local_option()(func)
    func = click.option("--exit-timeout", type=Seconds(min=0), default=DEFAULT_EXIT_TIMEOUT,
                        show_default=True, envvar="SUPV_EXIT_TIMEOUT", metavar="SECONDS",
                        help="Time a wait_exit program has to exit, over its startsecs [SUPV_EXIT_TIMEOUT].")(func)
    return start_timeout_option(func)


def start_timeout_option(func: F) -> F:
    """``--start-timeout``, passed as ``start_timeout``."""
    from supv_cli.plan.run_types import DEFAULT_START_TIMEOUT

    return click.option("--start-timeout", type=Seconds(min=0), default=DEFAULT_START_TIMEOUT,
                        show_default=True, envvar="SUPV_START_TIMEOUT", metavar="SECONDS",
                        help="Margin over a program's startsecs to reach RUNNING before it is failed "
                             "[SUPV_START_TIMEOUT].")(func)


def stop_timeout_option(func: F) -> F:
    """``--stop-timeout``, passed as ``stop_timeout``."""
    from supv_cli.plan.run_types import DEFAULT_STOP_TIMEOUT

    return click.option("--stop-timeout", type=Seconds(min=0), default=DEFAULT_STOP_TIMEOUT,
                        show_default=True, metavar="SECONDS",
                        help="Margin over a program's stopwaitsecs before its stop is failed.")(func)


class _StrategyChoice(click.Choice):
    """Any case is accepted; a bad value is answered with the names as the rules write them (click
    would list them in lower case)."""

    def get_invalid_choice_message(self, value: object, ctx: click.Context | None) -> str:
        return f"{value!r} is not one of {', '.join(self.choices)}."

    def shell_complete(self, ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
        """The names as the rules write them (click would offer them normalized to lower case)."""
        from click.shell_completion import CompletionItem

        wanted = incomplete.lower()
        return [CompletionItem(choice) for choice in map(str, self.choices) if choice.lower().startswith(wanted)]


def strategy_option(func: F) -> F:
    """--strategy: a starting strategy instead of the application's."""
    return click.option("--strategy", type=_StrategyChoice(STRATEGIES, case_sensitive=False), default=None,
                        metavar="STRATEGY", help="Starting strategy instead of the application's "
                        f"starting_strategy: {', '.join(STRATEGIES)}.")(func)


def process_options(starts: bool = False, stops: bool = False) -> Callable[[F], F]:
    """What ``supv start|stop|restart`` take: the cluster and output options, ``NAMESPEC...`` (completed
    from the rules), --dry-run/-q/--poll-interval, and the start (--strategy, deadlines, --local) and
    stop (--stop-timeout) options."""

    def decorate(func: F) -> F:
        from supv_cli.cli.completion import complete_processes

        if stops:
            func = stop_timeout_option(func)
        if starts:
            func = start_options(func)
        func = action_options(func)
        if starts:
            func = strategy_option(func)
        func = click.argument("namespecs", nargs=-1, required=True, metavar="NAMESPEC...",
                              shell_complete=complete_processes)(func)
        return cluster_options(output_options(func))

    return decorate
