"""Rules file lists: the files Supvisors' ``rules_files`` option names, and loading them.

Globs are expanded once, where the option is read (``cluster/ini.expand_rules_patterns``, for ``-r``,
``SUPV_RULES`` and a file's ``rules_files``); the loader takes the files.
"""

from __future__ import annotations

import os
from typing import Iterable

from supv_cli.errors import RulesError
from supv_cli.model.instances import InstanceList
from supv_cli.rules.model import StartingStrategy
from supv_cli.rules.resolve import Rules
from supv_cli.rules.xmlload import RulesDocument, load_document


def rules_paths(paths: Iterable[str]) -> list[str]:
    """The files to load, as Supvisors takes them: each once, sorted by absolute path. A path that does
    not exist is an error; nothing at all is an error."""
    found: dict[str, str] = {}
    for path in paths:
        if not os.path.exists(path):
            raise RulesError("no such rules file; check -r, SUPV_RULES or rules_files", path)
        found.setdefault(os.path.abspath(path), path)
    if not found:
        raise RulesError("no rules file found for (nothing given); give -r FILE")
    return [found[key] for key in sorted(found)]


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


def load_rules(paths: Iterable[str], instances: InstanceList | None = None,
               default_starting_strategy: StartingStrategy = StartingStrategy.CONFIG) -> Rules:
    """Load rules files (globs already expanded: see the module) into one Rules object."""
    return Rules(load_documents(rules_paths(paths)), instances, default_starting_strategy)
