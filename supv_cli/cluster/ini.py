"""Reading configuration files (supervisord.conf and the supv inventory) the way Supervisor does.

Shared by ``inventory`` and ``supvisors_conf``: the ini dialect, ``%(name)s`` expansion, error
locations (``file:line``), rules globs, and the :class:`FileSettings` both readers return.
"""

from __future__ import annotations

import configparser
import glob
import os
import platform
import re
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from supv_cli.errors import ConfigError
from supv_cli.model.instances import InstanceList, split_instance_specs

#: Supvisors' starting strategies, the values ``starting_strategy`` may take
STARTING_STRATEGIES = ("CONFIG", "LESS_LOADED", "MOST_LOADED", "LOCAL", "LESS_LOADED_NODE",
                       "MOST_LOADED_NODE")
INSTANCE_PREFIX = "instance:"
_GLOB_MAGIC = re.compile(r"[*?\[]")
_STEREOTYPE_OK_RE = re.compile(r"^@?[^\s,<>@#*%]+$")


@dataclass(frozen=True)
class FileSettings:
    """What a ``-c`` file provides; None means "not given there"."""

    path: str
    instances: InstanceList | None = None
    rules_files: list[str] | None = None
    default_starting_strategy: str | None = None
    #: credentials for every instance that has none of its own
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float | None = None
    warnings: tuple[str, ...] = ()
    #: ``FILE:LINE`` of what errors point at: "instances" (where instances are, or are to be, declared),
    #: "rules" (the rules_files key), "credentials" (where the default credentials are set)
    locations: Mapping[str, str] = field(default_factory=dict)
    #: how to declare instances in this kind of file, for the error when it declares none
    instances_hint: str = ""


def new_parser(strict: bool = False) -> configparser.RawConfigParser:
    # the same dialect as Supervisor's UnhosedConfigParser; an inventory is strict (a duplicate section
    # or key is an error) and has no [DEFAULT] magic (such a section is just an unknown one)
    if strict:
        return configparser.RawConfigParser(inline_comment_prefixes=(";", "#"), strict=True,
                                            default_section="\0no default section")
    return configparser.RawConfigParser(inline_comment_prefixes=(";", "#"), strict=False)


def read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as stream:
            return stream.read()
    except IsADirectoryError:
        raise ConfigError("is a directory, not a configuration file", path) from None
    except FileNotFoundError:
        raise ConfigError("no such file; check the -c / SUPV_CONFIG path", path) from None
    except UnicodeDecodeError as error:
        raise ConfigError(f"not a UTF-8 text file ({error.reason})", path) from None
    except OSError as error:
        raise ConfigError(f"cannot read: {error.strerror}", path) from None


def parse_ini(path: str, text: str | None = None,
               inventory: bool = False) -> tuple[configparser.RawConfigParser, list[str]]:
    """Parse an ini file; return the parser and its lines (to locate options).

    For an inventory, a line that cannot be parsed is not quoted: it may hold a password.
    """
    if text is None:
        text = read_text(path)
    parser = new_parser(strict=inventory)
    try:
        parser.read_string(text, source=path)
    except configparser.MissingSectionHeaderError as error:
        first = "[supv]" if inventory else "[supervisord]"
        raise ConfigError("line before any [section] header; an ini file starts with a section such as "
                          f"{first}", f"{path}:{error.lineno}") from None
    except configparser.ParsingError as error:
        lineno, line = error.errors[0] if error.errors else (0, "")
        location = f"{path}:{lineno}" if lineno else path
        shown = "this line" if inventory else repr(line.strip())
        raise ConfigError(f"cannot parse {shown}: expected 'name = value' or a [section] header",
                          location) from None
    except configparser.DuplicateSectionError as error:
        what = (f"instance {error.section[len(INSTANCE_PREFIX):]!r} is declared twice"
                if error.section.startswith(INSTANCE_PREFIX) else f"section [{error.section}] appears twice")
        raise ConfigError(f"{what}; merge the two sections", f"{path}:{error.lineno}") from None
    except configparser.DuplicateOptionError as error:
        raise ConfigError(f"{error.option} is set twice in [{error.section}]; keep one",
                          f"{path}:{error.lineno}") from None
    except configparser.Error as error:
        raise ConfigError(f"invalid ini syntax: {error.message}", path) from None
    return parser, text.splitlines()


