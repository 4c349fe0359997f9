"""The ``supv`` command: the root click group and the one list of its commands.

Command modules are imported lazily (only the one being run), so ``supv --help`` stays fast; heavy
libraries (lxml, rich, supervisor) are imported inside the commands, never at module level here.
"""

from __future__ import annotations

import importlib
import signal
import sys
import traceback
from typing import TYPE_CHECKING, Any

import click

from supv_cli import __version__
from supv_cli.cli.options import ENV_DEBUG
from supv_cli.errors import ExitCode, SupvError, Terminated, UsageError

if TYPE_CHECKING:
    from types import FrameType

#: every command of supv: name -> (module under supv_cli.cli, attribute, one-line summary).
#: The summary is here so that ``supv --help`` does not import every command module.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "breed": ("breed", "breed", "Duplicate template groups of Supervisor configuration files."),
    "rules": ("rules", "rules", "Validate and inspect Supvisors rules files."),
    "application-info": ("application_info", "application_info",
                         "Show the state of applications, as supvisorsctl application_info."),
    "sstatus": ("sstatus", "sstatus", "Show every process across the instances, as supvisorsctl sstatus."),
    "instances": ("instances", "instances", "Show every instance: state, load and process counts."),
    "run-plan": ("run_plan", "run_plan", "Start applications stage by stage, as the rules say."),
    "stop-plan": ("stop_plan", "stop_plan", "Stop applications stage by stage (stop_sequence, highest first)."),
    "restart-plan": ("restart_plan", "restart_plan", "Restart applications: stop-plan then run-plan, one report."),
    "start": ("start", "start", "Start processes where the rules place them (APP:PROC, APP:*)."),
    "stop": ("stop", "stop", "Stop processes wherever they run."),
    "restart": ("restart", "restart", "Restart processes: stop, then start placed anew."),
    "conflicts": ("conflicts", "conflicts", "Show managed processes running on more than one instance."),
    "conciliate": ("conciliate", "conciliate", "Resolve conflicts once, with a conciliation strategy."),
    "wait": ("wait", "wait", "Wait until applications are fully started (for scripts and CI)."),
    "controller": ("controller", "controller", "Which controller acts; hold and release them for maintenance."),
    "logs": ("logs", "logs", "Show (and follow) process logs, wherever the processes run."),
    "events": ("events", "events", "Print one line per change seen across the cluster."),
    "top": ("top", "top", "Live dashboard: applications, instances, conflicts and the last events."),
    # supvisorsctl names that are commands of their own (issue 20; see supv-supvisorsctl(7))
    "reload": ("reload", "reload", "Restart supervisord on every instance (or --instance), controllers held."),
    "shutdown": ("shutdown", "shutdown", "Shut supervisord down on every instance (or --instance)."),
    "start_any_process": ("start_any", "start_any_process",
                          "Start one stopped process whose namespec matches a regex, where the rules place it."),
    "all_start": ("all_start", "all_start", "Start a process on every instance its rules allow."),
    "sversion": ("sversion", "sversion", "Show supv's version and each supervisord's."),
    "strategies": ("strategies", "strategies", "Show the strategies in force (controller and rules)."),
    "local_status": ("local_status", "local_status", "Show the processes of the local instance (--local)."),
    # statistics (issue 20): the sampler each supervisord runs, the views, the Prometheus endpoint
    "stats": ("stats", "stats", "CPU and memory per instance and per process, from the samplers."),
    "metrics": ("metrics", "metrics", "Prometheus endpoint (or one exposition) of the cluster's state."),
    "sampler": ("sampler", "sampler", "Sample CPU and memory of a host and its supervisord's processes (a program)."),
    "enable_stats": ("stats_control", "enable_stats", "Start the sampler program on every instance."),
    "disable_stats": ("stats_control", "disable_stats", "Stop the sampler program on every instance."),
    "stats_period": ("stats_control", "stats_period", "Show or set the period of the samplers."),
}

