"""A few real supervisord described by a supv inventory: the base of the integration tests' clusters.

A subclass fills ``servers`` (nick -> :class:`Supervisord`, not started) in its ``__init__`` after
calling this one; :meth:`start` starts them and writes the inventory (``[supv]`` with the rules file and
a 2 s timeout, one ``[instance:NICK]`` per server), :attr:`args` is what every supv call takes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.supervisord import Supervisord


def sleeper(**options: Any) -> dict[str, Any]:
    """A program that runs until stopped, started by hand, 1 s to be RUNNING."""
    return {"command": "sleep 1000", "startsecs": 1, "autostart": False, "autorestart": False,
            "stopwaitsecs": 2, **options}


class InventoryCluster:
    """The rules, the inventory the controllers and commands read, and the supervisord it names."""

    def __init__(self, root: Path, rules: str) -> None:
        self.root = root
        self.rules = root / "rules.xml"
        self.rules.write_text(rules)
        self.inventory = root / "supv.conf"
        self.servers: dict[str, Supervisord] = {}

    def start(self) -> None:
        for server in self.servers.values():
            server.start()
        lines = ["[supv]", f"rules_files = {self.rules}", "timeout = 2", ""]
        for nick, server in self.servers.items():
            lines += [f"[instance:{nick}]", f"serverurl = {server.url}", ""]
        self.inventory.write_text("\n".join(lines))

    def stop(self) -> None:
        """Every supervisord told to stop first, then each waited for (by pid)."""
        for server in self.servers.values():
            server.terminate()
        for server in self.servers.values():
            server.stop()

    @property
    def args(self) -> tuple[str, ...]:
        return ("-c", str(self.inventory))
