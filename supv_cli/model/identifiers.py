"""Identifier lists of rules files: alias expansion, the ``*`` / ``@`` / ``#`` signs, stereotypes and the
indexes in names (pure functions). The instances they resolve to are in ``model/instances.py``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Sequence

#: every instance, in instance order
WILDCARD = "*"
#: Supvisors' ``@`` sign: the instances of the application's reference list, one process each
ATSIGN = "@"
#: Supvisors' ``#`` sign: one instance per application or process, by the index in its name
HASHTAG = "#"
#: the signs of identifier lists, never instance or stereotype names
SIGNS = (WILDCARD, HASHTAG, ATSIGN)

_HASH_INDEX_RE = re.compile(r".*[-_](\d+)$")


def is_stereotype(name: str) -> bool:
    """``@NAME`` is a stereotype; the bare ``@`` is Supvisors' sign, not one."""
    return name.startswith("@") and len(name) > 1


def split_list(text: str | None) -> list[str]:
    """Split a comma-separated list and strip each item (empty items are kept, as Supervisor does)."""
    if not text:
        return []
    return [item.strip() for item in text.split(",")]


def expand_aliases(text: str, aliases: Mapping[str, Sequence[str]]) -> list[str]:
    """Expand aliases as Supvisors does: one pass over the aliases in declaration order, each replacing
    the first occurrence of its name; then empty items and duplicates are dropped (first kept).

    An alias may therefore use another alias only if that one is declared after it.
    """
    items = split_list(text)
    for name, value in aliases.items():
        if name in items:
            position = items.index(name)
            items[position:position + 1] = list(value)
    return list(dict.fromkeys(item for item in items if item))


@dataclass(frozen=True)
class IdentifierRule:
    """An ``identifiers`` value after expansion: the plain list, or the ``@`` / ``#`` reference list."""

    identifiers: tuple[str, ...]
    has_at: bool
    has_hash: bool


def parse_identifiers(text: str, aliases: Mapping[str, Sequence[str]]) -> IdentifierRule:
    """``*`` anywhere (or a sign with nothing else) means every instance; signs are taken out of the list."""
    items = expand_aliases(text, aliases)
    has_at, has_hash = ATSIGN in items, HASHTAG in items
    items = [item for item in items if item not in (ATSIGN, HASHTAG)]
    if WILDCARD in items or ((has_at or has_hash) and not items):
        items = [WILDCARD]
    return IdentifierRule(tuple(items), has_at, has_hash)


def hash_index(application_name: str) -> int | None:
    """N of an application name ending with ``[-_]N`` (``scen3_hci_02`` -> 2), else None."""
    match = _HASH_INDEX_RE.match(application_name)
    return int(match.group(1)) if match else None


_PROGRAM_INDEX_RE = re.compile(r"^(.*?)[-_]?(\d+)$")


def program_name_and_index(process_name: str) -> tuple[str, int]:
    """Program name and process index of a process (decisions.md): the name minus a trailing
    ``[_-]?digits`` and those digits; a name without digits is its own program with index 0."""
    match = _PROGRAM_INDEX_RE.match(process_name)
    if not match or not match.group(1):
        return process_name, 0
    return match.group(1), int(match.group(2))
