"""Roff for the generated parts of the man pages, and the reading of click help texts.

Generated text is written as plain text lines with inline font escapes (``\\fB...\\fR``), never as macro
arguments, so that a ``"`` in a help text (JSON shapes) cannot be eaten by the macro parser.
"""

from __future__ import annotations

import itertools
import re
import textwrap
from dataclasses import dataclass, field

from supv_cli.errors import ExitCode

#: ``Exit status:`` (or ``Exit codes:``) opens the paragraph of a help text that gives the exit codes
EXIT_RE = re.compile(r"^\s*Exit (?:status|codes):\s*", re.IGNORECASE)
EXAMPLES_RE = re.compile(r"^\s*Examples:\s*$")
#: a code in an exit paragraph: ``0 shown; 1 ...`` or ``0 success, 1 ...`` (or one code a line)
CODE_RE = re.compile(r"(?:^|[;,]\s+|\n\s*)(\d{1,3})\s+")


def escape(text: str) -> str:
    """Plain text as roff text: backslashes and hyphens escaped (``\\-`` is a real minus, which man
    searches and copy-paste need in options), no line starting with a control character."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join("\\&" + line if line.startswith((".", "'")) else line for line in text.split("\n"))


def bold(text: str) -> str:
    return f"\\fB{escape(text)}\\fR"


def italic(text: str) -> str:
    return f"\\fI{escape(text)}\\fR"


def unbreakable(text: str) -> str:
    """Escaped text whose blanks never break a line (an option and its value stay together)."""
    return escape(text).replace(" ", "\\ ")


@dataclass
class HelpText:
    """A click help text (docstring and epilog) cut into what the man page uses."""

    #: paragraphs: (verbatim, text); verbatim ones were marked ``\\b`` (click does not re-wrap them)
    paragraphs: list[tuple[bool, str]] = field(default_factory=list)
    #: exit code -> what it means for this command (empty when the help gives no exit paragraph)
    exit_codes: list[tuple[int, str]] = field(default_factory=list)
    #: the lines of the ``Examples:`` block, dedented (comments and blank lines kept)
    examples: list[str] = field(default_factory=list)


def blocks(help_text: str) -> list[tuple[bool, list[str]]]:
    """Split a help text as click does: a blank line ends a paragraph; a ``\\b`` line opens a verbatim
    one, which runs to the next blank or ``\\b`` line."""
    found: list[tuple[bool, list[str]]] = []
    verbatim, lines = False, []  # type: bool, list[str]
    for line in textwrap.dedent(help_text).expandtabs().split("\n"):
        if line.strip() in ("", "\b"):
            if lines:
                found.append((verbatim, lines))
            verbatim, lines = line.strip() == "\b", []
        else:
            lines.append(line)
    if lines:
        found.append((verbatim, lines))
    return found


def read_help(help_text: str) -> HelpText:
    """The description paragraphs, exit codes and examples of a command's help (docstring + epilog)."""
    result = HelpText()
    in_examples = False
    for verbatim, lines in blocks(help_text):
        first = lines[0]
        if EXIT_RE.match(first):
            result.exit_codes = exit_codes("\n".join(line.strip() for line in lines))
            in_examples = False
        elif EXAMPLES_RE.match(first) or (in_examples and verbatim and lines[0].startswith(" ")):
            result.examples.extend([""] if result.examples else [])
            result.examples.extend(textwrap.dedent("\n".join(lines[1:] if EXAMPLES_RE.match(first)
                                                              else lines)).split("\n"))
            in_examples = True
        else:
            in_examples = False
            text = textwrap.dedent("\n".join(lines)) if verbatim else " ".join(line.strip() for line in lines)
            result.paragraphs.append((verbatim, text))
    return result


def exit_codes(paragraph: str) -> list[tuple[int, str]]:
    """``Exit status: 0 shown; 2 usage error`` -> [(0, "shown"), (2, "usage error")]."""
    text = EXIT_RE.sub("", paragraph).strip()
    matches = list(CODE_RE.finditer(text))
    # only exit codes supv has, increasing: a wrapped line starting with "2 polls" is not a code
    valid = {int(code) for code in ExitCode}
    kept: list[re.Match[str]] = []
    for match in matches:
        if int(match.group(1)) in valid and (not kept or int(match.group(1)) > int(kept[-1].group(1))):
            kept.append(match)
    matches = kept
    codes = []
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        meaning = " ".join(text[match.end():end].split()).rstrip(".;,").strip()
        codes.append((int(match.group(1)), meaning))
    return codes


def paragraphs_roff(paragraphs: list[tuple[bool, str]]) -> list[str]:
    """Description paragraphs as roff: filled text, verbatim ones kept line by line."""
    out: list[str] = []
    for verbatim, text in paragraphs:
        if out:
            out.append(".PP")
        if not verbatim:
            out.append(escape(text))
            continue
        # a \b paragraph: its flush-left lines are prose (filled), its indented lines an example
        for indented, run in itertools.groupby(text.split("\n"), key=lambda line: line.startswith(" ")):
            lines = list(run)
            if indented:
                out.extend([".RS 4", *example_roff(textwrap.dedent("\n".join(lines)).split("\n")), ".RE"])
            else:
                out.append(escape(" ".join(line.strip() for line in lines)))
    return out


def example_roff(lines: list[str]) -> list[str]:
    """An ``Examples:`` block as a roff example (``.EX``/``.EE``), trailing blank lines dropped."""
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return [".EX", *(escape(line) if line.strip() else "" for line in lines), ".EE"] if lines else []


def exit_roff(codes: list[tuple[int, str]]) -> list[str]:
    """One ``.TP`` per exit code."""
    out: list[str] = []
    for code, meaning in codes:
        out.extend([".TP", bold(str(code)), escape(meaning[:1].upper() + meaning[1:]) + "."])
    return out


# ----------------------------------------------------------------------------- checks of hand-written roff
FONT_MACRO_RE = re.compile(r"^\.(B|I|BR|RB|BI|IB|IR|RI|SM|SB)\s")


def lost_quotes(line: str) -> bool:
    """Whether groff drops a ``"`` of this font-macro line: an argument that starts with ``"`` ends at
    the next lone ``"``, so ``.B {"a", "b"}`` prints ``{"a", b}``. ``""`` inside a quoted argument is a
    literal quote; write JSON shapes as text lines with ``\\fB`` instead."""
    if not FONT_MACRO_RE.match(line):
        return False
    rest = line.split(None, 1)[1] if len(line.split(None, 1)) > 1 else ""
    index = 0
    while index < len(rest):
        if rest[index] == " ":
            index += 1
        elif rest[index] == '"':
            index += 1
            while index < len(rest):
                if rest[index] == '"' and rest[index + 1:index + 2] == '"':
                    index += 2
                elif rest[index] == '"':
                    index += 1
                    break
                else:
                    index += 1
            if index < len(rest) and rest[index] != " ":
                return True  # text glued after the closing quote: groff reads another argument
        else:
            while index < len(rest) and rest[index] != " ":
                index += 1
    return False
