"""``supv ARGS`` on a pseudo terminal (80x24 unless told), for the tests of ``supv top``'s live frame."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time

from tests.support.scenario3 import supv_env


class OnTerminal:
    """``supv ARGS`` whose stdin, stdout and stderr are a pseudo terminal; what it draws is gathered in
    ``drawn``. Use it as a context manager: on the way out the process is killed if it still runs."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.master, self.slave = pty.openpty()
        self.process = subprocess.Popen([sys.executable, "-m", "supv_cli", *args], stdin=self.slave,
                                        stdout=self.slave, stderr=self.slave,
                                        env={**supv_env(), "COLUMNS": "80", "LINES": "24", **(env or {})})
        self.drawn = b""

    def read(self, seconds: float, until: bytes = b"") -> bytes:
        """Gather what is drawn for ``seconds`` (or until ``until`` is in ``drawn``); never blocks longer."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not (until and until in self.drawn):
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    self.drawn += os.read(self.master, 65536)
                except OSError:  # the child closed its side
                    break
        return self.drawn

    def press(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def __enter__(self) -> OnTerminal:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        os.close(self.master)
        os.close(self.slave)
