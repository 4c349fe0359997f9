"""What most commands do first: resolve cluster settings, load the rules, take a snapshot."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from supv_cli.cli.options import ClusterOptions
from supv_cli.cli.output import warn

if TYPE_CHECKING:
    from supv_cli.cluster.settings import ClusterSettings
    from supv_cli.cluster.snapshot import Snapshot
    from supv_cli.rules import Rules


@dataclass
class CommandContext:
    """Settings, rules and (lazily) a snapshot for one command run."""

    settings: ClusterSettings
    rules: Rules | None
    warnings: list[str] = field(default_factory=list)
    _snapshot: Snapshot | None = None

    @property
    def instances(self) -> Any:
        return self.settings.instances

    def snapshot(self, refresh: bool = False) -> Snapshot:
        """One snapshot of every instance (taken once per command unless refreshed)."""
        from supv_cli.cluster.client import take_snapshot

        if self._snapshot is None or refresh:
            self._snapshot = take_snapshot(self.settings.instances, timeout=self.settings.timeout,
                                           username=self.settings.username, password=self.settings.password)
        return self._snapshot

    def all_namespecs(self) -> list[str]:
        """Every application and process: from the instances when known, else declared by name."""
        names: list[str] = []
        if self.settings.instances:
            snapshot = self.snapshot()
            for namespec in snapshot.namespecs():
                group = namespec.split(":", 1)[0]
                if group not in names:
                    names.append(group)
                names.append(namespec)
            return names
        assert self.rules is not None
        for spec in self.rules.declared_applications():
            if spec.name is None:
                continue
            names.append(spec.name)
            names.extend(f"{spec.name}:{program.name}" for program in spec.programs if program.name is not None)
        return list(dict.fromkeys(names))


def load_context(cluster: ClusterOptions, need_instances: bool = True, need_rules: bool = False) -> CommandContext:
    """Resolve -i/-c/-r/credentials, then load the rules (bound to the instances) when there are any."""
    from supv_cli.cluster.settings import resolve_settings
    from supv_cli.rules import StartingStrategy, load_rules

    settings = resolve_settings(cluster)
    for line in settings.warnings:  # overridden values, globs matching nothing: said before any error
        warn(line)
    if need_instances:
        settings.require_instances()
    rules = None
    warnings: list[str] = []
    if settings.rules_files:
        strategy = StartingStrategy(settings.default_starting_strategy or "CONFIG")
        rules, warnings = load_rules(settings.rules_files, settings.instances or None, strategy)
    elif need_rules:
        settings.require_rules()
    return CommandContext(settings=settings, rules=rules, warnings=warnings)
