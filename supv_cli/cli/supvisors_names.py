"""supvisorsctl's command names in supv: every one of its 39 names answers.

A name is either an alias of a supv command (the table ``ALIASES`` in ``cli/__init__.py``, which may add
fixed options, ``test_start_application`` = ``run-plan --dry-run``), a command of its own (``COMMANDS``),
or one of :data:`UNSUPPORTED`: names that need code inside supervisord, or mean nothing without the
Supvisors plugin. Those exit 2 with one line saying why and what to do instead (``--help`` works).

supvisorsctl puts a strategy first (``start_application STRATEGY APP...``): under the names of
:data:`STRATEGY_FIRST`, a first argument that is a strategy name (upper case, as supvisorsctl writes it)
becomes ``--strategy STRATEGY``; ``conciliate INFANTICIDE|SENICIDE|STOP`` likewise becomes
``--strategy infanticide|senicide|stop``.
"""

from __future__ import annotations

import re
from typing import Any

import click

from supv_cli.errors import UsageError

#: supvisorsctl 0.19.1's command names, in the order of its source (supvisors/supvisorsctl.py)
SUPVISORSCTL_NAMES = (
    "sversion", "sstate", "master", "strategies", "stats_status", "instance_status", "application_info",
    "application_rules", "sstatus", "local_status", "process_rules", "conflicts", "start_application",
    "test_start_application", "restart_application", "stop_application", "all_start", "start_args",
    "all_start_args", "start_process", "test_start_process", "start_any_process", "start_process_args",
    "start_any_process_args", "stop_process", "restart_process", "update_numprocs", "lazy_update_numprocs",
    "enable", "disable", "conciliate", "restart_sequence", "sreload", "sshutdown", "end_sync", "loglevel",
    "enable_stats", "disable_stats", "stats_period",
)

#: starting strategies, as supvisorsctl writes them
STRATEGIES = ("CONFIG", "LESS_LOADED", "MOST_LOADED", "LOCAL", "LESS_LOADED_NODE", "MOST_LOADED_NODE")
#: supvisorsctl's conciliation strategies that supv's conciliate applies (USER, RESTART and
#: RUNNING_FAILURE have no equivalent: USER is what doing nothing is)
CONCILIATIONS = ("INFANTICIDE", "SENICIDE", "STOP")

#: names whose first argument may be a starting strategy, as supvisorsctl takes it
STRATEGY_FIRST = frozenset({"start_application", "test_start_application", "restart_application", "start_process",
                            "test_start_process", "restart_process", "start_any_process"})
#: names whose first argument may be a conciliation strategy
CONCILIATION_FIRST = frozenset({"conciliate"})
#: names where supvisorsctl takes instance identifiers (or `all`) and supv shows every instance
EVERY_INSTANCE = frozenset({"instance_status", "sstate"})

_INSIDE = "needs code inside supervisord (the Supvisors plugin); supv only uses stock XML-RPC"
#: name -> (why supv does not do it, what to do instead)
UNSUPPORTED: dict[str, tuple[str, str]] = {
    "start_args": (f"extra command-line arguments {_INSIDE}",
                   "put the arguments in the program's command= (or a second [program:] section) and "
                   "`supv start APP:PROC`"),
    "all_start_args": (f"extra command-line arguments {_INSIDE}",
                       "put the arguments in the program's command= and `supv all_start APP:PROC`"),
    "start_process_args": (f"extra command-line arguments {_INSIDE}",
                           "put the arguments in the program's command= and `supv start APP:PROC --strategy S`"),
    "start_any_process_args": (f"extra command-line arguments {_INSIDE}",
                               "put the arguments in the program's command= and `supv start_any_process REGEX`"),
    "update_numprocs": (f"changing numprocs at run time {_INSIDE}",
                        "change numprocs in the supervisord configuration, then `supervisorctl update` on "
                        "each instance (or `supv reload --instance NICK`)"),
    "lazy_update_numprocs": (f"changing numprocs at run time {_INSIDE}",
                             "change numprocs in the supervisord configuration, then `supervisorctl update` "
                             "on each instance once the extra processes have stopped"),
    "enable": (f"enabling a program {_INSIDE}",
               "put the program back in the supervisord configuration (or set autostart=true) and "
               "`supervisorctl update` on each instance"),
    "disable": (f"disabling a program {_INSIDE}",
                "`supv stop APP:PROC`, then remove it from the supervisord configuration (or set "
                "autostart=false) and `supervisorctl update`"),
    "loglevel": ("it sets the Supvisors plugin's logger level, and supv has no plugin",
                 "use --debug on a supv command, or supervisord's own loglevel= in its configuration"),
    "end_sync": ("supv has no synchronisation phase: every command acts on what the instances answer now",
                 "nothing to do; `supv controller status` shows which controller acts"),
}


