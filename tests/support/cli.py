"""Run supv like the shell does, through click's CliRunner (stdout and stderr kept apart)."""

from __future__ import annotations

from click.testing import CliRunner, Result

from supv_cli.cli import cli

#: fixed terminal facts so that table checks are exact
BASE_ENV = {"COLUMNS": "200", "NO_COLOR": "1", "SUPV_INSTANCES": None, "SUPV_RULES": None, "SUPV_CONFIG": None,
            "SUPV_USERNAME": None, "SUPV_PASSWORD": None, "SUPV_TIMEOUT": None, "SUPV_FORMAT": None,
            "SUPV_DEBUG": None, "SUPV_MAX_ANSWER": None}


def make_runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]  # click < 8.2
    except TypeError:
        return CliRunner()  # click >= 8.2 keeps stderr apart


def run_supv(*args: str, env: dict[str, str | None] | None = None, input: str | None = None) -> Result:
    """``supv ARGS...`` in-process; exceptions other than SystemExit propagate (no hidden tracebacks)."""
    return make_runner().invoke(cli, list(args), env={**BASE_ENV, **(env or {})}, input=input,
                                catch_exceptions=False)
