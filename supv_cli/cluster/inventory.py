"""The supv inventory (``supv.conf``, see supv.conf(5)): ``[supv]`` and one ``[instance:NICK]`` per
supervisord, in instance order, with URL, stereotypes and credentials. Passwords are never echoed."""

from __future__ import annotations

import configparser
import os
import re
from dataclasses import dataclass, field, replace
from typing import Mapping

from supv_cli.cluster.ini import (
    INSTANCE_PREFIX,
    FileSettings,
    check_strategy,
    expand,
    expand_rules_patterns,
    expansions_for,
    line_of,
    parse_stereotypes,
    section_line,
)
from supv_cli.errors import ConfigError
from supv_cli.model.instances import CREDENTIALS_IN_URL, Instance, InstanceList, has_url_credentials, parse_instance

INVENTORY_SECTION = "supv"
#: the keys of an inventory, per section
SUPV_KEYS = ("rules_files", "timeout", "starting_strategy", "username", "password")
INSTANCE_KEYS = ("serverurl", "stereotypes", "username", "password")
_NICK_OK_RE = re.compile(r"^[^\s,<>@#*%]+$")


def read_inventory(path: str, parser: configparser.RawConfigParser, lines: list[str]) -> FileSettings:
    """Read a supv inventory: ``[supv]`` (rules_files, timeout, starting_strategy, default
    credentials) and one ``[instance:NICK]`` per instance (serverurl, stereotypes, username,
    password), instances in file order. Values may use ``%(here)s``, ``%(host_node_name)s`` and
    ``%(ENV_NAME)s``; rules globs are relative to the file's folder."""
    reader = _Reader(path, parser, lines)
    reader.check_keys()
    supv = reader.supv_section()
    instances = reader.instances()
    warnings = list(supv.warnings)
    exposed = _exposed_password(path, parser)
    if exposed:
        warnings.append(exposed)
    return FileSettings(path=path, instances=InstanceList(instances) if instances else None,
                        rules_files=supv.rules_files, default_starting_strategy=supv.strategy,
                        username=supv.username, password=supv.password, timeout=supv.timeout,
                        warnings=tuple(warnings), locations=reader.locations(supv),
                        instances_hint="add an [instance:NICK] section with serverurl = http://host:port per "
                                       "supervisord")


@dataclass
class _Supv:
    """What the ``[supv]`` section says (all None without the section)."""

    rules_files: list[str] | None = None
    warnings: list[str] = field(default_factory=list)
    strategy: str | None = None
    timeout: float | None = None
    username: str | None = None
    password: str | None = None


