"""What supv needs from newer Pythons, for the oldest one it supports (3.9, setup.cfg)."""

from __future__ import annotations

import sys
from enum import Enum

if sys.version_info >= (3, 11):
    from enum import StrEnum
else:
    class StrEnum(str, Enum):
        """An enum of strings that prints and formats as its value (``enum.StrEnum`` of Python 3.11)."""

        def __str__(self) -> str:
            return str(self.value)

        def __format__(self, spec: str) -> str:
            return format(str(self.value), spec)

__all__ = ["StrEnum"]
