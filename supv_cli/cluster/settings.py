"""Cluster settings: which instances, which rules files, which credentials and timeout.

Two sources, the command line winning: the cluster options (``-i``, ``-r``, ``-u``, ``--password``,
``--timeout`` and their environment variables, already merged by click into ``ClusterOptions``) and
the file given with ``-c``:

* a supervisord.conf with a ``[rpcinterface:supvisors]`` section (the migration path of Supvisors
  users): its ``supvisors_list``, ``rules_files`` and ``starting_strategy`` are used, with
  Supervisor's expansions (``%(here)s``, ``%(host_node_name)s``, ``%(ENV_X)s``). The section may be
  in a file of the conf's ``[include]``. As in Supvisors, an item without a port gets the port of
  ``[inet_http_server]``. Credentials default to the ``[supervisorctl]`` section, as supervisorctl does.
  Its own ``stereotypes`` go to the local instance (the ``supvisors_list`` item of this supervisord).
* a supv inventory (``[supv]`` + ``[instance:NICK]`` sections, see man supv.conf(5)): the instances in
  file order, each with its URL, stereotypes and credentials, plus rules files, timeout and default
  starting strategy.

Without ``-c`` / ``SUPV_CONFIG`` and without ``-i`` / ``SUPV_INSTANCES``, ``./supv.conf`` then
``~/.config/supv/supv.conf`` is read when it exists. The command line always wins over the file, and
the file over the defaults. A password never appears in a message. Nothing here touches the network.
"""

from __future__ import annotations

import configparser
import glob
import os
import platform
import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Iterable, Mapping

from supv_cli.cluster.instances import Instance, InstanceList, parse_instance, split_instance_specs
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
#: where the inventory is looked for when neither -c/SUPV_CONFIG nor -i/SUPV_INSTANCES is given
DEFAULT_CONFIG_PATHS = ("supv.conf", "~/.config/supv/supv.conf")
INVENTORY_SECTION = "supv"
INSTANCE_PREFIX = "instance:"
#: the keys of an inventory, per section
SUPV_KEYS = ("rules_files", "timeout", "starting_strategy", "username", "password")
INSTANCE_KEYS = ("serverurl", "stereotypes", "username", "password")
# a section header as configparser reads it (leading blanks allowed), to tell the file formats apart
_HEADER_RE = re.compile(r"^[ \t]*\[(?P<name>[^\]]+)\]", re.MULTILINE)
_NICK_OK_RE = re.compile(r"^[^\s,<>@#*%]+$")
_STEREOTYPE_OK_RE = re.compile(r"^@?[^\s,<>@#*%]+$")
# scheme://user[:password]@host: credentials written into a URL (refused, and never echoed)
_URL_CREDENTIALS_RE = re.compile(r"^[a-z][a-z0-9+.-]*://[^/]*@", re.IGNORECASE)


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
    #: credentials for every instance that has none of its own
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float | None = None
    warnings: tuple[str, ...] = ()


def resolve_settings(options: ClusterOptions, require_instances: bool = False) -> ClusterSettings:
    """Merge the command line (and environment) with the ``-c`` file: ``-i`` wins over the file's
    instance list, ``-r`` over its rules files, ``--timeout`` over its timeout, ``-u`` and
    ``--password`` (each on its own, as supervisorctl) over its credentials, per-instance ones
    included. Without ``-c`` and ``-i``, the default inventory is read when there is one."""
    config = options.config
    if not config and not options.instances:
        config = find_default_config()
    from_file = read_config_file(config) if config else None
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
    file_username = from_file.username if from_file else None
    file_password = from_file.password if from_file else None
    username = options.username if options.username is not None else file_username
    password = options.password if options.password is not None else file_password
    if any(i.username is not None or i.password is not None for i in instances):
        instances = InstanceList(merge_credentials(i, options.username, options.password, file_username,
                                                   file_password) for i in instances)
    if options.timeout is not None:
        timeout = options.timeout
    elif from_file and from_file.timeout is not None:
        timeout = from_file.timeout
    else:
        timeout = DEFAULT_TIMEOUT
    settings = ClusterSettings(
        instances=instances,
        rules_files=rules_files,
        username=username,
        password=password,
        timeout=timeout,
        default_starting_strategy=from_file.default_starting_strategy if from_file else None,
        config_file=from_file.path if from_file else None,
        warnings=tuple(warnings),
    )
    if require_instances:
        settings.require_instances()
    return settings


