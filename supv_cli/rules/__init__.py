"""THE rules core: one parser of Supvisors rules files for every supv command.

Use ``load_rules(paths_or_globs, instances)`` and then ``rules.application_rules(name)`` /
``rules.process_rules(app, process)``; both return immutable dataclasses.
"""

from supv_cli.rules.files import expand_rules_paths, load_documents, load_rules
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
    "expand_rules_paths",
    "load_documents",
    "load_rules",
]
