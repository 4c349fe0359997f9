"""``supv run-plan --watch``: the controller loop, its logs (stderr) and its state lines (stdout)."""

from __future__ import annotations

import json
import signal
import sys
import time
from dataclasses import replace
from typing import Any, Sequence

import click

from supv_cli.cli.options import ClusterOptions

#: timeout of one XML-RPC call in --watch mode when --timeout is not given: a hung instance must not
#: slow the cycle down much more than the cycle itself
WATCH_TIMEOUT = 1.0


def run_controller(cluster: ClusterOptions, options: Any, local_nick: str | None, applications: Sequence[str],
                   json_lines: bool) -> None:
    """Run the controller until SIGTERM / Ctrl-C."""
    from supv_cli.cli.common import load_context
    from supv_cli.cli.run_common import local_instance, make_io
    from supv_cli.plan.controller import Controller, watch
    from supv_cli.plan.planner import ensure_rules

    if cluster.timeout is None:
        cluster = replace(cluster, timeout=WATCH_TIMEOUT)
    context = load_context(cluster, need_instances=True, need_rules=True)
    rules = ensure_rules(context.rules)
    local = local_instance(context.instances, local_nick)
    controller = Controller(rules, context.instances, local, options, only=frozenset(applications))
    _, _, send_fn = make_io(context)
    last_state: list[str] = [""]

    def on_events(events: Sequence[Any]) -> None:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        for event in events:
            if json_lines:
                click.echo(json.dumps({"time": stamp, **event.to_dict()}), err=True)
            else:
                click.echo(f"{stamp} {event.line()}", err=True)
        state = json.dumps(controller.state(), sort_keys=True)
        if state != last_state[0]:  # one line on stdout each time what the controller knows changes
            last_state[0] = state
            click.echo(json.dumps({"time": stamp, "controller": local.nick if local else None,
                                   **controller.state()}))
            sys.stdout.flush()

    def terminate(signum: int, frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, terminate)
    where = f"on {local.nick}" if local else "alone (not started by a supervisord of the list)"
    click.echo(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} controller {where}: watching {len(context.instances)} "
               f"instances every {options.interval:g}s", err=True)
    try:
        watch(controller, lambda: context.snapshot(refresh=True), send_fn, on_events)
    except KeyboardInterrupt:
        raise click.exceptions.Exit(130) from None