def merge_credentials(instance: Instance, username: str | None, password: str | None,
                      default_username: str | None, default_password: str | None) -> Instance:
    """The credentials of an instance that has some of its own: the command line's first, then its
    own, then the file's defaults (``[supv]``); username and password each on its own."""
    if instance.username is None and instance.password is None:
        return instance  # the global credentials apply
    return replace(
        instance,
        username=next((u for u in (username, instance.username, default_username) if u is not None), None),
        password=next((p for p in (password, instance.password, default_password) if p is not None), None),
    )


def find_default_config() -> str | None:
    """``./supv.conf``, else ``~/.config/supv/supv.conf``, when it exists (None otherwise)."""
    for candidate in DEFAULT_CONFIG_PATHS:
        path = os.path.expanduser(candidate)
        if os.path.isfile(path):
            return os.path.abspath(path)
    return None


# --------------------------------------------------------------------------------------------- files

def _new_parser(strict: bool = False) -> configparser.RawConfigParser:
    # the same dialect as Supervisor's UnhosedConfigParser; an inventory is strict (a duplicate section
    # or key is an error) and has no [DEFAULT] magic (such a section is just an unknown one)
    if strict:
        return configparser.RawConfigParser(inline_comment_prefixes=(";", "#"), strict=True,
                                            default_section="\0no default section")
    return configparser.RawConfigParser(inline_comment_prefixes=(";", "#"), strict=False)


def _read_text(path: str) -> str:
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


def _parse_ini(path: str, text: str | None = None,
               inventory: bool = False) -> tuple[configparser.RawConfigParser, list[str]]:
    """Parse an ini file; return the parser and its lines (to locate options).

    For an inventory, a line that cannot be parsed is not quoted: it may hold a password.
    """
    if text is None:
        text = _read_text(path)
    parser = _new_parser(strict=inventory)
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


def _section_line(lines: list[str], section: str) -> int | None:
    """The 1-based line of the ``[section]`` header."""
    for number, line in enumerate(lines, start=1):
        header = re.match(r"^\s*\[([^\]]+)\]", line)
        if header and header.group(1).strip() == section:
            return number
    return None


def _line_of(lines: list[str], section: str, option: str) -> int | None:
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
    """Read a ``-c`` file: a supv inventory (it has a ``[supv]`` or ``[instance:NICK]`` section) or a
    supervisord.conf with ``[rpcinterface:supvisors]`` (in the file or one of its ``[include]`` files)."""
    path = os.path.abspath(os.path.expanduser(path))
    text = _read_text(path)
    headers = {match.group("name").strip() for match in _HEADER_RE.finditer(text)}
    if INVENTORY_SECTION in headers or any(name.startswith(INSTANCE_PREFIX) for name in headers):
        parser, lines = _parse_ini(path, text, inventory=True)
        return read_inventory(path, parser, lines)
    parser, lines = _parse_ini(path, text)
    return read_supervisord_conf(path, parser, lines)


