"""The hand-written part of a man page: ``man/src/PAGE.roff``, read, checked and merged.

A prose file is roff cut by ``.SH`` lines, in the order of the page. Sections the generator owns:
- NAME: generated only (from the command's summary and aliases); refused in prose.
- SYNOPSIS, OPTIONS, EXIT STATUS (and COMMANDS, SEE ALSO of supv(1)): generated; what prose writes under
  the same heading is added after the generated text, and the heading places the section. Under
  OPTIONS, a line ``.\\" +param --flag`` (or an argument's metavar, or ``SUBCOMMAND --flag`` for a group)
  opens a note added to that option's entry; a note naming no option is an error (the option was
  renamed or removed). Under COMMANDS (supv(1)), ``.\\" +command NAME`` does the same for a command.
- DESCRIPTION, EXAMPLES, SEE ALSO: prose wins; the click help text fills them when prose has none.
Comment lines (``.\\"``) are never copied to the page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from supv_cli.cli.manpage.roff import lost_quotes

SH_RE = re.compile(r'^\.SH\s+"?([^"]*?)"?\s*$')
PARAM_RE = re.compile(r'^\.\\"\s*\+(param|command)\s+(.+?)\s*$')
#: the section each kind of note belongs to
NOTE_SECTION = {"param": "OPTIONS", "command": "COMMANDS"}
COMMENT = '.\\"'


class ProseError(ValueError):
    """A prose file the generator cannot use; the message is ``FILE:LINE: what, how to fix``."""


@dataclass
class Note:
    kind: str           # param (an option or argument) or command (an entry of supv(1)'s COMMANDS)
    keys: tuple[str, ...]
    lines: list[str]
    where: str          # FILE:LINE of its +param line, for errors


@dataclass
class Prose:
    """A prose file: its sections in page order, and the notes of OPTIONS."""

    path: Path | None = None
    sections: list[tuple[str, list[str]]] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)

    def section(self, name: str) -> list[str] | None:
        for title, lines in self.sections:
            if title == name:
                return lines
        return None

    def names(self) -> list[str]:
        return [title for title, _ in self.sections]


def read_prose(path: Path) -> Prose:
    """Read ``man/src/PAGE.roff`` (a missing file is an empty prose: the page is all generated)."""
    prose = Prose(path)
    if not path.is_file():
        return prose
    title: str | None = None
    note: Note | None = None
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        where = f"{path}:{number}"
        heading = SH_RE.match(line)
        param = PARAM_RE.match(line)
        if heading:
            title, note = heading.group(1).strip().upper(), None
            if title == "NAME":
                raise ProseError(f"{where}: NAME is generated from the command's summary in supv_cli/cli/"
                                 "__init__.py COMMANDS; remove the section")
            if title in prose.names():
                raise ProseError(f"{where}: section {title} is written twice; merge the two")
            prose.sections.append((title, []))
        elif param:
            kind = param.group(1)
            if title != NOTE_SECTION[kind]:
                raise ProseError(f"{where}: a +{kind} note belongs under .SH {NOTE_SECTION[kind]}; move it there")
            note = Note(kind, tuple(param.group(2).replace("\\-", "-").split()), [], where)
            prose.notes.append(note)
        elif line.startswith(COMMENT):
            continue
        elif title is None:
            if line.strip():
                raise ProseError(f"{where}: text before the first .SH; start the file with a section")
        elif lost_quotes(line):
            raise ProseError(f'{where}: groff drops a " of this line (an argument starting with " ends at the '
                             'next "); write it as a text line with \\fB...\\fR')
        elif note is not None:
            note.lines.append(line)
        else:
            prose.sections[-1][1].append(line)
    for _, lines in prose.sections:
        while lines and not lines[-1].strip():
            lines.pop()
    for item in prose.notes:
        while item.lines and not item.lines[-1].strip():
            item.lines.pop()
    return prose


# ----------------------------------------------------------------------------- import of a hand-written page
#: sections of a hand-written page the generator now writes: kept as comments for review, not as text
GENERATED_ON_IMPORT = ("SYNOPSIS", "OPTIONS", "EXIT STATUS")


def import_page(page_text: str, page_name: str) -> str:
    """A hand-written page -> its prose file: NAME and ``.TH`` dropped; SYNOPSIS, OPTIONS and EXIT STATUS
    kept as a heading (their place) with the old text commented out, to port into ``+param`` notes or a
    paragraph, or to delete; every other section verbatim."""
    out = [f'{COMMENT} Prose of {page_name}: merged with what the click command says by',
           f'{COMMENT} `python -m supv_cli.cli.manpage --write` (see supv_cli/cli/manpage/prose.py).']
    title: str | None = None
    for line in page_text.split("\n"):
        heading = SH_RE.match(line)
        if heading:
            title = heading.group(1).strip().upper()
            if title != "NAME":
                out.append(f".SH {title}")
            if title in GENERATED_ON_IMPORT:
                out.append(f"{COMMENT} hand-written {title} before generation (review, port, then delete):")
            continue
        if title is None or title == "NAME":
            continue
        if title in GENERATED_ON_IMPORT:
            out.append(f"{COMMENT} | {line}")
        elif lost_quotes(line) and line.split()[0] in (".B", ".I"):
            out.append(f"\\f{line[1]}{line.split(None, 1)[1]}\\fR")  # .B {"a", "b"} -> \fB{"a", "b"}\fR
        else:
            out.append(line)
    return "\n".join(out).rstrip("\n") + "\n"
