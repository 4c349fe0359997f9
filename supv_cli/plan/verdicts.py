"""What an instance's answer, or a process state, means for one command of a run. Pure.

The executor (:mod:`supv_cli.plan.executor`) sends a request per command, then polls; these functions
say whether the command is over and how (behaviour spec §3.5: RUNNING, or EXITED with an expected code
for wait_exit programs; timeouts per decisions.md). ``None`` means "not over yet".
"""

from __future__ import annotations

from supv_cli.model.runs import CommandKind, Outcome, RunKind
from supv_cli.model.snapshot import Faults, ProcessInfo, ProcessState
from supv_cli.plan.run_types import Command, RunOptions
from supv_cli.plan.stages import Placement

__all__ = ["Verdict", "answer_verdict", "budget", "start_verdict", "stop_verdict"]

#: how a command ends, and why
Verdict = tuple[Outcome, str]

#: states in which a started program can no longer become RUNNING by itself
_START_FAILED = (ProcessState.FATAL, ProcessState.STOPPED, ProcessState.STOPPING, ProcessState.UNKNOWN)
_STOP_DONE = (ProcessState.STOPPED, ProcessState.EXITED, ProcessState.FATAL)


def budget(placement: Placement, kind: RunKind, options: RunOptions) -> float:
    """Time allowed from the request: stopwaitsecs or startsecs, plus the margin."""
    if kind == RunKind.STOP:
        return placement.stopwaitsecs + options.stop_timeout
    return placement.startsecs + options.start_timeout


def answer_verdict(command: Command, result: object) -> Verdict | None:
    """What the answer to a start / stop request (True, or a CallError) means: None when the request
    was taken (the command now waits for the process state), else how the command ends."""
    code = getattr(result, "fault_code", None)
    # SPAWN_ERROR: spawned but died at once; supervisord retries it (BACKOFF, startretries), so its
    # state decides, as for any start (behaviour spec §3.5: BACKOFF is in progress)
    spawned = code == Faults.SPAWN_ERROR and command.kind == CommandKind.START
    if result is True or code == Faults.ALREADY_STARTED or spawned:
        return None
    if command.kind == CommandKind.STOP and code == Faults.NOT_RUNNING:
        return Outcome.STOPPED, "was not running"
    if code is not None:
        return Outcome.FAILED, f"refused by supervisord: {getattr(result, 'reason', result)}"
    if getattr(result, "kind", None) is not None:
        return Outcome.LOST, f"instance unreachable: {getattr(result, 'reason', result)}"
    return Outcome.FAILED, f"unexpected answer {result!r}"


def start_verdict(command: Command, state: ProcessState, info: ProcessInfo | None, now: float,
                  options: RunOptions) -> Verdict | None:
    """Whether a start (or a wait) is over, ``state`` being what the process is now and ``info`` what
    its instance reported (None when the process is followed across the cluster)."""
    placement = command.placement
    if state is ProcessState.RUNNING and not placement.wait_exit:
        return Outcome.RUNNING, "RUNNING"
    if state is ProcessState.EXITED:
        exitstatus, expected = (info.exitstatus, info.expected_exit) if info else (None, False)
        if placement.wait_exit and expected:
            return Outcome.EXITED, f"exited with expected code {exitstatus}"
        return Outcome.FAILED, f"exited with code {exitstatus}" + ("" if expected else " (not in exitcodes)")
    if state in _START_FAILED:
        spawnerr = info.spawnerr if info else ""
        return Outcome.FAILED, f"{state.name}" + (f": {spawnerr}" if spawnerr else "")
    if command.deadline is not None and now > command.deadline:
        if placement.wait_exit and state is ProcessState.RUNNING:
            detail = f"no exit within {options.exit_timeout:g}s of RUNNING"
        else:
            detail = f"no RUNNING within {budget(placement, RunKind.START, options):g}s"
        return Outcome.TIMEOUT, f"{detail} (state {state.name})"
    return None


def stop_verdict(command: Command, state: ProcessState, now: float, options: RunOptions) -> Verdict | None:
    """Whether a stop is over, ``state`` being what the process is now on the command's instance."""
    if state in _STOP_DONE:
        return Outcome.STOPPED, state.name
    if command.deadline is not None and now > command.deadline:
        return Outcome.TIMEOUT, f"not stopped within {budget(command.placement, RunKind.STOP, options):g}s " \
                                f"(state {state.name})"
    return None
