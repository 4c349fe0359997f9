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

from supv_cli.cluster.ini import INSTANCE_PREFIX, FileSettings, expand_rules_patterns, parse_ini, read_text
from supv_cli.cluster.instances import Instance, InstanceList
from supv_cli.cluster.inventory import INVENTORY_SECTION, read_inventory
from supv_cli.cluster.supvisors_conf import read_supervisord_conf
from supv_cli.cluster.transport import DEFAULT_TIMEOUT
from supv_cli.errors import ConfigError

NO_INSTANCES = "no instances: give -i, SUPV_INSTANCES or -c"
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
