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
#: seconds between two "alive" lines in the controller's log (and state lines on stdout)
HEARTBEAT = 60.0


def stamp() -> str:
    """Local time with milliseconds, for log lines."""
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(now)) + f".{int(now % 1 * 1000):03d}"


def run_controller(cluster: ClusterOptions, options: Any, local_nick: str | None, applications: Sequence[str],
                   json_lines: bool) -> None:
    """Run the controller until SIGTERM / Ctrl-C."""
    from supv_cli.cli.common import load_context
    from supv_cli.cli.run_common import local_instance, make_io
    from supv_cli.controller import Controller, watch
    from supv_cli.plan.commands import Event
    from supv_cli.plan.planner import ensure_rules

    if cluster.timeout is None:
        cluster = replace(cluster, timeout=WATCH_TIMEOUT)
    context = load_context(cluster, need_instances=True, need_rules=True)
    rules = ensure_rules(context.rules)
    local = local_instance(context.instances, local_nick)
    unmanaged = [name for name in applications if not rules.application_rules(name).managed]
    if unmanaged:
        raise click.BadParameter(f"no rules element matches {', '.join(unmanaged)}: supv cannot start it",
                                 param_hint="APP")
    controller = Controller(rules, context.instances, local, options, only=frozenset(applications))
    _, _, send_fn = make_io(context)
    last_state: list[str] = [""]
    last_beat = [time.monotonic()]
    cycles = [0]

    def log(event: Any) -> None:
        if json_lines:
            click.echo(json.dumps({"time": stamp(), **event.to_dict()}), err=True)
        else:
            click.echo(f"{stamp()} {event.line()}", err=True)

    def on_events(events: Sequence[Any]) -> None:
        cycles[0] += 1
        for event in events:
            log(event)
        beat = time.monotonic() - last_beat[0] >= HEARTBEAT
        if beat:  # proof of life, also in the state line that `supv instances` reads
            last_beat[0] = time.monotonic()
            log(Event("alive", "controller", f"{cycles[0]} cycles, {'acting' if controller.acting else 'standby'}"))
        state = json.dumps(controller.state(), sort_keys=True)
        if state != last_state[0] or beat:  # one line on stdout each time what the controller knows changes
            last_state[0] = state
            click.echo(json.dumps({"time": stamp(), "controller": local.nick if local else None,
                                   "cycles": cycles[0], **controller.state()}))
            sys.stdout.flush()

    def terminate(signum: int, frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, terminate)
    where = f"on {local.nick}" if local else "alone (not started by a supervisord of the list)"
    log(Event("start", "controller", f"{where}: watching {len(context.instances)} instances every "
              f"{options.interval:g}s"))
    try:
        watch(controller, lambda: context.snapshot(refresh=True), send_fn, on_events)
    except KeyboardInterrupt:
        raise click.exceptions.Exit(130) from None