class _Reader:
    """One inventory file being read: its values expanded, and where each is (``file:line``)."""

    def __init__(self, path: str, parser: configparser.RawConfigParser, lines: list[str]) -> None:
        self.path = path
        self.parser = parser
        self.lines = lines
        self.here = os.path.dirname(path)
        self.expansions = expansions_for(self.here)

    def location(self, section: str, option: str | None = None) -> str:
        line = line_of(self.lines, section, option) if option else section_line(self.lines, section)
        return f"{self.path}:{line}" if line else self.path

    def value(self, section: str, option: str) -> str | None:
        if not self.parser.has_option(section, option):
            return None
        raw = self.parser.get(section, option)
        where = self.location(section, option)
        if option == "password":
            return _expand_secret(raw, self.expansions, where, f"[{section}] password")
        if option == "serverurl" and has_url_credentials(raw):
            _refuse_url_credentials(section, where)
        return expand(raw, self.expansions, where, option).strip()

    def check_keys(self) -> None:
        """Only ``[supv]`` and ``[instance:NICK]`` sections, each with its own keys."""
        for section in self.parser.sections():
            keys: tuple[str, ...]
            if section == INVENTORY_SECTION:
                keys = SUPV_KEYS
            elif section.startswith(INSTANCE_PREFIX):
                keys = INSTANCE_KEYS
            else:
                raise ConfigError(f"unknown section [{section}]: an inventory has one [supv] section and one "
                                  "[instance:NICK] section per supervisord", self.location(section))
            for option in self.parser.options(section):
                if option not in keys:
                    raise ConfigError(f"unknown key {option!r} in [{section}]; known keys: {', '.join(keys)}",
                                      self.location(section, option))

    def supv_section(self) -> _Supv:
        supv = _Supv()
        if not self.parser.has_section(INVENTORY_SECTION):
            return supv
        text = self.value(INVENTORY_SECTION, "rules_files")
        if text is not None:
            where = self.location(INVENTORY_SECTION, "rules_files")
            if not text.split():
                raise ConfigError("rules_files is empty; give file names or globs, or remove the key", where)
            supv.rules_files, warnings = expand_rules_patterns(text.split(), self.here, keep_order=False)
            supv.warnings = [f"{where}: {warning}" for warning in warnings]
        text = self.value(INVENTORY_SECTION, "timeout")
        if text is not None:
            supv.timeout = _timeout(text, self.location(INVENTORY_SECTION, "timeout"))
        text = self.value(INVENTORY_SECTION, "starting_strategy")
        if text is not None:
            supv.strategy = check_strategy(text, self.location(INVENTORY_SECTION, "starting_strategy"))
        supv.username = self.value(INVENTORY_SECTION, "username")
        supv.password = self.value(INVENTORY_SECTION, "password")
        return supv

    def instances(self) -> list[Instance]:
        """One instance per ``[instance:NICK]`` section, in file order."""
        instances: list[Instance] = []
        for section in self.parser.sections():
            if section.startswith(INSTANCE_PREFIX):
                instances.append(self.instance(section, instances))
        return instances

    def instance(self, section: str, earlier: list[Instance]) -> Instance:
        nick = section[len(INSTANCE_PREFIX):].strip()
        if not _NICK_OK_RE.match(nick):
            raise ConfigError(f"[{section}]: bad instance name {nick!r}: a nick is one word without spaces, "
                              "commas, <, >, %, or a leading sign (*, #, @)", self.location(section))
        url = self.value(section, "serverurl")
        if not url:
            raise ConfigError(f"[{section}]: no serverurl; add serverurl = http://host:port or "
                              "unix:///path/to/supervisor.sock", self.location(section))
        if has_url_credentials(url):
            _refuse_url_credentials(section, self.location(section, "serverurl"))
        try:
            instance = parse_instance(f"<{nick}>{url}")
        except ConfigError as error:
            raise ConfigError(f"[{section}] serverurl: {error.message}",
                              self.location(section, "serverurl")) from None
        stereotypes = parse_stereotypes(self.value(section, "stereotypes") or "", f"[{section}] stereotypes",
                                        self.location(section, "stereotypes"))
        for other in earlier:
            if instance.identifier in other.names or other.nick in instance.names:
                raise ConfigError(f"[{section}]: same instance as [{INSTANCE_PREFIX}{other.nick}] "
                                  f"({instance.identifier}); describe each supervisord once",
                                  self.location(section, "serverurl"))
        own_username, own_password = self.value(section, "username"), self.value(section, "password")
        auth_key = "password" if own_password is not None else "username"
        return replace(instance, stereotypes=stereotypes, username=own_username, password=own_password,
                       auth_source=f"the {auth_key} of [{section}] ({self.location(section, auth_key)})"
                       if own_username is not None or own_password is not None else "")

    def locations(self, supv: _Supv) -> dict[str, str]:
        """Where the instances, the rules and the default credentials come from (for precedence notes)."""
        has_supv = self.parser.has_section(INVENTORY_SECTION)
        locations = {"instances": self.location(INVENTORY_SECTION) if has_supv else f"{self.path}:1",
                     "rules": self.location(INVENTORY_SECTION, "rules_files")}
        if supv.username is not None or supv.password is not None:
            auth_key = "password" if supv.password is not None else "username"
            locations["credentials"] = (f"the {auth_key} of [{INVENTORY_SECTION}] "
                                        f"({self.location(INVENTORY_SECTION, auth_key)})")
        return locations


def _refuse_url_credentials(section: str, where: str) -> None:
    # the URL is not repeated: it holds a password
    raise ConfigError(f"[{section}] serverurl: {CREDENTIALS_IN_URL}; use the username and password keys",
                      where)


def _exposed_password(path: str, parser: configparser.RawConfigParser) -> str | None:
    """A warning when the file holds a literal password (not taken from the environment with
    ``%(ENV_NAME)s``) and its group or others may read it, as ssh and .netrc users expect."""
    literal = [section for section in parser.sections()
               if parser.has_option(section, "password") and "%(ENV_" not in parser.get(section, "password")]
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    if not literal or not mode & 0o044:
        return None
    return (f"{path}: holds a literal password ([{literal[0]}]) and is readable by "
            f"{'group and others' if mode & 0o004 and mode & 0o040 else 'others' if mode & 0o004 else 'its group'} "
            f"(mode {mode & 0o777:04o}): chmod 600 {path}, or write password = %(ENV_VARIABLE)s")


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
