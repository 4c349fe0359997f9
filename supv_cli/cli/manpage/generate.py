"""The parts of a man page that the click commands know: NAME, SYNOPSIS, OPTIONS (with environment
variables and defaults), EXIT STATUS, and, for a command without prose, DESCRIPTION and EXAMPLES.

Every command is enumerated from the lazy command table (``supv_cli.cli.COMMANDS`` and ``ALIASES``), so a
command added there gets a page without anything to do here.
"""

from __future__ import annotations

from dataclasses import dataclass

import click

from supv_cli import __version__
from supv_cli.cli import ALIASES, COMMANDS, EXIT_CODES_HELP, cli
from supv_cli.cli.manpage.roff import (
    HelpText,
    bold,
    escape,
    example_roff,
    exit_roff,
    italic,
    paragraphs_roff,
    read_help,
    unbreakable,
)
from supv_cli.cli.options import ENV

#: options every command that talks to supervisord has: one ``[CLUSTER OPTIONS]`` in a synopsis
CLUSTER_PARAMS = frozenset(ENV)
#: options shown by every command, not worth a place in a synopsis
QUIET_PARAMS = frozenset({"debug"})


def is_help(param: click.Parameter, context: click.Context) -> bool:
    return isinstance(param, click.Option) and set(param.opts) == set(context.help_option_names)


@dataclass
class Entry:
    """One option or argument of the OPTIONS section."""

    keys: tuple[str, ...]   # what prose notes may name it by: its flags, or its argument metavar
    tag: str                # roff of the ``.TP`` tag line
    text: str               # roff of its description


@dataclass
class Part:
    """A command, or one subcommand of a group, as the page shows it."""

    path: str               # ``supv restart``, ``supv rules check``
    command: click.Command
    context: click.Context
    help: HelpText


def root_context() -> click.Context:
    return click.Context(cli, info_name="supv", **cli.context_settings)


def command_of(name: str) -> click.Command:
    """The command as ``supv NAME`` runs it (with the ``--debug`` the group adds)."""
    command = cli.get_command(root_context(), name)
    if command is None:
        raise KeyError(name)
    return command


def help_of(command: click.Command) -> HelpText:
    return read_help("\n\n".join(text for text in (command.help, command.epilog) if text))


def parts(name: str) -> list[Part]:
    """The command, then its subcommands (a group's page documents each of them)."""
    parent = root_context()
    command = command_of(name)
    context = click.Context(command, parent=parent, info_name=name)
    found = [Part(f"supv {name}", command, context, help_of(command))]
    if isinstance(command, click.Group):
        for sub_name in command.list_commands(context):
            sub = command.get_command(context, sub_name)
            if sub is not None and not sub.hidden:
                found.append(Part(f"supv {name} {sub_name}", sub,
                                  click.Context(sub, parent=context, info_name=sub_name), help_of(sub)))
    return found


def aliases_of(name: str) -> list[str]:
    """The aliases of a command, also those standing for a subcommand or fixed options (``rules show``,
    ``run-plan --dry-run``): supv-supvisorsctl(7) says what each one stands for."""
    return [alias for alias, target in ALIASES.items() if target.split()[0] == name]


# ----------------------------------------------------------------------------- sections
def th(page: str, section: int = 1) -> str:
    return f'.TH {escape(page.upper())} {section} "" "supv {__version__}" "User Commands"'


def name_section(name: str) -> list[str]:
    summary = COMMANDS[name][2].rstrip(".")
    aliases = aliases_of(name)
    also = f" (alias{'es' if len(aliases) > 1 else ''} {', '.join(aliases)})" if aliases else ""
    return [escape(f"supv-{name}") + " \\- " + escape(summary[:1].lower() + summary[1:] + also)]


def metavar(param: click.Parameter, context: click.Context) -> str:
    if param.metavar:
        return param.metavar
    if isinstance(param.type, click.Choice):
        return "|".join(str(choice) for choice in param.type.choices)
    return param.type.name.upper()


def takes_value(param: click.Parameter) -> bool:
    return not (isinstance(param, click.Option) and (param.is_flag or param.count))


def synopsis_line(part: Part) -> list[str]:
    """``supv restart [CLUSTER OPTIONS] [--json] [--strategy STRATEGY] ... NAMESPEC...``"""
    out = [f".B {escape(part.path)}"]
    params = part.command.get_params(part.context)
    if any(param.name in CLUSTER_PARAMS for param in params):
        out.append("[\\fICLUSTER\\ OPTIONS\\fR]")
    arguments = []
    for param in params:
        if param.name in CLUSTER_PARAMS or param.name in QUIET_PARAMS or getattr(param, "hidden", False) \
                or is_help(param, part.context):
            continue
        if isinstance(param, click.Argument):
            var = param.metavar or (param.name or "").upper()
            shown = italic(var) + ("" if param.nargs == 1 or var.endswith("...") else "\\ ...")
            arguments.append(shown if param.required or var.startswith("[") else f"[{shown}]")
            continue
        flag = max(param.opts, key=len)
        value = f"\\ \\fI{unbreakable(metavar(param, part.context))}\\fR" if takes_value(param) else ""
        out.append(f"[\\fB{unbreakable(flag)}\\fR{value}]")
    out.extend(arguments)
    if isinstance(part.command, click.Group):
        out.append("\\fICOMMAND\\fR [\\fIARGS\\fR]")
    return out