def read_inventory(path: str, parser: configparser.RawConfigParser, lines: list[str]) -> FileSettings:
    """Read a supv inventory: ``[supv]`` (rules_files, timeout, starting_strategy, default
    credentials) and one ``[instance:NICK]`` per instance (serverurl, stereotypes, username,
    password), instances in file order. Values may use ``%(here)s``, ``%(host_node_name)s`` and
    ``%(ENV_NAME)s``; rules globs are relative to the file's folder."""
    here = os.path.dirname(path)
    expansions = _expansions(here)

    def location(section: str, option: str | None = None) -> str:
        line = _line_of(lines, section, option) if option else _section_line(lines, section)
        return f"{path}:{line}" if line else path

    def value(section: str, option: str) -> str | None:
        if not parser.has_option(section, option):
            return None
        raw = parser.get(section, option)
        where = location(section, option)
        if option == "password":
            return _expand_secret(raw, expansions, where, f"[{section}] password")
        if option == "serverurl" and _URL_CREDENTIALS_RE.match(raw.strip()):
            _refuse_url_credentials(section, where)
        return expand(raw, expansions, where, option).strip()

    for section in parser.sections():
        keys: tuple[str, ...]
        if section == INVENTORY_SECTION:
            keys = SUPV_KEYS
        elif section.startswith(INSTANCE_PREFIX):
            keys = INSTANCE_KEYS
        else:
            raise ConfigError(f"unknown section [{section}]: an inventory has one [supv] section and one "
                              "[instance:NICK] section per supervisord", location(section))
        for option in parser.options(section):
            if option not in keys:
                raise ConfigError(f"unknown key {option!r} in [{section}]; known keys: {', '.join(keys)}",
                                  location(section, option))

    rules_files: list[str] | None = None
    warnings: list[str] = []
    strategy: str | None = None
    timeout: float | None = None
    username = password = None
    if parser.has_section(INVENTORY_SECTION):
        text = value(INVENTORY_SECTION, "rules_files")
        if text is not None:
            where = location(INVENTORY_SECTION, "rules_files")
            if not text.split():
                raise ConfigError("rules_files is empty; give file names or globs, or remove the key", where)
            rules_files, warnings = expand_rules_patterns(text.split(), here, keep_order=False)
            warnings = [f"{where}: {warning}" for warning in warnings]
        text = value(INVENTORY_SECTION, "timeout")
        if text is not None:
            timeout = _timeout(text, location(INVENTORY_SECTION, "timeout"))
        text = value(INVENTORY_SECTION, "starting_strategy")
        if text is not None:
            strategy = _strategy(text, location(INVENTORY_SECTION, "starting_strategy"))
        username = value(INVENTORY_SECTION, "username")
        password = value(INVENTORY_SECTION, "password")

    instances: list[Instance] = []
    for section in parser.sections():
        if not section.startswith(INSTANCE_PREFIX):
            continue
        nick = section[len(INSTANCE_PREFIX):].strip()
        if not _NICK_OK_RE.match(nick):
            raise ConfigError(f"[{section}]: bad instance name {nick!r}: a nick is one word without spaces, "
                              "commas, <, >, %, or a leading sign (*, #, @)", location(section))
        url = value(section, "serverurl")
        if not url:
            raise ConfigError(f"[{section}]: no serverurl; add serverurl = http://host:port or "
                              "unix:///path/to/supervisor.sock", location(section))
        if _URL_CREDENTIALS_RE.match(url):
            _refuse_url_credentials(section, location(section, "serverurl"))
        try:
            instance = parse_instance(f"<{nick}>{url}")
        except ConfigError as error:
            raise ConfigError(f"[{section}] serverurl: {error.message}",
                              location(section, "serverurl")) from None
        stereotypes = _stereotypes(value(section, "stereotypes") or "", f"[{section}] stereotypes",
                                   location(section, "stereotypes"))
        for other in instances:
            if instance.identifier in other.names or other.nick in instance.names:
                raise ConfigError(f"[{section}]: same instance as [{INSTANCE_PREFIX}{other.nick}] "
                                  f"({instance.identifier}); describe each supervisord once",
                                  location(section, "serverurl"))
        instances.append(replace(instance, stereotypes=stereotypes, username=value(section, "username"),
                                 password=value(section, "password")))
    instance_list = InstanceList(instances) if instances else None
    return FileSettings(path=path, instances=instance_list, rules_files=rules_files,
                        default_starting_strategy=strategy, username=username, password=password,
                        timeout=timeout, warnings=tuple(warnings))


def _refuse_url_credentials(section: str, where: str) -> None:
    # the URL is not repeated: it holds a password
    raise ConfigError(f"[{section}] serverurl: credentials in the URL are not supported; use the username "
                      "and password keys", where)


