"""A supervisord.conf with Supvisors' ``[rpcinterface:supvisors]`` section (the migration path of
Supvisors users): its ``supvisors_list``, ``rules_files``, ``starting_strategy`` and ``stereotypes``."""

from __future__ import annotations

import configparser
import glob
import os
import platform
import re
from dataclasses import replace
from typing import Callable, Mapping

from supv_cli.cluster.ini import (
    FileSettings,
    check_strategy,
    expand,
    expand_rules_patterns,
    expansions_for,
    line_of,
    parse_ini,
    parse_stereotypes,
    section_line,
)
from supv_cli.errors import ConfigError
from supv_cli.model.instances import InstanceList, parse_instance, split_instance_specs

SUPVISORS_SECTION = "rpcinterface:supvisors"
# an item without port: optional <nick>, then a bare host name (no scheme, no colon)
_NO_PORT_RE = re.compile(r"^(<[^<>]*>)?([^:/<>\s\[\]]+)$")


def read_supervisord_conf(path: str, parser: configparser.RawConfigParser, lines: list[str]) -> FileSettings:
    """Read the Supvisors options of a supervisord.conf (the section may be in an included file)."""
    where = _find_supvisors_section(path, parser, lines)
    if where is None:
        raise ConfigError(f"not a supv inventory (no [supv] section) and no [{SUPVISORS_SECTION}] section "
                          "(in the file or its [include] files): write an inventory (man supv.conf), add "
                          "supvisors_list = <nick>host:port,... to a supervisord.conf, or give -i", path)
    section_path, section_parser, section_lines = where
    here = os.path.dirname(section_path)
    expansions = expansions_for(here)

    def option(name: str) -> tuple[str | None, str]:
        line = line_of(section_lines, SUPVISORS_SECTION, name)
        location = f"{section_path}:{line}" if line else section_path
        if not section_parser.has_option(SUPVISORS_SECTION, name):
            return None, location
        raw = section_parser.get(SUPVISORS_SECTION, name)
        return expand(raw, expansions, location, name), location

    instances, locations = _supvisors_list(option, parser, section_path, section_lines)
    rules_files: list[str] | None = None
    warnings: list[str] = []
    value, location = option("rules_files")
    locations["rules"] = location
    if value is not None:
        rules_files, warnings = expand_rules_patterns(value.split(), here, keep_order=False)
        warnings = [f"{location}: {warning}" for warning in warnings]
    strategy: str | None = None
    value, location = option("starting_strategy")
    if value is not None:
        strategy = check_strategy(value, location)
    instances = _with_stereotypes(option, parser, instances, expansions, warnings)
    username, password = _supervisorctl_credentials(path, parser, lines, locations)
    return FileSettings(path=path, instances=instances, rules_files=rules_files,
                        default_starting_strategy=strategy, username=username, password=password,
                        warnings=tuple(warnings), locations=locations,
                        instances_hint=f"add supvisors_list = <nick>host:port,... to [{SUPVISORS_SECTION}]")


#: ``option(name)``: the expanded value of an option of the Supvisors section (None when absent) and
#: where it is (``file:line``)
Option = Callable[[str], "tuple[str | None, str]"]


def _supvisors_list(option: Option, parser: configparser.RawConfigParser, section_path: str,
                    section_lines: list[str]) -> tuple[InstanceList | None, dict[str, str]]:
    """The instances of ``supvisors_list`` (each without a port takes the file's inet_http_server's),
    and where they come from."""
    value, location = option("supvisors_list")
    section_at = section_line(section_lines, SUPVISORS_SECTION)
    locations = {"instances": location if value is not None
                 else f"{section_path}:{section_at}" if section_at else section_path}
    if value is None:
        return None, locations
    port = _inet_http_port(parser)
    try:
        return InstanceList(parse_instance(_with_port(item, port)) for item in split_instance_specs([value])), \
            locations
    except ConfigError as error:
        raise ConfigError(f"supvisors_list: {error.message}", location) from None


def _with_stereotypes(option: Option, parser: configparser.RawConfigParser, instances: InstanceList | None,
                      expansions: Mapping[str, str], warnings: list[str]) -> InstanceList | None:
    """The instances, the one this file configures with the ``stereotypes`` of the section (a warning
    added to ``warnings`` when that instance cannot be told)."""
    value, location = option("stereotypes")
    if value is None or not instances:
        return instances
    stereotypes = parse_stereotypes(value, "stereotypes", location)
    index, problem = _local_instance(parser, instances, expansions)
    if index is None:
        warnings.append(f"{location}: stereotypes {' '.join(stereotypes)} ignored: {problem}")
        return instances
    if not stereotypes:
        return instances
    items = list(instances)
    items[index] = replace(items[index], stereotypes=stereotypes)
    return InstanceList(items)


def _supervisorctl_credentials(path: str, parser: configparser.RawConfigParser, lines: list[str],
                               locations: dict[str, str]) -> tuple[str | None, str | None]:
    """The ``[supervisorctl]`` username and password (where they are is added to ``locations``)."""
    if not parser.has_section("supervisorctl"):
        return None, None
    username = parser.get("supervisorctl", "username", fallback=None)
    password = parser.get("supervisorctl", "password", fallback=None)
    auth_key = "password" if password is not None else "username"
    line = line_of(lines, "supervisorctl", auth_key)
    locations["credentials"] = f"the {auth_key} of [supervisorctl] ({path}:{line})" if line else path
    return username, password


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
    line = line_of(lines, "include", "files")
    location = f"{path}:{line}" if line else path
    patterns = expand(parser.get("include", "files"), expansions_for(here), location, "files").split()
    for pattern in patterns:
        for included in sorted(glob.glob(os.path.join(here, pattern))):
            sub_parser, sub_lines = parse_ini(os.path.abspath(included))
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
