"""Instance lists in Supvisors' ``supvisors_list`` syntax, and instance identity.

An instance is one supervisord. It is known by its *nick* (``<console_1>...``) and by its identifier
(``host:port`` for http, the ``unix://`` URL for a socket); rules identifiers may use either. Its *node*
is the host part of its URL (all unix sockets are on the local node, ``localhost``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Sequence, overload

from supv_cli.errors import ConfigError
from supv_cli.model.identifiers import SIGNS, WILDCARD, is_stereotype

LOCAL_NODE = "localhost"
_NICK_RE = re.compile(r"^<([^<>]*)>(.*)$")
# host:port, optionally followed by Supvisors' internal port (host:http_port:internal_port), ignored here
_HOST_PORT_RE = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[^:/\s\[\]<>]+):(\d{1,5})(?::\d{1,5})?$")
CREDENTIALS_IN_URL = "credentials in the URL are not supported (not shown here)"


def has_url_credentials(url: str) -> bool:
    """True when ``url`` carries ``user[:password]@``: refused everywhere, and never echoed. Any ``@``
    outside a unix socket path counts (a host:port never holds one; a password may hold ``/``)."""
    text = url.strip()
    return "@" in text and not text.lower().startswith("unix://")


def redact_url(url: str) -> str:
    """``url`` with its ``user[:password]@`` replaced by ``***@``, to be shown in a message. Everything up
    to the LAST ``@`` goes: a password may hold ``@`` (and ``/``) itself."""
    text = url.strip()
    if not has_url_credentials(text):
        return text
    scheme, sep, rest = text.partition("://")
    if not sep or "@" in scheme or not re.fullmatch(r"[a-z][a-z0-9+.-]*", scheme, re.IGNORECASE):
        scheme, rest = "", text
    return (f"{scheme}://" if scheme else "") + "***@" + rest.rpartition("@")[2]


@dataclass(frozen=True)
class Instance:
    """One supervisord instance of the cluster."""

    nick: str
    url: str
    identifier: str
    node: str
    port: int | None = None
    stereotypes: tuple[str, ...] = ()
    username: str | None = None
    password: str | None = field(default=None, repr=False, compare=False)
    #: where its credentials come from (``the password of [instance:x] (FILE:LINE)``), for the hint
    #: of an authentication failure; empty when it has none
    auth_source: str = field(default="", repr=False, compare=False)

    @property
    def names(self) -> tuple[str, ...]:
        """Every name a rules file may use for this instance."""
        return (self.nick, self.identifier) if self.nick != self.identifier else (self.nick,)

    @property
    def is_unix(self) -> bool:
        return self.url.startswith("unix://")


def parse_instance(item: str) -> Instance:
    """Parse one ``supvisors_list`` item: ``[<nick>]host:port``, ``[<nick>]http://host:port[/]`` or
    ``[<nick>]unix:///path.sock``."""
    text = item.strip()
    nick: str | None = None
    match = _NICK_RE.match(text)
    if match:
        nick, text = match.group(1).strip(), match.group(2).strip()
    if has_url_credentials(text):
        # the item is not repeated: it holds a password
        shown = f"<{nick}>" if nick is not None else ""
        raise ConfigError(f"instance {shown + redact_url(text)!r}: {CREDENTIALS_IN_URL}; give them "
                          "with -u/--password (or SUPV_USERNAME/SUPV_PASSWORD), or as username and password "
                          "of the instance in an inventory (-c)")
    if match:
        if not nick:
            raise ConfigError(f"instance {item!r}: empty nick between < and >; write <name>host:port")
    if text.startswith("unix://"):
        path = text[len("unix://"):]
        if not path.startswith("/"):
            raise ConfigError(f"instance {item!r}: a unix socket needs an absolute path, as unix:///run/x.sock")
        return Instance(nick=nick or text, url=text, identifier=text, node=LOCAL_NODE)
    if text.startswith(("http://", "https://")):
        scheme, _, rest = text.partition("://")
        host_port = rest.rstrip("/")
        if "/" in host_port:
            raise ConfigError(f"instance {item!r}: only http://host:port is supported (no path)")
    elif "://" in text:
        raise ConfigError(f"instance {item!r}: unknown URL scheme; use host:port, http://host:port or "
                          "unix:///path.sock")
    else:
        scheme, host_port = "http", text
    match = _HOST_PORT_RE.match(host_port)
    if not match:
        raise ConfigError(f"instance {item!r}: expected host:port (e.g. 127.0.0.1:61000), "
                          "http://host:port or unix:///path.sock")
    host, port = match.group(1), int(match.group(2))
    if not 0 < port < 65536:
        raise ConfigError(f"instance {item!r}: port {port} out of range 1-65535")
    identifier = f"{host}:{port}"
    return Instance(nick=nick or identifier, url=f"{scheme}://{identifier}", identifier=identifier,
                    node=host.strip("[]"), port=port)


def split_instance_specs(specs: Iterable[str]) -> list[str]:
    """Split ``-i`` values / ``supvisors_list`` text on commas and whitespace."""
    items: list[str] = []
    for spec in specs:
        items.extend(part for part in re.split(r"[,\s]+", spec) if part)
    return items


