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

import os
import re
from dataclasses import dataclass, field, replace
from typing import Callable, Mapping

from supv_cli.cluster.ini import INSTANCE_PREFIX, FileSettings, expand_rules_patterns, parse_ini, read_text
from supv_cli.cluster.inventory import INVENTORY_SECTION, read_inventory
from supv_cli.cluster.precedence import (
    COMMAND_LINE,
    DEFAULT_FILE,
    ENVIRONMENT,
    Overrides,
    Source,
    file_source,
    option_source,
)
from supv_cli.cluster.supvisors_conf import read_supervisord_conf
from supv_cli.cluster.transport import DEFAULT_TIMEOUT, MAX_ANSWER
from supv_cli.errors import ConfigError
from supv_cli.model.instances import InstanceList

#: the environment variable of the cap of one answer (MiB)
MAX_ANSWER_ENV = "SUPV_MAX_ANSWER"
NO_INSTANCES = "no instances: give -i SPEC, SUPV_INSTANCES or -c FILE"
NO_RULES = "no rules file: give -r FILE, SUPV_RULES or -c FILE (its rules_files)"
#: where the inventory is looked for when neither -c/SUPV_CONFIG nor -i/SUPV_INSTANCES is given
DEFAULT_CONFIG_PATHS = ("supv.conf", "~/.config/supv/supv.conf")
# a section header as configparser reads it (leading blanks allowed), to tell the file formats apart
_HEADER_RE = re.compile(r"^[ \t]*\[(?P<name>[^\]]+)\]", re.MULTILINE)


@dataclass(frozen=True)
class ClusterOptions:
    """Raw cluster options as given on the command line or in the environment (the CLI fills it)."""

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
        return self.origins.get(name, COMMAND_LINE)


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
    #: the cap of one answer's body in bytes (``SUPV_MAX_ANSWER``, in MiB; see ``transport.MAX_ANSWER``)
    max_answer: int = MAX_ANSWER
    #: Supvisors' ``starting_strategy`` option (the default of applications), None when not given
    default_starting_strategy: str | None = None
    #: the ``-c`` file, when one was read
    config_file: str | None = None
    #: where the instances came from, for messages: ``-i``, ``SUPV_INSTANCES`` or the file
    instances_source: str = "-i / SUPV_INSTANCES"
    #: things worth telling the user on stderr (a rules glob that matched nothing, an overridden value...)
    warnings: tuple[str, ...] = ()
    #: the error to raise when a command needs instances and there are none
    no_instances: ConfigError = field(default_factory=lambda: ConfigError(NO_INSTANCES), repr=False, compare=False)
    #: the error to raise when a command needs rules and no rules file was found
    no_rules: ConfigError = field(default_factory=lambda: ConfigError(NO_RULES), repr=False, compare=False)

    def require_instances(self) -> InstanceList:
        """The instances, or a ConfigError when there are none (for commands that need them)."""
        if not self.instances:
            raise self.no_instances
        return self.instances

    def require_rules(self) -> list[str]:
        """The rules files, or a ConfigError saying why there are none (for commands that need them)."""
        if not self.rules_files:
            raise self.no_rules
        return self.rules_files


