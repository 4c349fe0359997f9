"""How times and text that came from the cluster are shown where control characters would be obeyed: the one rule,
used by the Terminal of the command line (``cli/terminal.py``) and by the controller's log on a terminal
(``controller/main.py``, which imports no part of the command line)."""

from __future__ import annotations

import time

__all__ = ["iso_time", "visible"]

#: C0 controls but TAB and LF, DEL, and the C1 controls (U+0080-U+009F: CSI, OSC... in one character)
_CONTROLS = {code: f"\\x{code:02x}" for code in (*range(0x00, 0x09), *range(0x0b, 0x20), *range(0x7f, 0xa0))}


def visible(text: str) -> str:
    """``text`` with its control characters written as ``\\xNN`` (TAB and LF kept: they do no harm)."""
    return text.translate(_CONTROLS)


def iso_time(when: float) -> str:
    """Local time with milliseconds, as every supv log line and event shows it: ``2026-11-30T23:40:01.123``."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(when)) + f".{int(when % 1 * 1000):03d}"
