"""``python -m supv_cli.controller FD``: the lean process of ``supv run-plan --watch`` (see ``main.py``).

A Ctrl-C or SIGTERM before the loop starts ends it at once, as for the command
(``supv_cli/early.py``); the loop then installs its own SIGTERM handler (the cycle in progress ends, exit 0).
"""

import signal
import sys

import supv_cli.early  # noqa: F401  (installs the early handlers)
from supv_cli.controller.main import main

if __name__ == "__main__":
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:  # nohup, or & in a script: stay ignored
        signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(main())
