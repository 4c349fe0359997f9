"""The ``supv`` command: the root click group and the one list of its commands.

Command modules are imported lazily (only the one being run), so ``supv --help`` stays fast; heavy
libraries (lxml, rich, supervisor) are imported inside the commands, never at module level here.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from supv_cli import __version__
from supv_cli.cli.options import ENV_DEBUG
from supv_cli.errors import ExitCode, SupvError

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
    "logs": ("logs", "logs", "Show (and follow) process logs, wherever the processes run."),
    "events": ("events", "events", "Print one line per change seen across the cluster."),
    "top": ("top", "top", "Live dashboard: applications, instances, conflicts and the last events."),
}

#: aliases kept for supvisorsctl users
ALIASES: dict[str, str] = {"application_info": "application-info", "tail": "logs"}

EXIT_CODES_HELP = "\b\nExit codes:\n" + "\n".join(
    f"  {code.value:<4}{text}"
    for code, text in (
        (ExitCode.OK, "success"),
        (ExitCode.FAILED, "the operation failed, or --check found a problem"),
        (ExitCode.USAGE, "usage, rules or configuration error"),
        (ExitCode.UNREACHABLE, "an instance needed by the command could not be reached"),
        (ExitCode.INTERRUPTED, "interrupted"),
    )
)


class LazyGroup(click.Group):
    """A group whose commands are imported only when they are run or their help is shown."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        name = ALIASES.get(cmd_name, cmd_name)
        if name not in COMMANDS:
            return None
        module_name, attribute, _ = COMMANDS[name]
        module = importlib.import_module(f"supv_cli.cli.{module_name}")
        command: click.Command = getattr(module, attribute)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; a SupvError becomes one line on stderr and its exit code."""
        try:
            return super().invoke(ctx)
        except SupvError as error:
            if getattr(ctx.obj, "debug", False):
                raise
            report_error(error)
            ctx.exit(int(error.exit_code))
        except KeyboardInterrupt:
            click.echo("supv: interrupted", err=True)
            ctx.exit(int(ExitCode.INTERRUPTED))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, summary) for name, (_, _, summary) in COMMANDS.items()]
        rows += [(alias, f"Alias of {target}.") for alias, target in ALIASES.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(
    cls=LazyGroup,
    epilog=EXIT_CODES_HELP,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "--version", prog_name="supv")
@click.option("--debug", is_flag=True, envvar=ENV_DEBUG, help="Show Python tracebacks on errors [SUPV_DEBUG].")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Supvisors-style staged start, status and failover for plain Supervisor clusters.

    supv reads Supvisors rules files and talks to stock supervisord instances over XML-RPC;
    nothing is installed inside supervisord.
    """
    from supv_cli.cli.app import App

    ctx.obj = App(debug=debug)


def report_error(error: SupvError) -> None:
    """Print a SupvError as users see it: one ``supv: error: ...`` line per problem."""
    lines = getattr(error, "errors", None) or ([str(error)] if str(error) else [])
    for line in lines:
        # problems located in a file keep the compiler-like ``FILE:LINE: message`` shape editors understand
        from supv_cli.cli.output import LOCATED_RE

        click.echo(line if LOCATED_RE.match(line) else f"supv: error: {line}", err=True)


def main(argv: list[str] | None = None) -> Any:
    """Entry point of the ``supv`` console script and of ``python -m supv_cli``."""
    try:
        return cli.main(args=argv, prog_name="supv")
    except BrokenPipeError:
        # stdout closed early (``supv ... | head``): not an error of ours
        sys.stderr.close()
        sys.exit(int(ExitCode.OK))