def resolve_settings(options: ClusterOptions, require_instances: bool = False) -> ClusterSettings:
    """Merge the options (command line and environment) with the ``-c`` file, as cli.md "Precedence"
    says: command line over environment over default files, a ``-c`` given on the command line
    counting as the command line, and at the same level the option over the file. ``-i`` replaces the
    file's instances, ``-r`` its rules files, ``--timeout`` its timeout, ``-u`` and ``--password``
    (each on its own, as supervisorctl) its ``[supv]`` credentials, never an instance's own. Without
    ``-c`` and ``-i``, the default inventory is read when there is one. Each override is a warning."""
    overrides = Overrides()
    for name in options.shadowed:
        overrides.add(name, option_source(name, COMMAND_LINE), option_source(name, ENVIRONMENT))
    config, config_origin = options.config, options.origin("config")
    if not config and not options.instances:
        config, config_origin = find_default_config(), DEFAULT_FILE
    from_file = read_config_file(config) if config else None
    warnings: list[str] = list(from_file.warnings) if from_file else []
    option_wins = _precedence(options, file_source(from_file.path, config_origin) if from_file else None, overrides)
    instances, instances_source = _instances(options, from_file, option_wins)
    rules_files, no_rules = _rules_files(options, from_file, option_wins, warnings)
    if option_wins("timeout", options.timeout is not None, bool(from_file and from_file.timeout is not None)):
        timeout = options.timeout
    else:
        timeout = from_file.timeout if from_file and from_file.timeout is not None else options.timeout
    instances, username, password = resolve_credentials(options, from_file, instances, option_wins)
    unused = unused_global_credentials(options, instances)
    if unused:
        warnings.append(unused)
    settings = ClusterSettings(
        instances=instances,
        rules_files=rules_files,
        username=username,
        password=password,
        timeout=timeout if timeout is not None else DEFAULT_TIMEOUT,
        max_answer=max_answer(os.environ.get(MAX_ANSWER_ENV)),
        default_starting_strategy=from_file.default_starting_strategy if from_file else None,
        config_file=from_file.path if from_file else None,
        instances_source=instances_source,
        warnings=tuple(warnings + overrides.lines()),
        no_instances=_no_instances(from_file),
        no_rules=no_rules,
    )
    if require_instances:
        settings.require_instances()
    return settings


#: ``option_wins(name, given, in_file)``: whether option ``name`` beats the file (see :func:`_precedence`)
OptionWins = Callable[[str, bool, bool], bool]


def _precedence(options: ClusterOptions, source: Source | None, overrides: Overrides) -> OptionWins:
    """Whether an option beats the file (``source``); an override is recorded when both give a value."""

    def option_wins(name: str, given: bool, in_file: bool) -> bool:
        if not given:
            return False
        if not in_file or source is None:
            return True
        option = option_source(name, options.origin(name))
        if option.beats(source):
            overrides.add(name, option, source)
            return True
        overrides.add(name, source, option)
        return False

    return option_wins


def _instances(options: ClusterOptions, from_file: FileSettings | None,
               option_wins: OptionWins) -> tuple[InstanceList, str]:
    """The instances (``-i`` / ``SUPV_INSTANCES`` or the file's) and where they come from."""
    file_instances = from_file.instances if from_file else None
    if option_wins("instances", bool(options.instances), file_instances is not None):
        return InstanceList.parse(options.instances), option_source("instances", options.origin("instances")).label
    source = f"the instances of {from_file.path}" if from_file else "-i / SUPV_INSTANCES"
    return file_instances or InstanceList(), source


def _rules_files(options: ClusterOptions, from_file: FileSettings | None, option_wins: OptionWins,
                 warnings: list[str]) -> tuple[list[str], ConfigError]:
    """The rules files (``-r`` / ``SUPV_RULES`` globs expanded from the current folder, or the file's),
    and the error to raise when a command needs rules and there are none; warnings added to ``warnings``."""
    if option_wins("rules", bool(options.rules), bool(from_file and from_file.rules_files is not None)):
        rules_files, rules_warnings = expand_rules_patterns(options.rules, os.getcwd(), keep_order=True)
        warnings.extend(rules_warnings)
        given = option_source("rules", options.origin("rules")).label
        return rules_files, ConfigError(f"no rules file: {given} {' '.join(options.rules)!r} matches no file; "
                                        "check the path or the glob (relative to the current folder)")
    if from_file and from_file.rules_files is not None:
        return list(from_file.rules_files), ConfigError(
            "no rules file: rules_files matches no file; fix the globs (relative to the file's folder)",
            from_file.locations.get("rules") or from_file.path)
    return [], ConfigError(NO_RULES)


def _no_instances(from_file: FileSettings | None) -> ConfigError:
    """The error to raise when a command needs instances and there are none."""
    if from_file and from_file.instances is None:
        return ConfigError(f"no instance: {from_file.instances_hint}, or give -i SPEC",
                           from_file.locations.get("instances") or from_file.path)
    return ConfigError(NO_INSTANCES)