def section_line(lines: list[str], section: str) -> int | None:
    """The 1-based line of the ``[section]`` header."""
    for number, line in enumerate(lines, start=1):
        header = re.match(r"^\s*\[([^\]]+)\]", line)
        if header and header.group(1).strip() == section:
            return number
    return None


def line_of(lines: list[str], section: str, option: str) -> int | None:
    """The 1-based line where ``option`` of ``[section]`` is set, for error locations."""
    current = None
    key_re = re.compile(rf"^{re.escape(option)}\s*[=:]", re.IGNORECASE)
    for number, line in enumerate(lines, start=1):
        header = re.match(r"^\s*\[([^\]]+)\]", line)
        if header:
            current = header.group(1).strip()
        elif current == section and key_re.match(line):
            return number
    return None


def expansions_for(here: str) -> dict[str, str]:
    values = {"here": here, "host_node_name": platform.node()}
    values.update({f"ENV_{name}": value for name, value in os.environ.items()})
    return values


def expand(value: str, expansions: Mapping[str, str], location: str, option: str) -> str:
    """Supervisor's ``%(name)s`` expansion, with an error that says which name is missing."""
    try:
        return value % expansions
    except KeyError as error:
        name = str(error.args[0])
        hint = (f"environment variable {name[4:]} is not set" if name.startswith("ENV_")
                else "known names: here, host_node_name, ENV_<VARIABLE>")
        raise ConfigError(f"{option}: cannot expand %({name})s: {hint}", location) from None
    except (ValueError, TypeError) as error:
        raise ConfigError(f"{option}: bad %-expansion ({error}); write %% for a literal %",
                          location) from None


def expand_rules_patterns(patterns: Iterable[str], base_dir: str,
                          keep_order: bool) -> tuple[list[str], list[str]]:
    """Expand rules file globs (relative ones from ``base_dir``) to absolute paths.

    ``keep_order`` keeps the given order (``-r``), each glob's matches sorted; without it the result
    is the sorted set, as Supvisors' ``rules_files``. Plain paths are kept even when missing, so that
    the rules loader reports them; a glob that matches nothing gives a warning.
    """
    files: list[str] = []
    warnings: list[str] = []
    for pattern in patterns:
        full = os.path.join(base_dir, os.path.expanduser(pattern))
        if _GLOB_MAGIC.search(pattern):
            matches = sorted(os.path.abspath(path) for path in glob.glob(full))
            if not matches:
                warnings.append(f"no rules file matches {pattern!r}")
            files.extend(matches)
        else:
            files.append(os.path.abspath(full))
    files = list(dict.fromkeys(files))
    return (files if keep_order else sorted(files)), warnings


def check_strategy(text: str, where: str) -> str:
    strategy = text.strip().upper()
    if strategy not in STARTING_STRATEGIES:
        raise ConfigError(f"starting_strategy: unknown strategy {text.strip()!r}; use one of "
                          f"{', '.join(STARTING_STRATEGIES)}", where)
    return strategy


def parse_stereotypes(text: str, option: str, where: str) -> tuple[str, ...]:
    """``@SERVER, @BIG`` (commas or spaces; the ``@`` may be left out) -> ``('@SERVER', '@BIG')``."""
    result: list[str] = []
    for item in split_instance_specs([text]):
        if not _STEREOTYPE_OK_RE.match(item):
            raise ConfigError(f"{option}: bad stereotype {item!r}: write @NAME (no spaces, commas, <, >, %, "
                              "and not a sign alone: *, #, @)", where)
        name = item if item.startswith("@") else f"@{item}"
        if name not in result:
            result.append(name)
    return tuple(result)
