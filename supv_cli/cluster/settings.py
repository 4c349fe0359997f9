"""Cluster settings: which instances, which rules files, which credentials and timeout.

Two sources, the command line winning: the cluster options (``-i``, ``-r``, ``-u``, ``--password``,
``--timeout`` and their environment variables, already merged by click into ``ClusterOptions``) and
the file given with ``-c``:

* a supervisord.conf with a ``[rpcinterface:supvisors]`` section (the migration path of Supvisors
  users): its ``supvisors_list``, ``rules_files`` and ``starting_strategy`` are used, with
  Supervisor's expansions (``%(here)s``, ``%(host_node_name)s``, ``%(ENV_X)s``). The section may be
  in a file of the conf's ``[include]``. As in Supvisors, an item without a port gets the port of
  ``[inet_http_server]``. Credentials default to the ``[supervisorctl]`` section, as supervisorctl does.
* a supv inventory (``[supv]`` + ``[instance:NICK]`` sections): not implemented yet, see
  :func:`read_inventory`, the one place to fill in.

Nothing here touches the network.
"""

from __future__ import annotations

import configparser
import glob
import os
import platform
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, Mapping

from supv_cli.cluster.instances import InstanceList, parse_instance, split_instance_specs
from supv_cli.cluster.transport import DEFAULT_TIMEOUT
from supv_cli.errors import ConfigError

if TYPE_CHECKING:  # the core never imports click at run time
    from supv_cli.cli.options import ClusterOptions

SUPVISORS_SECTION = "rpcinterface:supvisors"
#: Supvisors' starting strategies, the values ``starting_strategy`` may take
STARTING_STRATEGIES = ("CONFIG", "LESS_LOADED", "MOST_LOADED", "LOCAL", "LESS_LOADED_NODE",
                       "MOST_LOADED_NODE")
_GLOB_MAGIC = re.compile(r"[*?\[]")
# an item without port: optional <nick>, then a bare host name (no scheme, no colon)
_NO_PORT_RE = re.compile(r"^(<[^<>]*>)?([^:/<>\s\[\]]+)$")
NO_INSTANCES = "no instances: give -i, SUPV_INSTANCES or -c"


@dataclass(frozen=True)
class ClusterSettings:
    """Everything a command needs to reach the cluster and read its rules."""

    instances: InstanceList = field(default_factory=InstanceList)
    #: absolute paths: globs already expanded, plain paths kept as given (a missing one is reported
    #: by the rules loader)
    rules_files: list[str] = field(default_factory=list)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = DEFAULT_TIMEOUT
    #: Supvisors' ``starting_strategy`` option (the default of applications), None when not given
    default_starting_strategy: str | None = None
    #: the ``-c`` file, when one was read
    config_file: str | None = None
    #: things worth telling the user on stderr (a rules glob that matched nothing...)
    warnings: tuple[str, ...] = ()

    def require_instances(self) -> InstanceList:
        """The instances, or a ConfigError when there are none (for commands that need them)."""
        if not self.instances:
            raise ConfigError(NO_INSTANCES)
        return self.instances


@dataclass(frozen=True)
class FileSettings:
    """What a ``-c`` file provides; None means "not given there"."""

    path: str
    instances: InstanceList | None = None
    rules_files: list[str] | None = None
    default_starting_strategy: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    warnings: tuple[str, ...] = ()


