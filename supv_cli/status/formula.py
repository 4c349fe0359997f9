"""The ``operational_status`` formula of an application (behaviour spec §2.5), evaluated safely.

A small AST walker, never ``eval``: string leaves (a process name, else a regex matched against whole
process names), ``and``, ``or``, ``not``, ``any()`` and ``all()``; anything else is a FormulaError.
"""

from __future__ import annotations

import ast
import re
from typing import Mapping


class FormulaError(ValueError):
    """An ``operational_status`` formula that cannot be evaluated (the message says why)."""


def _leaf(text: str, statuses: Mapping[str, bool]) -> bool | list[bool]:
    if text in statuses:
        return statuses[text]
    try:
        pattern = re.compile(f"^{text}$")
    except re.error as error:
        raise FormulaError(f"invalid regular expression {text!r}: {error}") from None
    matches = [value for name, value in statuses.items() if pattern.match(name)]
    if not matches:
        raise FormulaError(f"no match for expression {text!r}")
    return matches[0] if len(matches) == 1 else matches


def _walk(node: ast.AST, statuses: Mapping[str, bool]) -> bool | list[bool]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return _leaf(node.value, statuses)
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in ("any", "all"):
            name = node.func.id if isinstance(node.func, ast.Name) else ast.dump(node.func)
            raise FormulaError(f"unsupported function {name}; only any() and all()")
        if len(node.args) != 1 or node.keywords:
            raise FormulaError(f"{node.func.id}() takes exactly one argument")
        value = _walk(node.args[0], statuses)
        values = [value] if isinstance(value, bool) else value
        return any(values) if node.func.id == "any" else all(values)
    if isinstance(node, ast.BoolOp):
        operands = [_walk(value, statuses) for value in node.values]
        if any(not isinstance(operand, bool) for operand in operands):
            raise FormulaError("a pattern matching several processes must be inside any() or all() "
                               "before 'and' / 'or'")
        return all(operands) if isinstance(node.op, ast.And) else any(operands)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        operand = _walk(node.operand, statuses)
        if not isinstance(operand, bool):
            raise FormulaError("a pattern matching several processes must be inside any() or all() before 'not'")
        return not operand
    raise FormulaError(f"unsupported expression {type(node).__name__}; use strings, and, or, not, any(), all()")


def evaluate_formula(formula: str, statuses: Mapping[str, bool]) -> bool:
    """Evaluate an ``operational_status`` formula (spec §2.5) over ``process_name -> ok`` values.

    Leaves are strings: an exact process name, else a regular expression matched against the whole
    process names (one match gives a bool, several a list that ``any()`` / ``all()`` must consume).
    Raises :class:`FormulaError` for anything else.
    """
    try:
        tree = ast.parse(formula)
    except SyntaxError as error:
        raise FormulaError(f"not a Python expression ({error.msg})") from None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Expr):
        raise FormulaError("the formula must be exactly one expression")
    result = _walk(tree.body[0].value, statuses)
    if not isinstance(result, bool):
        raise FormulaError("the formula gives several values; wrap the pattern in any() or all()")
    return result
