"""Man pages that cannot drift: ``man/supv-CMD.1`` made from the click command plus ``man/src/supv-CMD.roff``.

The click command gives NAME, SYNOPSIS, OPTIONS (help, environment variable, default), EXIT STATUS (the
``Exit status:`` paragraph of its help) and the aliases; the prose file gives what only a person can
write (DESCRIPTION, OUTPUT, EXAMPLES...). ``python -m supv_cli.cli.manpage --write`` rewrites every page;
``tests/unit/test_manpages.py`` fails when a committed page is not what the generator makes.
"""

from __future__ import annotations

import re
from pathlib import Path

from supv_cli.cli import COMMANDS
from supv_cli.cli.manpage import generate as gen
from supv_cli.cli.manpage.prose import Prose, ProseError, read_prose
from supv_cli.cli.manpage.reference import render_reference
from supv_cli.cli.manpage.roff import escape

#: the repository's man/ folder (pages) and man/src/ (their prose)
MAN_DIR = Path(__file__).resolve().parents[3] / "man"
#: the repository's docs/, where the command reference docs/cli.md goes
DOCS_DIR = MAN_DIR.parent / "docs"
#: sections where prose replaces what the help text would give
PROSE_WINS = ("DESCRIPTION", "EXAMPLES", "SEE ALSO")
#: where a generated section goes when the prose has no heading for it: before the first of these
BEFORE = {
    "DESCRIPTION": ("*",),
    "COMMANDS": ("OPTIONS", "EXIT STATUS", "ENVIRONMENT", "FILES", "EXAMPLES", "SEE ALSO"),
    "OPTIONS": ("EXIT STATUS", "ENVIRONMENT", "FILES", "EXAMPLES", "SEE ALSO"),
    "EXIT STATUS": ("ENVIRONMENT", "FILES", "EXAMPLES", "SEE ALSO"),
    "EXAMPLES": ("SEE ALSO",),
    "SEE ALSO": (),
}


#: no hyphenation and a ragged right margin (groff's man macros reset both at each paragraph from HY and
#: AD): option names, JSON keys and identifiers are copied from man pages, whole
LAYOUT = (".nr HY 0", ".nh", ".ds AD l", ".ad l")


def page_names() -> list[str]:
    """``supv`` and ``supv-CMD`` for every command of the lazy table, in its order."""
    return ["supv", *(f"supv-{name}" for name in COMMANDS)]


def prose_path(page: str, man_dir: Path = MAN_DIR) -> Path:
    return man_dir / "src" / f"{page}.roff"


def options_roff(entries_by_part: list[tuple[str | None, list[gen.Entry]]], prose: Prose) -> list[str]:
    """The OPTIONS entries, each followed by the prose notes naming it (an unknown name is an error)."""
    used: set[int] = set()
    out: list[str] = []
    for part, entries in entries_by_part:
        if part is not None:
            out.append(f".SS {escape(part)}")
        for item in entries:
            out.extend([".TP", item.tag, item.text])
            for index, note in enumerate(prose.notes):
                if note.kind != "param":
                    continue
                keys = note.keys
                if part is not None and len(keys) > 1 and keys[0] == part.split()[-1]:
                    keys = keys[1:]
                elif part is not None and len(keys) > 1 and keys[0] in subcommand_names(entries_by_part):
                    continue
                if any(key in item.keys for key in keys):
                    out.extend(note.lines)
                    used.add(index)
    for index, note in enumerate(prose.notes):
        if index not in used and note.kind == "param":
            raise ProseError(f"{note.where}: +param {' '.join(note.keys)}: no such option or argument; "
                             "rename the note or remove it")
    return out


def commands_roff(prose: Prose) -> list[str]:
    """supv(1)'s COMMANDS, each entry followed by the prose notes naming it."""
    notes = [note for note in prose.notes if note.kind == "command"]
    for note in notes:
        unknown = [key for key in note.keys if key not in COMMANDS]
        if unknown:
            raise ProseError(f"{note.where}: +command {' '.join(unknown)}: no such command in COMMANDS; "
                             "rename the note or remove it")
    out: list[str] = []
    for name, lines in gen.commands_section():
        out.extend(lines[:-1])                  # the tag and the summary; the page reference goes last
        for note in notes:
            if name in note.keys:
                out.extend(note.lines)
        out.append(lines[-1])
    return out


def subcommand_names(entries_by_part: list[tuple[str | None, list[gen.Entry]]]) -> set[str]:
    return {part.split()[-1] for part, _ in entries_by_part if part is not None}


