"""``python -m supv_cli`` and the ``supv`` console script.

A Ctrl-C (or SIGTERM) while Python is still importing click and the command, the first tenth of a
second, must end supv like any other interrupt: one line and the documented exit code, not a traceback
from inside an import. So this module installs handlers that exit at once as soon as it is imported,
before it imports anything else (even ``typing``) and before the console script's own wrapper goes on;
the command line layer then installs its own (see ``supv_cli.cli.main``).
"""

from __future__ import annotations

import os
import signal

_EARLY_MESSAGES: dict[int, bytes] = {signal.SIGINT: b"supv: interrupted\n", signal.SIGTERM: b"supv: terminated\n"}


def _exit_at_once(signum: int, frame: object) -> None:
    # nothing has started yet: nothing to report, nothing to clean up
    os.write(2, _EARLY_MESSAGES.get(signum, b"supv: interrupted\n"))
    os._exit(128 + signum)


def _install_early_handlers() -> None:
    for signum in _EARLY_MESSAGES:
        if signal.getsignal(signum) is not signal.SIG_IGN:  # nohup, or & in a script: stay ignored
            signal.signal(signum, _exit_at_once)


# at import, not in main(): the console script imports this module, then runs code of its own
_install_early_handlers()


def main() -> object:
    """Entry point of the ``supv`` console script."""
    from supv_cli.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":  # pragma: no cover - exercised through the CLI tests
    main()
