"""Which source of a cluster setting wins, and the warning that names the loser (cli.md "Precedence").

Command line over environment over default files. A file named with ``-c`` on the command line counts
as the command line, so what it sets wins over ``SUPV_INSTANCES``, ``SUPV_RULES``... exported in the
environment; an explicit ``-i``/``-r``/... wins over the file. At the same level the specific option wins
over the file (``SUPV_INSTANCES`` over what ``SUPV_CONFIG`` names). Whenever a value given by one source
is dropped for another's, one warning line names both: ``-c prod.conf (command line) overrides
SUPV_INSTANCES (environment)``. Values are never shown (a password may be among them), only sources.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

COMMAND_LINE = "command line"
ENVIRONMENT = "environment"
DEFAULT_FILE = "default file"
#: a higher level wins
LEVELS = {COMMAND_LINE: 2, ENVIRONMENT: 1, DEFAULT_FILE: 0}

#: option name -> (command-line flag, environment variable): the one table of the cluster options' names
CLUSTER_OPTIONS: dict[str, tuple[str, str]] = {
    "instances": ("-i", "SUPV_INSTANCES"),
    "rules": ("-r", "SUPV_RULES"),
    "config": ("-c", "SUPV_CONFIG"),
    "username": ("-u", "SUPV_USERNAME"),
    "password": ("--password", "SUPV_PASSWORD"),
    "timeout": ("--timeout", "SUPV_TIMEOUT"),
}


@dataclass(frozen=True)
class Source:
    """Where one value came from: its level and how to name it in a message."""

    origin: str
    label: str
    #: a file (its label names it) rather than an option (a flag or a variable name)
    is_file: bool = False

    @property
    def level(self) -> int:
        return LEVELS[self.origin]

    def beats(self, other: Source) -> bool:
        """At the same level the specific option beats the file: call it on the option."""
        return self.level >= other.level


def option_source(name: str, origin: str) -> Source:
    """``-i`` on the command line, ``SUPV_INSTANCES`` from the environment."""
    flag, envvar = CLUSTER_OPTIONS[name]
    return Source(origin, envvar if origin == ENVIRONMENT else flag)


def file_source(path: str, origin: str) -> Source:
    """The ``-c`` file (command line or ``SUPV_CONFIG``) or a default inventory."""
    if origin == DEFAULT_FILE:
        return Source(origin, path, is_file=True)
    flag, envvar = CLUSTER_OPTIONS["config"]
    return Source(origin, f"{envvar}={path}" if origin == ENVIRONMENT else f"{flag} {path}", is_file=True)


@dataclass
class Overrides:
    """The values dropped for another source's, reported as one warning line per pair of sources."""

    _records: list[tuple[str, Source, Source]] = field(default_factory=list)

    def add(self, what: str, winner: Source, loser: Source) -> None:
        self._records.append((what, winner, loser))

    def lines(self) -> list[str]:
        """``instances, rules: -c prod.conf (command line) overrides SUPV_INSTANCES, SUPV_RULES (environment)``."""
        groups: dict[tuple[str, str], list[tuple[str, Source, Source]]] = {}
        for record in self._records:
            _, winner, loser = record
            # options of one level go together; each file on its own
            key = (winner.label if winner.is_file else winner.origin, loser.label if loser.is_file else loser.origin)
            groups.setdefault(key, []).append(record)
        lines = []
        for records in groups.values():
            whats = _unique(what for what, _, _ in records)
            winners = _unique(winner.label for _, winner, _ in records)
            losers = _unique(loser.label for _, _, loser in records)
            winner, loser = records[0][1], records[0][2]
            verb = "overrides" if len(winners) == 1 else "override"
            lines.append(f"{', '.join(whats)}: {', '.join(winners)} ({winner.origin}) {verb} "
                         f"{', '.join(losers)} ({loser.origin})")
        return lines


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
