"""The early signal handlers of every supv process: installed as soon as this module is imported.

A Ctrl-C (or SIGTERM) while Python is still importing click and the command, the first tenth of a
second, must end supv like any other interrupt: one line and the documented exit code, not a traceback
from inside an import. The entry points import this module before anything else (even ``typing``):
``python -m supv_cli`` and the ``supv`` console script (``supv_cli/__main__.py``), and the controller's lean
process (``python -m supv_cli.controller``); the command line layer then installs its own handlers (see
``supv_cli.cli.main``), the controller's loop its SIGTERM handler.
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