def unsupported_command(name: str) -> click.Command:
    """The command of an UNSUPPORTED name: ``--help`` says why; running it exits 2 with one line."""
    why, instead = UNSUPPORTED[name]

    def refuse(args: tuple[str, ...]) -> None:
        raise UsageError(f"{name}: not available in supv: {why}; instead, {instead}")

    examples = "".join(f"\n  {example}" for example in re.findall(r"`(supv[^`]*)`", instead))
    return click.Command(
        name, callback=refuse,
        params=[click.Argument(["args"], nargs=-1, type=click.UNPROCESSED)],
        help=f"supvisorsctl's {name}: not available in supv.\n\nWhy: {why}.\n\nInstead: {instead}.\n\n"
             f"Running it exits 2 with that line (see supv-supvisorsctl(7)).\n\n"
             f"\b\nExamples:\n  supv {name}            # exits 2: why, and what to do instead{examples}",
        short_help="Not available in supv (exits 2 and says what to do instead).",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True,
                          "help_option_names": ["-h", "--help"]})


def _takes_value(command: click.Command, token: str) -> bool:
    """True when the option ``token`` (without ``=value``) takes the next word as its value."""
    for param in command.params:
        if isinstance(param, click.Option) and token in param.opts + param.secondary_opts:
            return not (param.is_flag or param.count)
    return False


def _positionals(command: click.Command, args: list[str]) -> list[int]:
    """The indexes of the positional words of ``args`` (option values skipped; none after ``--``)."""
    found = []
    index = 0
    while index < len(args):
        token = args[index]
        if token == "--":
            break
        if token.startswith("-") and token != "-":
            index += 2 if "=" not in token and _takes_value(command, token) else 1
            continue
        found.append(index)
        index += 1
    return found


def reshape(command: click.Command, name: str, args: list[str]) -> list[str]:
    """supvisorsctl's argument shapes: a first positional argument that is a strategy becomes
    ``--strategy``; ``instance_status all`` / ``sstate all`` are every instance, as supv shows them (an
    identifier there is a usage error saying so). Anything else is left to the command (and its errors)."""
    choices: tuple[str, ...]
    if name in EVERY_INSTANCE:
        positions = _positionals(command, args)
        named = [args[i] for i in positions if args[i] != "all"]
        if named:
            raise UsageError(f"{name}: supv shows every instance and takes no identifier ({', '.join(named)}); "
                             "select with --json and jq, e.g. jq '.[] | select(.nick == \"NICK\")'")
        return [token for i, token in enumerate(args) if i not in positions]
    if name in STRATEGY_FIRST:
        choices, lower = STRATEGIES, False
    elif name in CONCILIATION_FIRST:
        choices, lower = CONCILIATIONS, True
    else:
        return args
    positions = _positionals(command, args)
    if positions and args[positions[0]] in choices:
        index = positions[0]
        return [*args[:index], "--strategy", args[index].lower() if lower else args[index], *args[index + 1:]]
    return args


class SupvisorsAlias(click.Command):
    """A supv command under a supvisorsctl name: the same options and help, fixed options first (``--dry-run``
    for ``test_start_*``), and supvisorsctl's leading strategy taken as ``--strategy``."""

    def __init__(self, name: str, target: click.Command, fixed: list[str]) -> None:
        self.__dict__.update(target.__dict__)  # same params, help and callback (shared, not copied)
        self.name = name
        self.fixed = fixed
        self.target = target

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            args = reshape(self.target, self.name or "", args)
        except UsageError:
            if not ctx.resilient_parsing:  # shell completion: never an error
                raise
        return super().parse_args(ctx, [*self.fixed, *args])

    def invoke(self, ctx: click.Context) -> Any:
        return self.target.invoke(ctx)


def alias_command(name: str, target: click.Command, fixed: list[str]) -> click.Command:
    """``target`` under the supvisorsctl name ``name`` (the target itself when nothing changes)."""
    if not fixed and name not in STRATEGY_FIRST | CONCILIATION_FIRST | EVERY_INSTANCE:
        return target
    return SupvisorsAlias(name, target, fixed)