def resolve_settings(options: ClusterOptions, require_instances: bool = False) -> ClusterSettings:
    """Merge the command line (and environment) with the ``-c`` file: ``-i`` wins over the file's
    instance list, ``-r`` over its rules files, ``-u`` / ``--password`` over its credentials."""
    from_file = read_config_file(options.config) if options.config else None
    warnings: list[str] = list(from_file.warnings) if from_file else []
    if options.instances:
        instances = InstanceList.parse(options.instances)
    elif from_file and from_file.instances is not None:
        instances = from_file.instances
    else:
        instances = InstanceList()
    if options.rules:
        rules_files, rules_warnings = expand_rules_patterns(options.rules, os.getcwd(), keep_order=True)
        warnings.extend(rules_warnings)
    else:
        rules_files = list(from_file.rules_files or []) if from_file else []
    if options.username is not None:
        username, password = options.username, options.password
    elif from_file and from_file.username is not None:
        username = from_file.username
        password = options.password if options.password is not None else from_file.password
    else:
        username, password = None, options.password
    settings = ClusterSettings(
        instances=instances,
        rules_files=rules_files,
        username=username,
        password=password,
        timeout=options.timeout if options.timeout is not None else DEFAULT_TIMEOUT,
        default_starting_strategy=from_file.default_starting_strategy if from_file else None,
        config_file=from_file.path if from_file else None,
        warnings=tuple(warnings),
    )
    if require_instances:
        settings.require_instances()
    return settings


# --------------------------------------------------------------------------------------------- files

def _new_parser() -> configparser.RawConfigParser:
    # the same dialect as Supervisor's UnhosedConfigParser
    return configparser.RawConfigParser(inline_comment_prefixes=(";", "#"), strict=False)


def _parse_ini(path: str) -> tuple[configparser.RawConfigParser, list[str]]:
    """Parse an ini file; return the parser and its lines (to locate options)."""
    try:
        with open(path, encoding="utf-8") as stream:
            text = stream.read()
    except IsADirectoryError:
        raise ConfigError("is a directory, not a configuration file", path) from None
    except FileNotFoundError:
        raise ConfigError("no such file; check the -c / SUPV_CONFIG path", path) from None
    except UnicodeDecodeError as error:
        raise ConfigError(f"not a UTF-8 text file ({error.reason})", path) from None
    except OSError as error:
        raise ConfigError(f"cannot read: {error.strerror}", path) from None
    parser = _new_parser()
    try:
        parser.read_string(text, source=path)
    except configparser.MissingSectionHeaderError as error:
        raise ConfigError("line before any [section] header; an ini file starts with a section such as "
                          "[supervisord]", f"{path}:{error.lineno}") from None
    except configparser.ParsingError as error:
        lineno, line = error.errors[0] if error.errors else (0, "")
        location = f"{path}:{lineno}" if lineno else path
        raise ConfigError(f"cannot parse {line.strip()!r}: expected 'name = value' or a [section] header",
                          location) from None
    except configparser.Error as error:
        raise ConfigError(f"invalid ini syntax: {error.message}", path) from None
    return parser, text.splitlines()


def _line_of(lines: list[str], section: str, option: str) -> int | None:
    """The 1-based line where ``option`` of ``[section]`` is set, for error locations."""
    current = None
    key_re = re.compile(rf"^{re.escape(option)}\s*[=:]", re.IGNORECASE)
    for number, line in enumerate(lines, start=1):
        header = re.match(r"^\[([^\]]+)\]", line)
        if header:
            current = header.group(1).strip()
        elif current == section and key_re.match(line):
            return number
    return None


def _expansions(here: str) -> dict[str, str]:
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


def read_config_file(path: str) -> FileSettings:
    """Read a ``-c`` file: a supv inventory or a supervisord.conf with ``[rpcinterface:supvisors]``."""
    path = os.path.abspath(os.path.expanduser(path))
    parser, lines = _parse_ini(path)
    sections = parser.sections()
    if "supv" in sections or any(name.startswith("instance:") for name in sections):
        return read_inventory(path, parser, lines)
    return read_supervisord_conf(path, parser, lines)


def read_inventory(path: str, parser: configparser.RawConfigParser, lines: list[str]) -> FileSettings:
    """Extension point: the supv inventory format (``[supv]`` + ``[instance:NICK]`` sections with
    serverurl, stereotypes and credentials). Another issue implements it; return a FileSettings
    (per-instance credentials go into ``Instance.username`` / ``Instance.password``)."""
    raise ConfigError("supv inventory files ([supv] / [instance:NICK] sections) are not supported by this "
                      "version; use -i, or a supervisord.conf with a [rpcinterface:supvisors] section", path)


