"""The exit codes of supv and its small exception hierarchy.

The core raises these; the CLI converts them, in one place, into a one-line message on stderr and
the matching exit code (see ``supv_cli.cli.main``).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes of every supv command (documented in ``supv --help`` and the README)."""

    OK = 0
    #: the operation failed (a start or stop failed, ``--check`` found a problem)
    FAILED = 1
    #: bad usage, invalid rules file, invalid template or configuration
    USAGE = 2
    #: an instance needed by the command could not be reached
    UNREACHABLE = 3
    #: interrupted by the user (Ctrl-C)
    INTERRUPTED = 130
    #: ended by SIGTERM (the command stops as on Ctrl-C, its report printed)
    TERMINATED = 143


class SupvError(Exception):
    """Base of every error supv reports to the user as one line.

    ``location`` is ``file:line`` (or ``file``) when the error comes from a file.
    """

    exit_code: ExitCode = ExitCode.FAILED

    def __init__(self, message: str, location: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class UsageError(SupvError):
    """Bad command-line usage that click itself cannot detect."""

    exit_code = ExitCode.USAGE


def unknown_names(what: str, unknown: list[str], known: list[str], unreachable: int = 0) -> SupvError:
    """The one error for names that name nothing, in every command: ``unknown application nope: no
    reachable instance has it; known: a, b``, exit 2; exit 3 when an instance did not answer (the name
    may be there)."""
    listed = ", ".join(known[:20]) + (", ..." if len(known) > 20 else "") if known else "(none)"
    message = f"unknown {what} {', '.join(unknown)}: no reachable instance has it; known: {listed}"
    if unreachable:
        return ClusterError(f"{message}; {unreachable} instance(s) did not answer and may have it")
    return UsageError(message)


class RulesError(SupvError):
    """An invalid rules file (XML syntax, schema, pattern...)."""

    exit_code = ExitCode.USAGE

    def __init__(self, message: str, location: str | None = None, errors: list[str] | None = None) -> None:
        super().__init__(message, location)
        #: every ``file:line: message`` found (a file may have several problems)
        self.errors = errors if errors is not None else [str(self)]

    @classmethod
    def many(cls, lines: list[str]) -> RulesError:
        """One error for several ``file:line: message`` lines (the first one is the message)."""
        error = cls(lines[0] if lines else "invalid rules")
        error.errors = list(lines) or [error.message]
        return error


class TemplateError(SupvError):
    """An invalid breed template or breed request."""

    exit_code = ExitCode.USAGE


class ConfigError(SupvError):
    """An invalid instance list, inventory or supervisord configuration."""

    exit_code = ExitCode.USAGE


class ClusterError(SupvError):
    """An instance needed by the command could not be reached."""

    exit_code = ExitCode.UNREACHABLE


class PlanError(SupvError):
    """A plan could not be built or executed."""

    exit_code = ExitCode.FAILED


class CommandFailed(SupvError):
    """The command has said what went wrong (on stderr or in its report): exit with ``exit_code`` and
    print nothing more. Commands raise this instead of exiting themselves."""

    def __init__(self, exit_code: ExitCode, message: str = "") -> None:
        super().__init__(message)
        self.exit_code = exit_code


class Terminated(KeyboardInterrupt):
    """SIGTERM: it stops a command where Ctrl-C would (every ``except KeyboardInterrupt`` handles it,
    so a run prints its report), and the command then exits with ``ExitCode.TERMINATED``."""