class InstanceList(Sequence[Instance]):
    """The ordered instances of a cluster. Order matters: ``*``, CONFIG and ``#`` follow it."""

    def __init__(self, instances: Iterable[Instance] = ()) -> None:
        self._instances: tuple[Instance, ...] = tuple(instances)
        self._by_name: dict[str, Instance] = {}
        #: rules identifier list -> its instances: each list is resolved once per instance list
        self._resolved: dict[tuple[str, ...], tuple[Instance, ...]] = {}
        for instance in self._instances:
            for name in instance.names:
                other = self._by_name.get(name)
                if other is not None and other is not instance:
                    if other.identifier == instance.identifier:
                        raise ConfigError(f"instances <{other.nick}> and <{instance.nick}> are the same "
                                          f"supervisord ({instance.url}); list each supervisord once")
                    raise ConfigError(f"instance name {name!r} is used twice ({other.url} and "
                                      f"{instance.url}); give each instance its own <nick>")
                self._by_name[name] = instance

    @classmethod
    def parse(cls, specs: Iterable[str]) -> InstanceList:
        """Parse ``-i`` values (each may hold several items)."""
        return cls(parse_instance(item) for item in split_instance_specs(specs))

    @overload
    def __getitem__(self, index: int) -> Instance: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Instance]: ...

    def __getitem__(self, index: int | slice) -> Instance | Sequence[Instance]:
        return self._instances[index]

    def __len__(self) -> int:
        return len(self._instances)

    def __iter__(self) -> Iterator[Instance]:
        return iter(self._instances)

    def __bool__(self) -> bool:
        return bool(self._instances)

    def __repr__(self) -> str:
        return f"InstanceList({[i.nick for i in self._instances]!r})"

    def find(self, name: str) -> Instance | None:
        """The instance a rules identifier names (nick or ``host:port``), or None."""
        return self._by_name.get(name)

    def with_stereotype(self, stereotype: str) -> list[Instance]:
        """Instances carrying ``@NAME`` (given with or without the ``@``), in instance order."""
        wanted = stereotype if stereotype.startswith("@") else f"@{stereotype}"
        return [i for i in self._instances if wanted in i.stereotypes]

    @property
    def stereotypes(self) -> list[str]:
        """Every stereotype carried by an instance (``@NAME``), in first-carrier order."""
        return list(dict.fromkeys(s for i in self._instances for s in i.stereotypes))

    def uncarried_stereotypes(self, names: Iterable[str]) -> list[str]:
        """The ``@NAME`` entries of an identifier list that no instance carries (they resolve to nothing)."""
        return list(dict.fromkeys(n for n in names if is_stereotype(n) and not self.with_stereotype(n)))

    def filter(self, names: Iterable[str]) -> list[Instance]:
        """Resolve identifiers to instances: ``*`` is every instance, ``@X`` a stereotype, a nick or
        ``host:port`` one instance; unknown names are dropped; first occurrence order, no duplicates.

        A name without ``@`` that names no instance but is a carried stereotype also gives its carriers:
        Supvisors compares stereotypes as written, and its users may write ``stereotypes = third``
        with ``<identifiers>third</identifiers>``.
        """
        result: list[Instance] = []
        for name in names:
            if name == WILDCARD:
                found: Sequence[Instance] = self._instances
            elif is_stereotype(name):
                found = self.with_stereotype(name)
            else:
                one = self.find(name)
                if one is not None:
                    found = [one]
                else:
                    found = self.with_stereotype(name) if name not in SIGNS else []
            for instance in found:
                if instance not in result:
                    result.append(instance)
        return result

    def resolve(self, identifiers: Iterable[str]) -> tuple[Instance, ...]:
        """Rules identifiers -> instances, the one resolution of a rules list (computed once per list of
        names and kept): ``*`` is every instance in order, else the rules order, unknown names dropped,
        nicks / ``host:port`` / ``@STEREOTYPE`` resolved, no duplicates."""
        key = tuple(identifiers)
        resolved = self._resolved.get(key)
        if resolved is None:
            resolved = tuple(self._instances) if WILDCARD in key else tuple(self.filter(key))
            self._resolved[key] = resolved
        return resolved

    def holds(self, instance: Instance) -> bool:
        """True when ``instance`` is one of this list (an instance the rules resolved against a list)."""
        return self._by_name.get(instance.nick) == instance

    @property
    def nodes(self) -> list[str]:
        """Node names in instance order, without duplicates."""
        return list(dict.fromkeys(i.node for i in self._instances))


def resolve_identifiers(identifiers: Sequence[str], instances: InstanceList) -> list[Instance]:
    """Rules identifiers -> instances (:meth:`InstanceList.resolve`, a list of its own)."""
    return list(instances.resolve(identifiers))


def unresolved_reason(identifiers: Sequence[str], instances: InstanceList) -> str:
    """Why an identifier list gives no instance: ``stereotype @SERVER: no instance carries it`` for each
    stereotype nobody carries, ``none of a,b is a known instance`` for the other names."""
    uncarried = instances.uncarried_stereotypes(identifiers)
    others = [name for name in identifiers if name not in uncarried]
    parts = [f"stereotype {name}: no instance carries it" for name in uncarried]
    if others or not parts:
        parts.append(f"none of {','.join(others or identifiers)} is a known instance")
    return "; ".join(parts)