def generated_sections(page: str, prose: Prose) -> tuple[str, dict[str, list[str]]]:
    """(.TH line, section -> generated roff) of a page."""
    if page == "supv":
        root = gen.root_help()
        return gen.th("supv"), {
            "NAME": [f"supv \\- {escape(gen.cli.help.split(chr(10))[0].rstrip('.')) if gen.cli.help else ''}"],
            "SYNOPSIS": gen.root_synopsis(),
            "DESCRIPTION": gen.paragraphs_roff(root.paragraphs),
            "COMMANDS": commands_roff(prose),
            "OPTIONS": options_roff([(None, gen.root_entries())], prose),
            "EXIT STATUS": gen.exit_roff(root.exit_codes),
            "SEE ALSO": gen.see_also_commands(),
        }
    name = page.removeprefix("supv-")
    parts = gen.parts(name)
    if len(parts) > 1:
        by_part: list[tuple[str | None, list[gen.Entry]]] = [(part.path, gen.entries(part)) for part in parts[1:]]
    else:
        by_part = [(None, gen.entries(parts[0]))]
    return gen.th(page), {
        "NAME": gen.name_section(name),
        "SYNOPSIS": gen.synopsis_section(parts),
        "DESCRIPTION": gen.description_section(parts),
        "OPTIONS": options_roff(by_part, prose),
        "EXIT STATUS": gen.exit_section(parts),
        "EXAMPLES": gen.examples_section(parts),
        "SEE ALSO": [".BR supv (1)"],
    }


def order(prose: Prose, generated: dict[str, list[str]]) -> list[str]:
    """Section titles in page order: NAME and SYNOPSIS, then the prose's order with the generated
    sections it does not name put where a man page has them."""
    titles = [title for title in prose.names() if title not in ("NAME", "SYNOPSIS")]
    for title in ("DESCRIPTION", "COMMANDS", "OPTIONS", "EXIT STATUS", "EXAMPLES", "SEE ALSO"):
        if title not in generated or title in titles:
            continue
        before = BEFORE[title]
        if before == ("*",):
            index = 0
        else:
            index = next((titles.index(other) for other in before if other in titles), len(titles))
            if title == "COMMANDS" and "DESCRIPTION" in titles:
                index = max(index, titles.index("DESCRIPTION") + 1)
        titles.insert(index, title)
    return ["NAME", "SYNOPSIS", *titles]


def section_body(page: str, title: str, written: list[str], made: list[str]) -> list[str]:
    """What a section holds: the prose alone where it wins, else the generated text with the prose's
    (an OPTIONS intro goes before the entries, other prose after the generated text)."""
    if not written or not made:
        return written or made
    if title in PROSE_WINS and not (page == "supv" and title == "SEE ALSO"):
        return written
    if title == "OPTIONS":
        return [*written, *made]
    if title == "EXIT STATUS" and written_codes(written):
        return written  # checked against the help by check_exit_codes
    return [*made, *([] if title == "SEE ALSO" else [".PP"]), *written]


#: ``.TP`` then ``.B 2`` (or ``\\fB2\\fR``): one exit code of a hand-written EXIT STATUS
TAG_CODE_RE = re.compile(r"^(?:\.B\s+|\\fB)(\d+)(?:\\fR)?\s*$")


def written_codes(lines: list[str]) -> list[int]:
    return [int(match.group(1)) for previous, line in zip(lines, lines[1:])
            if previous.strip() == ".TP" and (match := TAG_CODE_RE.match(line.strip()))]


def check_exit_codes(page: str, prose: Prose, made: list[str]) -> None:
    """The codes of a hand-written EXIT STATUS are the codes the help gives: prose may say more about
    each, never another list."""
    written = written_codes(prose.section("EXIT STATUS") or [])
    expected = written_codes(made)
    if written and sorted(set(written)) != sorted(set(expected)):
        raise ProseError(f"{prose.path}: EXIT STATUS lists codes {sorted(set(written))} but the help of the command "
                         f"gives {sorted(set(expected))}; make them agree (the help's 'Exit status:' paragraph)")


def render_page(page: str, man_dir: Path = MAN_DIR) -> str:
    """The text of ``man/PAGE.1``."""
    prose = read_prose(prose_path(page, man_dir))
    th, generated = generated_sections(page, prose)
    check_exit_codes(page, prose, generated["EXIT STATUS"])
    out = [th, f'.\\" Generated by `python -m supv_cli.cli.manpage --write` from the click command and '
           f"man/src/{page}.roff:", '.\\" edit those, not this file.',
           *LAYOUT]
    for title in order(prose, generated):
        body = section_body(page, title, prose.section(title) or [], generated.get(title, []))
        if not body:
            continue
        out.append(f".SH {title}")
        out.extend(body)
    return "\n".join(out) + "\n"


def render_all(man_dir: Path = MAN_DIR, docs_dir: Path = DOCS_DIR) -> dict[Path, str]:
    """Every file the generator makes: path -> text (the pages, and the command reference)."""
    made = {man_dir / f"{page}.1": render_page(page, man_dir) for page in page_names()}
    made[docs_dir / "cli.md"] = render_reference()
    return made
