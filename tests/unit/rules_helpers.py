"""Helpers for rules tests: write XML snippets to files and load them."""

from __future__ import annotations

import itertools
from pathlib import Path

from supv_cli.model.instances import InstanceList
from supv_cli.rules import Rules, load_rules

_counter = itertools.count()


def write_rules(directory: Path, body: str, name: str | None = None) -> Path:
    """Write ``<root>body</root>`` and return its path."""
    path = directory / (name or f"rules_{next(_counter)}.xml")
    path.write_text(f'<?xml version="1.0" encoding="UTF-8"?>\n<root>\n{body}\n</root>\n')
    return path


def rules_from(directory: Path, *bodies: str, instances: str | None = None) -> Rules:
    """Load one rules file per body (in that order) bound to an optional instance list."""
    paths = [str(write_rules(directory, body, f"r{index:02d}.xml")) for index, body in enumerate(bodies)]
    instance_list = InstanceList.parse([instances]) if instances else None
    rules = load_rules(paths, instance_list)
    return rules
