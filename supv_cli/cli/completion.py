"""Shell completion of application and process names, from the rules files (click's completion).

Only names the rules declare can be offered (an application matched by a pattern has no name to
offer); nothing is asked of the instances, so completion stays instant even when a server is down.
Any problem (no rules file, an invalid one) offers nothing rather than printing an error into the shell.
"""

from __future__ import annotations

from typing import Any

import click
from click.shell_completion import CompletionItem


def declared_names(ctx: click.Context) -> list[str]:
    """``APP`` and ``APP:PROGRAM`` for every application and program the rules files name."""
    from supv_cli.cli.common import load_context
    from supv_cli.cli.options import ClusterOptions

    params = ctx.params
    try:
        cluster = ClusterOptions(instances=tuple(params.get("instances") or ()), rules=tuple(params.get("rules") or ()),
                                 config=params.get("config"))
        context = load_context(cluster, need_instances=False, need_rules=True)
    except Exception:  # completion must never fail loudly
        return []
    assert context.rules is not None
    names: list[str] = []
    for spec in context.rules.declared_applications():
        if spec.name:
            names.append(spec.name)
            names.append(f"{spec.name}:*")
            names.extend(f"{spec.name}:{program.name}" for program in spec.programs if program.name)
    return list(dict.fromkeys(names))


def complete_applications(ctx: click.Context, param: Any, incomplete: str) -> list[CompletionItem]:
    return [CompletionItem(name) for name in declared_names(ctx) if ":" not in name and name.startswith(incomplete)]


def complete_processes(ctx: click.Context, param: Any, incomplete: str) -> list[CompletionItem]:
    return [CompletionItem(name) for name in declared_names(ctx) if ":" in name and name.startswith(incomplete)]
