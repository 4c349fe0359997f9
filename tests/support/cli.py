"""Run supv like the shell does, through click's CliRunner (stdout and stderr kept apart)."""

from __future__ import annotations

import os

from click.testing import CliRunner, Result

from supv_cli.cli import cli
from supv_cli.cli.terminal import Terminal

#: every environment variable supv reads starts with this; a test's environment has none of them
SUPV_PREFIX = "SUPV_"


def clean_env() -> dict[str, str | None]:
    """Fixed terminal facts (exact table checks) and every ``SUPV_*`` variable of the environment
    removed (a developer's exported SUPV_START_TIMEOUT must not change a test)."""
    return {"COLUMNS": "200", "NO_COLOR": "1", **{name: None for name in os.environ if name.startswith(SUPV_PREFIX)}}


#: ``clean_env()`` as the tests started: a developer's SUPV_* removed, those a test sets itself kept (the
#: autouse fixture of tests/conftest.py also drops every SUPV_* before each test)
BASE_ENV = clean_env()


def make_runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]  # click < 8.2
    except TypeError:
        return CliRunner()  # click >= 8.2 keeps stderr apart


def run_supv(*args: str, env: dict[str, str | None] | None = None, input: str | None = None,
             terminal: Terminal | None = None) -> Result:
    """``supv ARGS...`` in-process; exceptions other than SystemExit propagate (no hidden tracebacks).
    ``terminal``: what supv is told of its streams (``Terminal(out_tty=True, err_tty=True)``: both are
    terminals, as a person sees them); by default CliRunner's streams, which are no terminals."""
    from supv_cli.cli.app import App

    obj = App(terminal=terminal) if terminal is not None else None
    return make_runner().invoke(cli, list(args), env={**BASE_ENV, **(env or {})}, input=input, obj=obj,
                                catch_exceptions=False)
