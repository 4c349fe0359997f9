"""Control characters in supervisord's XML-RPC answers (coloured logs), which XML 1.0 forbids.

supervisord escapes only ``&``, ``<`` and ``>`` in the strings it sends: a log line holding an ANSI
colour sequence (``ESC[31m``) reaches the client as a raw ``\\x1b`` inside ``<string>``, which every XML
parser refuses ("not well-formed (invalid token)"), so ``readProcessStdoutLog`` on a coloured log fails
as a whole. :func:`shelter` moves each forbidden byte to a private-use character before parsing and
:func:`restore` moves them back in the parsed values: the text comes back exactly as it was logged.
Only used when the normal parse failed, so a well-formed answer costs nothing more.
"""

from __future__ import annotations

import re
from typing import Any

#: the C0 controls XML 1.0 forbids (tab, line feed and carriage return are allowed)
_FORBIDDEN = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: where they are sheltered: U+F700 + the byte (private use area, not met in logs)
_BASE = 0xF700
_SHELTERED = re.compile("[\uf700-\uf71f]")


def has_forbidden(data: bytes) -> bool:
    """True when ``data`` holds a control character that XML 1.0 forbids."""
    return _FORBIDDEN.search(data) is not None


def carriable(text: str) -> bool:
    """True when ``text`` can go in an XML-RPC request: supervisord parses requests as XML 1.0, which
    has no way at all (not even ``&#27;``) to carry these controls. A process whose name holds one
    cannot be named to supervisord (its log read, started, stopped) by any client."""
    return _FORBIDDEN.search(text.encode("utf-8", "surrogatepass")) is None


def shelter(data: bytes) -> bytes:
    """``data`` with each forbidden control byte replaced by its private-use character (UTF-8)."""
    return _FORBIDDEN.sub(lambda match: chr(_BASE + match.group()[0]).encode("utf-8"), data)


def restore(value: Any) -> Any:
    """Undo :func:`shelter` in a parsed value (strings, in lists and structs too).

    Iterative, not recursive: a hostile answer nested thousands of levels deep (and holding a control
    character, so that it comes here) must not end in ``RecursionError``."""
    if not isinstance(value, (list, tuple, dict)):
        return _restore_text(value)
    # each container is copied empty first, then filled by walking an explicit stack of
    # (source, copy) pairs; tuples are built from a list once their items are done
    root = _empty(value)
    stack = [(value, root)]
    tuples: list[tuple[list[Any], Any, Any]] = []  # (items, parent copy, key in parent) to freeze
    while stack:
        source, copy = stack.pop()
        items = source.items() if isinstance(source, dict) else enumerate(source)
        for key, item in items:
            if isinstance(item, (list, tuple, dict)):
                child = _empty(item)
                stack.append((item, child))
                if isinstance(item, tuple):
                    tuples.append((child, copy, _restore_text(key)))
            else:
                child = _restore_text(item)
            if isinstance(copy, dict):
                copy[_restore_text(key)] = child
            else:
                copy.append(child)
    for items, parent, key in reversed(tuples):  # innermost last appended: frozen first
        parent[key] = tuple(items)
    return tuple(root) if isinstance(value, tuple) else root


def _empty(container: Any) -> Any:
    return {} if isinstance(container, dict) else []


def _restore_text(value: Any) -> Any:
    if isinstance(value, str):
        return _SHELTERED.sub(lambda match: chr(ord(match.group()) - _BASE), value)
    return value