#: aliases kept for supvisorsctl users: name -> the supv command line it stands for (fixed options
#: after the command path); supvisorsctl's leading STRATEGY is taken as --strategy (cli/supvisors_names.py)
ALIASES: dict[str, str] = {"application_info": "application-info", "restart_application": "restart-plan",
                           "start_process": "start", "stop_process": "stop", "restart_process": "restart",
                           "tail": "logs",
                           # issue 20: every supvisorsctl name answers (supv-supvisorsctl(7))
                           "instance_status": "instances", "application_rules": "rules show",
                           "process_rules": "rules show", "start_application": "run-plan",
                           "stop_application": "stop-plan", "test_start_application": "run-plan --dry-run",
                           "test_start_process": "start --dry-run", "restart_sequence": "restart-plan",
                           "master": "controller status", "sstate": "controller status",
                           "sreload": "reload", "sshutdown": "shutdown",
                           "stats_status": "stats"}

EXIT_CODES_HELP = "\b\nExit codes:\n" + "\n".join(
    f"  {code.value:<4}{text}"
    for code, text in (
        (ExitCode.OK, "success"),
        (ExitCode.FAILED, "the operation failed, or --check found a problem"),
        (ExitCode.USAGE, "usage, rules or configuration error"),
        (ExitCode.UNREACHABLE, "an instance needed by the command could not be reached"),
        (ExitCode.INTERRUPTED, "interrupted (Ctrl-C)"),
        (ExitCode.TERMINATED, "terminated (SIGTERM); a run prints its report first, as on Ctrl-C"),
    )
)
#: ``ctx.meta`` key (shared by every context of a run) set by ``--debug`` wherever it is given
DEBUG = "supv.debug"
DEBUG_HELP = "Also show the Python traceback of an error (same exit code) [SUPV_DEBUG]."