def synopsis_section(parts_: list[Part]) -> list[str]:
    lines: list[str] = []
    shown = parts_[1:] if len(parts_) > 1 else parts_
    for part in shown:
        if lines:
            lines.append(".br")
        lines.extend(synopsis_line(part))
    return lines


def entry(param: click.Parameter, context: click.Context) -> Entry | None:
    if getattr(param, "hidden", False):
        return None
    if isinstance(param, click.Argument):
        var = param.metavar or (param.name or "").upper()
        many = "; one or more" if param.nargs == -1 else ""
        keys = (var, var.strip("[]. "), var.replace("[", "").replace("]", "").strip(". "), (param.name or "").upper())
        return Entry(keys, italic(var),
                     ("Required" if param.required else "Optional") + many + ".")
    assert isinstance(param, click.Option)
    names = [*param.opts, *param.secondary_opts]
    value = f" {italic(metavar(param, context))}" if takes_value(param) else ""
    tag = ", ".join(bold(name) + value for name in param.opts)
    if param.secondary_opts:
        tag += ", " + ", ".join(bold(name) for name in param.secondary_opts)
    help_text = param.help or ""
    extras = ["Required."] if param.required else []
    envvar = param.envvar if isinstance(param.envvar, str) else None
    if envvar and envvar not in help_text:
        extras.append(f"Environment: {envvar}.")
    bounds = range_text(param.type)
    if bounds:
        extras.append(bounds)
    show_default = param.show_default if param.show_default is not None else context.show_default
    if show_default and param.default is not None and not param.is_flag:
        extras.append(f"Default: {param.default}.")
    text = " ".join(part for part in (help_text.strip(), *extras) if part)
    return Entry(tuple(names), tag, escape(text))


def number(value: float) -> str:
    """3600.0 -> 3600, 0.02 -> 0.02."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def range_text(kind: click.ParamType) -> str:
    """``Range: 0.02 to 10.``, ``At least 0.1.``: the bounds of a click range (``--help`` shows them as
    ``[0.02<=x<=10]``), or of any type with ``min``/``max`` bounds (``options.Seconds``, which --help
    does not show)."""
    if not hasattr(kind, "min") and not hasattr(kind, "max"):
        return ""
    low, high = getattr(kind, "min", None), getattr(kind, "max", None)
    min_open, max_open = getattr(kind, "min_open", False), getattr(kind, "max_open", False)
    if low is not None and high is not None:
        return f"Range: {number(low)} to {number(high)}."
    if low is not None:
        return f"At least {number(low)}." if not min_open else f"More than {number(low)}."
    if high is not None:
        return f"At most {number(high)}." if not max_open else f"Less than {number(high)}."
    return ""


def entries(part: Part) -> list[Entry]:
    """Arguments first (what the command acts on), then the options in the order of ``--help``."""
    params = part.command.get_params(part.context)
    ordered: list[click.Parameter] = [param for param in params if isinstance(param, click.Argument)]
    ordered += [param for param in params if not isinstance(param, click.Argument)]
    found = [entry(param, part.context) for param in ordered]
    return [item for item in found if item is not None]


def exit_section(parts_: list[Part]) -> list[str]:
    """The exit codes the help gives (one list per subcommand of a group); the table of ``supv --help``
    for a command whose help gives none."""
    general = read_help(EXIT_CODES_HELP).exit_codes
    if len(parts_) == 1:
        return exit_roff(parts_[0].help.exit_codes or general)
    out: list[str] = []
    for part in parts_[1:]:
        out.extend([f".SS {escape(part.path)}", *exit_roff(part.help.exit_codes or general)])
    return out


def description_section(parts_: list[Part]) -> list[str]:
    out = paragraphs_roff(parts_[0].help.paragraphs)
    for part in parts_[1:]:
        out.extend([".TP", bold(part.path), *paragraphs_roff(part.help.paragraphs[:1])])
    return out


def examples_section(parts_: list[Part]) -> list[str]:
    lines: list[str] = []
    for part in parts_:
        if part.help.examples and lines:
            lines.append("")
        lines.extend(part.help.examples)
    return example_roff(lines)


# ----------------------------------------------------------------------------- the root page, supv(1)
def root_help() -> HelpText:
    return read_help("\n\n".join(text for text in (cli.help, cli.epilog) if text))


def root_entries() -> list[Entry]:
    context = root_context()
    return [item for item in (entry(param, context) for param in cli.get_params(context)) if item is not None]


def commands_section() -> list[tuple[str, list[str]]]:
    """(command, its ``.TP`` entry: summary, aliases, subcommands and page), in the table's order."""
    out: list[tuple[str, list[str]]] = []
    for name, (_, _, summary) in COMMANDS.items():
        aliases = aliases_of(name)
        tag = bold(name) + (f" (alias {', '.join(bold(alias) for alias in aliases)})" if aliases else "")
        subcommands = [part.path.split()[-1] for part in parts(name)[1:]]
        also = f" Subcommands: {', '.join(bold(sub) for sub in subcommands)}." if subcommands else ""
        out.append((name, [".TP", tag, f"{escape(summary)}{also}", f"See {bold(f'supv-{name}')}(1)."]))
    return out


def root_synopsis() -> list[str]:
    return [".B supv", "[\\fB\\-\\-debug\\fR]", "[\\fB\\-\\-version\\fR]", "\\fICOMMAND\\fR",
            "[\\fIOPTIONS\\fR]", "[\\fIARGS\\fR]"]


def see_also_commands() -> list[str]:
    return [f".BR supv\\-{escape(name).replace(' ', '')} (1)," for name in COMMANDS]