def max_answer(text: str | None) -> int:
    """The cap of one answer in bytes from ``SUPV_MAX_ANSWER`` (MiB); the default when not set."""
    if not text:
        return MAX_ANSWER
    try:
        mib = float(text)
    except ValueError:
        mib = -1.0
    if not 1 <= mib < 1 << 20:
        raise ConfigError(f"{MAX_ANSWER_ENV}={text!r} is not a size: give MiB between 1 and 1048575, "
                          f"e.g. {MAX_ANSWER_ENV}=64 (default {MAX_ANSWER >> 20})")
    return int(mib * (1 << 20))


def resolve_credentials(options: ClusterOptions, from_file: FileSettings | None, instances: InstanceList,
                        option_wins: OptionWins) -> tuple[InstanceList, str | None, str | None]:
    """The instances with their credentials and where each comes from, and the global credentials.

    An instance whose inventory section gives a username or a password has the inventory's credentials
    only: its own, completed by ``[supv]``'s; ``-u``/``--password``/``SUPV_USERNAME``/``SUPV_PASSWORD``
    never reach it (they are meant for the instances the file says nothing about). The others use the
    global credentials, username and password each on its own: an option that wins goes before
    ``[supv]``'s; one that loses (``SUPV_PASSWORD`` against ``-c FILE``) comes after them."""
    file_username = from_file.username if from_file else None
    file_password = from_file.password if from_file else None
    # what an option may override: [supv]'s credentials, never an instance's own
    file_has = {"username": file_username is not None, "password": file_password is not None}
    wins = {name: option_wins(name, getattr(options, name) is not None, file_has[name])
            for name in ("username", "password")}
    file_auth = from_file.locations.get("credentials", "") if from_file else ""

    def ordered(name: str, own: str | None, own_source: str, default: str | None) -> tuple[str | None, str]:
        option = getattr(options, name)
        option_label = f"{option_source(name, options.origin(name)).label} ({options.origin(name)})"
        candidates = [(own, own_source), (default, file_auth), (option, option_label)]
        if wins[name]:
            candidates.insert(0, candidates.pop())
        return next(((value, label) for value, label in candidates if value is not None), (None, ""))

    username, _ = ordered("username", None, "", file_username)
    password, global_source = ordered("password", None, "", file_password)
    user_source = ordered("username", None, "", file_username)[1]
    merged = []
    for instance in instances:
        if instance.username is None and instance.password is None:
            # the global credentials apply (see client.credentials)
            merged.append(replace(instance, auth_source=global_source or user_source))
        else:
            own_username = instance.username if instance.username is not None else file_username
            own_password = instance.password if instance.password is not None else file_password
            merged.append(replace(instance, username=own_username, password=own_password,
                                  auth_source=instance.auth_source or file_auth))
    return InstanceList(merged), username, password


def unused_global_credentials(options: ClusterOptions, instances: InstanceList) -> str | None:
    """A warning when -u/--password (or their variables) are given and every instance has credentials of
    its own in the inventory: they are sent nowhere."""
    given = [option_source(name, options.origin(name)).label for name in ("username", "password")
             if getattr(options, name) is not None]
    if not given or not len(instances) or any(i.username is None and i.password is None for i in instances):
        return None
    return (f"{' and '.join(given)}: not used, every instance has credentials of its own in the inventory "
            "(they go only to instances without)")


def find_default_config() -> str | None:
    """``./supv.conf``, else ``~/.config/supv/supv.conf``, when it exists (None otherwise)."""
    for candidate in DEFAULT_CONFIG_PATHS:
        path = os.path.expanduser(candidate)
        if os.path.isfile(path):
            return os.path.abspath(path)
    return None


def read_config_file(path: str) -> FileSettings:
    """Read a ``-c`` file: a supv inventory (it has a ``[supv]`` or ``[instance:NICK]`` section) or a
    supervisord.conf with ``[rpcinterface:supvisors]`` (in the file or one of its ``[include]`` files)."""
    path = os.path.abspath(os.path.expanduser(path))
    text = read_text(path)
    headers = {match.group("name").strip() for match in _HEADER_RE.finditer(text)}
    if INVENTORY_SECTION in headers or any(name.startswith(INSTANCE_PREFIX) for name in headers):
        parser, lines = parse_ini(path, text, inventory=True)
        return read_inventory(path, parser, lines)
    parser, lines = parse_ini(path, text)
    return read_supervisord_conf(path, parser, lines)
