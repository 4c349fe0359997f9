"""``python -m supv_cli`` and the ``supv`` console script.

A Ctrl-C (or SIGTERM) while Python is still importing click and the command, the first tenth of a
second, must end supv like any other interrupt: one line and the documented exit code, not a traceback
from inside an import. So the entry point installs handlers that exit at once before importing
anything heavy; the command line layer then installs its own (see ``supv_cli.cli.main``).
"""

from __future__ import annotations

import os
import signal
from typing import Any

_EARLY_MESSAGES: dict[int, bytes] = {signal.SIGINT: b"supv: interrupted\n", signal.SIGTERM: b"supv: terminated\n"}


def _exit_at_once(signum: int, frame: Any) -> None:
    # nothing has started yet: nothing to report, nothing to clean up
    os.write(2, _EARLY_MESSAGES.get(signum, b"supv: interrupted\n"))
    os._exit(128 + signum)


def main() -> Any:
    """Entry point of the ``supv`` console script."""
    for signum in _EARLY_MESSAGES:
        if signal.getsignal(signum) is not signal.SIG_IGN:  # nohup, or & in a script: stay ignored
            signal.signal(signum, _exit_at_once)
    from supv_cli.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":  # pragma: no cover - exercised through the CLI tests
    main()
