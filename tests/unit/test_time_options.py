"""Issue 17 item 5: every time option (and its environment variable) takes a finite number of seconds
only: ``nan``, ``inf`` and negative numbers are a usage error (exit 2) naming the option, never a hang."""

from __future__ import annotations

import importlib
import math

import click
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supv_cli.cli import COMMANDS
from supv_cli.cli.options import Seconds
from supv_cli.errors import ExitCode
from tests.support.cli import run_supv


def _commands() -> dict[str, click.Command]:
    found: dict[str, click.Command] = {}
    for name, (module, attribute, _) in COMMANDS.items():
        command = getattr(importlib.import_module(f"supv_cli.cli.{module}"), attribute)
        if isinstance(command, click.Group):
            for sub_name, sub in command.commands.items():
                found[f"{name} {sub_name}"] = sub
        found[name] = command
    return found


def _words(name: str, command: click.Command) -> str:
    """The command's words and a name for each required argument."""
    required = [param for param in command.params if isinstance(param, click.Argument) and param.required]
    return " ".join([name] + ["web"] * len(required))


#: (command words, option, environment variable or None) of every option of type Seconds
TIME_OPTIONS = sorted(
    (_words(command_name, command), param.opts[-1], param.envvar if isinstance(param.envvar, str) else None)
    for command_name, command in _commands().items()
    for param in command.params
    if isinstance(param, click.Option) and isinstance(param.type, Seconds)
)
#: the ones named in the issue, so that the enumeration above cannot silently lose them
EXPECTED = {("wait", "--timeout"), ("wait", "--call-timeout"), ("sstatus", "--timeout"), ("events", "--interval"),
            ("top", "--interval"), ("logs", "--interval"), ("run-plan", "--interval"), ("run-plan", "--start-timeout"),
            ("run-plan", "--startup-grace"), ("run-plan", "--budget-window"), ("run-plan", "--poll-interval"),
            ("start", "--exit-timeout"), ("stop", "--stop-timeout")}


def test_every_float_option_is_a_time_option_of_the_one_type():
    assert EXPECTED <= {(command.removesuffix(" web"), option) for command, option, _ in TIME_OPTIONS}
    loose = [(name, param.opts[-1]) for name, command in _commands().items() for param in command.params
             if isinstance(param, click.Option) and isinstance(param.type, (click.types.FloatParamType,
                                                                             click.FloatRange))]
    assert loose == []


def _target(command_words: str) -> list[str]:
    """``-i`` for a command that talks to instances (the sampler finds its own from supervisord)."""
    command = _commands()[command_words.removesuffix(" web").replace(" web", "")]
    return ["-i", "127.0.0.1:1"] if any("-i" in param.opts for param in command.params) else []


NON_FINITE = st.sampled_from(["nan", "NaN", "inf", "-inf", "Infinity", "+inf", "1e999", "-1e999"])
NEGATIVE = st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=False).map(repr)


@settings(max_examples=60, deadline=None)
@given(option=st.sampled_from(TIME_OPTIONS), value=st.one_of(NON_FINITE, NEGATIVE))
def test_no_time_option_accepts_a_non_finite_or_negative_number(option, value):
    command, flag, envvar = option
    result = run_supv(*command.split(), f"{flag}={value}", *_target(command))
    assert result.exit_code == ExitCode.USAGE, (command, flag, value, result.output)
    assert f"'{flag}'" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("option", [o for o in TIME_OPTIONS if o[2]], ids=lambda o: f"{o[0]}-{o[2]}")
@pytest.mark.parametrize("value", ["nan", "inf", "-1"])
def test_no_environment_variable_of_a_time_option_accepts_it_either(option, value):
    command, flag, envvar = option
    result = run_supv(*command.split(), *_target(command), env={envvar: value})
    assert result.exit_code == ExitCode.USAGE, result.output
    assert f"'{flag}'" in result.stderr and f"(from {envvar})" in result.stderr


@given(st.floats(min_value=0.0, max_value=1e6))
def test_a_finite_number_within_bounds_is_taken(number):
    assert Seconds(min=0).convert(str(number), None, None) == number
    assert math.isfinite(Seconds(min=0).convert(number, None, None))


@pytest.mark.parametrize("value, message", [
    ("abc", "'abc' is not a number of seconds."),
    ("nan", "'nan' is not a finite number of seconds."),
    ("0.01", "'0.01': the number of seconds must be at least 0.1."),
])
def test_the_message_says_what_is_wrong(value, message):
    with pytest.raises(click.BadParameter) as caught:
        Seconds(min=0.1).convert(value, None, None)
    assert caught.value.message == message