def _expand_secret(raw: str, expansions: Mapping[str, str], where: str, option: str) -> str:
    """Expand a password; an error names the missing environment variable, never the text."""
    try:
        return raw.strip() % expansions
    except KeyError as error:
        name = str(error.args[0])
        if name.startswith("ENV_"):
            raise ConfigError(f"{option}: cannot expand %({name})s: environment variable {name[4:]} is "
                              "not set", where) from None
        raise ConfigError(f"{option}: unknown %(...)s name (the value is not shown); known names: here, "
                          "host_node_name, ENV_<VARIABLE>; write %% for a literal %", where) from None
    except (ValueError, TypeError):
        raise ConfigError(f"{option}: bad %-expansion; write %% for a literal % (the value is not shown)",
                          where) from None


def _timeout(text: str, where: str) -> float:
    try:
        timeout = float(text)
    except ValueError:
        timeout = -1.0
    if not 0.1 <= timeout < float("inf"):
        raise ConfigError(f"timeout: {text!r} is not a number of seconds >= 0.1", where)
    return timeout


def _strategy(text: str, where: str) -> str:
    strategy = text.strip().upper()
    if strategy not in STARTING_STRATEGIES:
        raise ConfigError(f"starting_strategy: unknown strategy {text.strip()!r}; use one of "
                          f"{', '.join(STARTING_STRATEGIES)}", where)
    return strategy


def _stereotypes(text: str, option: str, where: str) -> tuple[str, ...]:
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


def read_supervisord_conf(path: str, parser: configparser.RawConfigParser, lines: list[str]) -> FileSettings:
    """Read the Supvisors options of a supervisord.conf (the section may be in an included file)."""
    where = _find_supvisors_section(path, parser, lines)
    if where is None:
        raise ConfigError(f"not a supv inventory (no [supv] section) and no [{SUPVISORS_SECTION}] section "
                          "(in the file or its [include] files): write an inventory (man supv.conf), add "
                          "supvisors_list = <nick>host:port,... to a supervisord.conf, or give -i", path)
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
        strategy = _strategy(value, location)
    value, location = option("stereotypes")
    if value is not None and instances:
        stereotypes = _stereotypes(value, "stereotypes", location)
        index, problem = _local_instance(parser, instances, expansions)
        if index is None:
            warnings.append(f"{location}: stereotypes {' '.join(stereotypes)} ignored: {problem}")
        elif stereotypes:
            items = list(instances)
            items[index] = replace(items[index], stereotypes=stereotypes)
            instances = InstanceList(items)
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


def _local_instance(parser: configparser.RawConfigParser, instances: InstanceList,
                    expansions: Mapping[str, str]) -> tuple[int | None, str]:
    """The position in ``supvisors_list`` of the supervisord this conf configures, as Supvisors finds
    it: the item whose nick is ``[supervisord] identifier``, else the one item on this host with the
    port of ``[inet_http_server]``. Returns (None, why) when there is no single such item."""
    def expanded(section: str, option: str) -> str:
        try:
            return str(parser.get(section, option, fallback="") % expansions).strip()
        except (KeyError, ValueError, TypeError):
            return ""

    identifier = expanded("supervisord", "identifier")
    if identifier:
        for index, instance in enumerate(instances):
            if instance.nick == identifier:
                return index, ""
    host, _, port = expanded("inet_http_server", "port").rpartition(":")
    if not port.isdigit():
        return None, ("no item of supvisors_list is this supervisord (no [supervisord] identifier naming "
                      "one, no [inet_http_server] port)")
    node = platform.node()
    local = {"localhost", "::1", node, node.split(".")[0]} | ({host} if host not in ("", "*") else set())
    found = [index for index, instance in enumerate(instances)
             if instance.port == int(port) and (instance.node in local or instance.node.startswith("127."))]
    if len(found) == 1:
        return found[0], ""
    if not found:
        return None, f"no item of supvisors_list is this host with port {port}"
    return None, (f"several items of supvisors_list may be this supervisord (port {port}); "
                  "set [supervisord] identifier")


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
