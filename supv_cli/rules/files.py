"""Rules file lists: globs and literal paths as Supvisors' ``rules_files`` option, and loading them."""

from __future__ import annotations

import glob
import os
from typing import Iterable

from supv_cli.errors import RulesError
from supv_cli.model.instances import InstanceList
from supv_cli.rules.model import StartingStrategy
from supv_cli.rules.resolve import Rules
from supv_cli.rules.xmlload import RulesDocument, load_document


def expand_rules_paths(specs: Iterable[str], base_dir: str | None = None) -> tuple[list[str], list[str]]:
    """Expand globs and check literal paths; return (sorted unique paths, warnings).

    As Supvisors: the result is the set of matched files sorted by absolute path. A literal path that
    does not exist is an error; a glob that matches nothing is a warning; nothing at all is an error.
    """
    found: dict[str, str] = {}
    warnings: list[str] = []
    for spec in specs:
        pattern = os.path.expanduser(spec)
        if base_dir and not os.path.isabs(pattern):
            pattern = os.path.join(base_dir, pattern)
        if glob.has_magic(pattern):
            matches = [m for m in glob.glob(pattern, recursive=True) if os.path.isfile(m)]
            if not matches:
                warnings.append(f"rules glob {spec!r} matches no file")
        else:
            if not os.path.exists(pattern):
                raise RulesError("no such rules file; check -r, SUPV_RULES or rules_files", pattern)
            matches = [pattern]
        for match in matches:
            found.setdefault(os.path.abspath(match), match)
    if not found:
        raise RulesError(f"no rules file found for {' '.join(specs) or '(nothing given)'}; give -r FILE")
    return [found[key] for key in sorted(found)], warnings


def load_documents(paths: Iterable[str]) -> list[RulesDocument]:
    """Load every file, reporting the problems of all of them at once."""
    documents: list[RulesDocument] = []
    errors: list[str] = []
    for path in paths:
        try:
            documents.append(load_document(path))
        except RulesError as error:
            errors.extend(error.errors)
    if errors:
        raise RulesError.many(errors)
    return documents


def load_rules(specs: Iterable[str], instances: InstanceList | None = None,
               default_starting_strategy: StartingStrategy = StartingStrategy.CONFIG,
               base_dir: str | None = None) -> tuple[Rules, list[str]]:
    """Load rules files (paths or globs) into one Rules object; return it and the load warnings."""
    paths, warnings = expand_rules_paths(specs, base_dir)
    return Rules(load_documents(paths), instances, default_starting_strategy), warnings