def read_supervisord_conf(path: str, parser: configparser.RawConfigParser, lines: list[str]) -> FileSettings:
    """Read the Supvisors options of a supervisord.conf (the section may be in an included file)."""
    where = _find_supvisors_section(path, parser, lines)
    if where is None:
        raise ConfigError(f"no [{SUPVISORS_SECTION}] section (in the file or its [include] files): add one "
                          "with supvisors_list = <nick>host:port,..., or give the instances with -i", path)
    section_path, section_parser, section_lines = where
    here = os.path.dirname(section_path)
    expansions = _expansions(here)

    def option(name: str) -> tuple[str | None, str]:
        line = _line_of(section_lines, SUPVISORS_SECTION, name)
        location = f"{section_path}:{line}" if line else section_path
        if not section_parser.has_option(SUPVISORS_SECTION, name):
            return None, location
        raw = section_parser.get(SUPVISORS_SECTION, name)
        return expand(raw, expansions, location, name), location

    instances: InstanceList | None = None
    value, location = option("supvisors_list")
    if value is not None:
        port = _inet_http_port(parser)
        try:
            instances = InstanceList(parse_instance(_with_port(item, port))
                                     for item in split_instance_specs([value]))
        except ConfigError as error:
            raise ConfigError(f"supvisors_list: {error.message}", location) from None
    rules_files: list[str] | None = None
    warnings: list[str] = []
    value, location = option("rules_files")
    if value is not None:
        rules_files, warnings = expand_rules_patterns(value.split(), here, keep_order=False)
        warnings = [f"{location}: {warning}" for warning in warnings]
    strategy: str | None = None
    value, location = option("starting_strategy")
    if value is not None:
        strategy = value.strip().upper()
        if strategy not in STARTING_STRATEGIES:
            raise ConfigError(f"starting_strategy: unknown strategy {value.strip()!r}; use one of "
                              f"{', '.join(STARTING_STRATEGIES)}", location)
    username = password = None
    if parser.has_section("supervisorctl"):
        username = parser.get("supervisorctl", "username", fallback=None)
        password = parser.get("supervisorctl", "password", fallback=None)
    return FileSettings(path=path, instances=instances, rules_files=rules_files,
                        default_starting_strategy=strategy, username=username, password=password,
                        warnings=tuple(warnings))


def _find_supvisors_section(
    path: str, parser: configparser.RawConfigParser, lines: list[str]
) -> tuple[str, configparser.RawConfigParser, list[str]] | None:
    """The file holding ``[rpcinterface:supvisors]``: the conf itself, else its ``[include]`` files in
    Supervisor's order (each pattern relative to the conf's folder, matches sorted)."""
    if parser.has_section(SUPVISORS_SECTION):
        return path, parser, lines
    if not parser.has_option("include", "files"):
        return None
    here = os.path.dirname(path)
    line = _line_of(lines, "include", "files")
    location = f"{path}:{line}" if line else path
    patterns = expand(parser.get("include", "files"), _expansions(here), location, "files").split()
    for pattern in patterns:
        for included in sorted(glob.glob(os.path.join(here, pattern))):
            sub_parser, sub_lines = _parse_ini(os.path.abspath(included))
            if sub_parser.has_section(SUPVISORS_SECTION):
                return os.path.abspath(included), sub_parser, sub_lines
    return None


def _inet_http_port(parser: configparser.RawConfigParser) -> str | None:
    """The port of ``[inet_http_server] port = [host]:PORT``, if any."""
    if not parser.has_section("inet_http_server"):
        return None
    value = parser.get("inet_http_server", "port", fallback=None)
    if value is None:
        return None
    port = value.strip().rpartition(":")[2]
    return port if port.isdigit() else None


def _with_port(item: str, port: str | None) -> str:
    """Supvisors lets an item omit its port (the local supervisord's); give it that port."""
    if port is not None and _NO_PORT_RE.match(item):
        return f"{item}:{port}"
    return item
