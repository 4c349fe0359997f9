"""THE rules core: one parser of Supvisors rules files for every supv command.

Use ``load_rules(paths, instances)`` (globs are expanded where the paths are read, in ``cluster/``) and
then ``rules.application_rules(name)`` / ``rules.process_rules(app, process)``; both return immutable
dataclasses.
"""

from supv_cli.rules.files import load_documents, load_rules, rules_paths
from supv_cli.rules.model import (
    ApplicationRules,
    Distribution,
    ProcessRules,
    RunningFailureStrategy,
    StartingFailureStrategy,
    StartingStrategy,
)
from supv_cli.rules.resolve import Rules

__all__ = [
    "ApplicationRules",
    "Distribution",
    "ProcessRules",
    "Rules",
    "RunningFailureStrategy",
    "StartingFailureStrategy",
    "StartingStrategy",
    "load_documents",
    "load_rules",
    "rules_paths",
]