def _set_debug(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.meta[DEBUG] = True


def debugging(ctx: click.Context) -> bool:
    """``--debug`` given before or after the command, or SUPV_DEBUG."""
    return bool(ctx.meta.get(DEBUG))


def with_debug_option(command: click.Command) -> click.Command:
    """Accept ``--debug`` after the command too (``supv instances --debug``), in subcommands as well."""
    if not any(param.name == "debug" for param in command.params):
        command.params.append(click.Option(["--debug"], is_flag=True, expose_value=False, callback=_set_debug,
                                           help=DEBUG_HELP))
    if isinstance(command, click.Group):
        for subcommand in command.commands.values():
            with_debug_option(subcommand)
    return command


class LazyGroup(click.Group):
    """A group whose commands are imported only when they are run or their help is shown."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        from supv_cli.cli.supvisors_names import UNSUPPORTED, alias_command, unsupported_command

        if cmd_name in UNSUPPORTED:
            return with_debug_option(unsupported_command(cmd_name))
        words = ALIASES.get(cmd_name, cmd_name).split()
        if words[0] not in COMMANDS:
            return None
        module_name, attribute, _ = COMMANDS[words[0]]
        module = importlib.import_module(f"supv_cli.cli.{module_name}")
        command: click.Command = getattr(module, attribute)
        for word in (w for w in words[1:] if not w.startswith("-")):  # a subcommand: `rules show`
            command = command.commands[word]  # type: ignore[attr-defined]
        command = alias_command(cmd_name, command, [w for w in words[1:] if w.startswith("-")])
        return with_debug_option(command)

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None,
                                                                          list[str]]:
        """An unknown command name is one line (exit 2) with the closest names, not click's usage block."""
        name = args[0]
        if ctx.resilient_parsing or name.startswith("-") or self.get_command(ctx, name) is not None:
            return super().resolve_command(ctx, args)
        import difflib

        from supv_cli.cli.supvisors_names import UNSUPPORTED

        close = difflib.get_close_matches(name, [*COMMANDS, *ALIASES, *UNSUPPORTED], n=3)
        hint = f" (did you mean {' or '.join(close)}?)" if close else ""
        raise UsageError(f"No such command {name!r}{hint}: `supv --help` lists the commands and the Supvisors names")

    def invoke(self, ctx: click.Context) -> Any:  # Any: click's signature (what the command returns)
        """Run the command; a SupvError becomes one line on stderr and its exit code, Ctrl-C exit 130 and
        SIGTERM 143. ``--debug`` adds the traceback and changes nothing else."""
        try:
            return super().invoke(ctx)
        except SupvError as error:
            if debugging(ctx):
                traceback.print_exc()
            report_error(error)
            ctx.exit(int(error.exit_code))
        except KeyboardInterrupt as interrupt:
            if debugging(ctx):
                traceback.print_exc()
            terminated = isinstance(interrupt, Terminated)
            click.echo("supv: terminated" if terminated else "supv: interrupted", err=True)
            ctx.exit(int(ExitCode.TERMINATED if terminated else ExitCode.INTERRUPTED))
        except BrokenPipeError:
            # stdout closed early (``supv logs ... | head``): the reader had what it wanted, not a
            # failure. click would exit 1; what is still buffered must not fail again at exit
            from supv_cli.cli.output import silence_stdout

            silence_stdout()
            ctx.exit(int(ExitCode.OK))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, summary) for name, (_, _, summary) in COMMANDS.items()]
        from supv_cli.cli.supvisors_names import SUPVISORSCTL_NAMES, UNSUPPORTED

        rows.append(("Supvisors names", ", ".join(f"{alias} ({target})" for alias, target in ALIASES.items())
                     + "; " + ", ".join(name for name in SUPVISORSCTL_NAMES if name in COMMANDS)
                     + "; not available (exit 2, see supv-supvisorsctl(7)): " + ", ".join(UNSUPPORTED)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(
    cls=LazyGroup,
    epilog=EXIT_CODES_HELP,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "--version", prog_name="supv")
@click.option("--debug", is_flag=True, envvar=ENV_DEBUG, help=DEBUG_HELP)
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Supvisors-style staged start, status and failover for plain Supervisor clusters.

    supv reads Supvisors rules files and talks to stock supervisord instances over XML-RPC;
    nothing is installed inside supervisord.
    """
    from supv_cli.cli.app import App

    if not isinstance(ctx.obj, App):  # tests may give their own (with a Terminal of their own)
        ctx.obj = App()
    if debug:
        ctx.meta[DEBUG] = True


def report_error(error: SupvError) -> None:
    """Print a SupvError as users see it: one ``supv: error: ...`` line per problem."""
    lines = getattr(error, "errors", None) or ([str(error)] if str(error) else [])
    for line in lines:
        # problems located in a file keep the compiler-like ``FILE:LINE: message`` shape editors understand
        from supv_cli.cli.output import LOCATED_RE
        from supv_cli.cli.terminal import current_terminal

        shown = line if LOCATED_RE.match(line) else f"supv: error: {line}"
        click.echo(current_terminal().err(shown), err=True, color=True)


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise Terminated()


def main(argv: list[str] | None = None) -> Any:  # Any: what click's main gives back
    """Run supv as a process: Ctrl-C raises KeyboardInterrupt and SIGTERM :class:`Terminated`, so that
    both stop a command the same way (a run prints its report) and end in the one error boundary."""
    for signum, handler in ((signal.SIGINT, signal.default_int_handler), (signal.SIGTERM, _terminate)):
        if signal.getsignal(signum) is not signal.SIG_IGN:  # nohup, or & in a script: stay ignored
            signal.signal(signum, handler)
    try:
        return cli.main(args=argv, prog_name="supv")
    except BrokenPipeError:
        # stdout closed early (``supv ... | head``): not an error of ours
        sys.stderr.close()
        sys.exit(int(ExitCode.OK))
