"""Shell completion of application and process names, from the rules files (click's completion).

Only names the rules declare can be offered (an application matched by a pattern has no name to
offer); nothing is asked of the instances, so completion stays instant even when a server is down.
Any problem (no rules file, an invalid one) offers nothing rather than printing an error into the shell.
"""

from __future__ import annotations

import click
from click.shell_completion import CompletionItem


def declared_names(ctx: click.Context) -> list[str]:
    """``APP`` and ``APP:PROGRAM`` for every application and program the rules files name."""
    from supv_cli.cluster.settings import ClusterOptions, resolve_settings
    from supv_cli.rules import load_rules

    params = ctx.params
    try:
        settings = resolve_settings(ClusterOptions(instances=tuple(params.get("instances") or ()),
                                                   rules=tuple(params.get("rules") or ()), config=params.get("config")))
        rules = load_rules(settings.rules_files, settings.instances or None) if settings.rules_files else None
    except Exception:  # completion must never fail loudly
        return []
    if rules is None:
        return []
    names: list[str] = []
    for spec in rules.declared_applications():
        if spec.name:
            names.append(spec.name)
            names.append(f"{spec.name}:*")
            names.extend(f"{spec.name}:{program.name}" for program in spec.programs if program.name)
    return list(dict.fromkeys(names))


def complete_applications(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    return [CompletionItem(name) for name in declared_names(ctx) if ":" not in name and name.startswith(incomplete)]


def complete_processes(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    return [CompletionItem(name) for name in declared_names(ctx) if ":" in name and name.startswith(incomplete)]


def complete_names(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Applications and processes (``rules show`` takes both)."""
    return [CompletionItem(name) for name in declared_names(ctx) if name.startswith(incomplete)]
