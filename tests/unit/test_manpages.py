"""Man pages that cannot drift (issue 19, item 6): every committed page is what the generator makes
from the click command and its prose file, and says what ``--help`` says."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from supv_cli.cli import ALIASES, COMMANDS
from supv_cli.cli.manpage import DOCS_DIR, MAN_DIR, ProseError, page_names, render_page
from supv_cli.cli.manpage.__main__ import main as manpage_main
from supv_cli.cli.manpage.generate import command_of, parts, range_text
from supv_cli.cli.manpage.prose import import_page
from supv_cli.cli.manpage.reference import render_reference
from supv_cli.cli.manpage.roff import exit_codes, lost_quotes
from tests.support.cli import run_supv

REGENERATE = "python -m supv_cli.cli.manpage --write"


@pytest.mark.parametrize("page", page_names())
def test_the_committed_page_is_what_the_generator_makes(page: str) -> None:
    committed = (MAN_DIR / f"{page}.1").read_text(encoding="utf-8")
    assert committed == render_page(page), f"man/{page}.1 is stale: run {REGENERATE}"


def test_the_command_reference_is_what_the_generator_makes() -> None:
    committed = (DOCS_DIR / "cli.md").read_text(encoding="utf-8")
    assert committed == render_reference(), f"docs/cli.md is stale: run {REGENERATE}"
    for name in [*COMMANDS, *ALIASES]:
        assert f"`{name}`" in committed


def test_every_command_has_a_page_and_every_page_a_command() -> None:
    pages = {path.stem for path in MAN_DIR.glob("supv*.1")}
    assert pages == set(page_names()) == {"supv", *(f"supv-{name}" for name in COMMANDS)}
    assert {path.stem for path in (MAN_DIR / "src").glob("*.roff")} <= pages   # no prose without a page


def help_flags(*argv: str) -> set[str]:
    """The long and short options ``supv ARGV --help`` lists (its own text, not the generator's)."""
    text = run_supv(*argv, "--help").stdout
    options = text[text.index("\nOptions:"):]
    return set(re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", options))


def help_paths() -> list[tuple[str, ...]]:
    found = []
    for name in COMMANDS:
        subs = parts(name)[1:]
        found.extend(tuple(part.path.split()[1:]) for part in subs) if subs else found.append((name,))
    return found


@pytest.mark.parametrize("argv", help_paths(), ids=" ".join)
def test_every_option_of_help_is_on_the_page(argv: tuple[str, ...]) -> None:
    roff = (MAN_DIR / f"supv-{argv[0]}.1").read_text(encoding="utf-8")
    page = re.sub(r"\\f[BIRP]", "", roff).replace("\\-", "-")          # the text, without font changes
    flags = help_flags(*argv)
    assert "--help" in flags
    missing = sorted(flag for flag in flags if not re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", page))
    assert missing == [], f"supv-{argv[0]}.1 lacks {missing}: run {REGENERATE}"


@pytest.mark.parametrize("argv", help_paths(), ids=" ".join)
def test_the_page_gives_the_exit_codes_of_help(argv: tuple[str, ...]) -> None:
    text = run_supv(*argv, "--help").stdout
    match = re.search(r"Exit (?:status|codes): (.*?)(?:\n\s*\n|\n\s*Examples:)", text, re.S)
    page = (MAN_DIR / f"supv-{argv[0]}.1").read_text(encoding="utf-8")
    section = page[page.index(".SH EXIT STATUS"):page.index(".SH", page.index(".SH EXIT STATUS") + 4)]
    listed = {int(code) for code in re.findall(r"^(?:\.B |\\fB)(\d+)", section, re.M)}
    expected = {code for code, _ in exit_codes(match.group(1))} if match else {0, 2}
    assert expected <= listed


def test_aliases_are_named_on_the_pages() -> None:
    for alias, target in ALIASES.items():
        page = MAN_DIR / f"supv-{target.split()[0]}.1"   # "rules show": the page of rules
        name_line = page.read_text(encoding="utf-8").split(".SH NAME\n")[1].split("\n")[0]
        assert alias.replace("-", "\\-") in name_line


def test_no_page_loses_a_quote_in_groff() -> None:
    bad = [f"{path.name}:{number}" for path in sorted(MAN_DIR.glob("supv*.1"))
           for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1) if lost_quotes(line)]
    assert bad == []


@pytest.mark.parametrize(("line", "lost"), [
    ('.B {"application_name", "process_name"}', True),      # "process_name" ends at its quote: the , is glued
    ('.B "namespec", "statename"}]', True),
    ('.BR """kind"": ""restart""" :', False),                # "" is a literal quote inside a quoted argument
    ('.RB ( "supv run\\-plan \\-\\-watch" )', False),
    ('\\fB{"kind": "run"}\\fR', False),                      # a text line: quotes are plain characters
    ('.B supv run\\-plan', False),
])
def test_lost_quotes(line: str, lost: bool) -> None:
    assert lost_quotes(line) is lost


@pytest.mark.parametrize(("paragraph", "codes"), [
    ("Exit status: 0 shown; 2 usage error; 3 no instance answered.", [0, 2, 3]),
    ("Exit codes: 0 success (also when no file matches), 1 a file could not be written,\n2 bad option, bad APP=N.",
     [0, 1, 2]),
    ("Exit status: 0 every program done; 1 a program failed;\n3 no instance answered; 130 interrupted;\n"
     "143 terminated (SIGTERM; the report is printed).", [0, 1, 3, 130, 143]),
    ("Exit status: 0 shown; 1 failed, 5 retries left; 2 usage.", [0, 1, 2]),   # 5 is no exit code of supv
    ("Exit codes:\n  0   success\n  2   usage, 1 of them", [0, 2]),              # 1 after 2: not a code
])
def test_exit_codes_are_read_from_the_help(paragraph: str, codes: list[int]) -> None:
    assert [code for code, _ in exit_codes(paragraph)] == codes


def test_exit_meanings_are_kept_whole() -> None:
    assert exit_codes("Exit status: 0 shown; 1 a stop failed (FAILED, TIMEOUT); 130 interrupted.") == [
        (0, "shown"), (1, "a stop failed (FAILED, TIMEOUT)"), (130, "interrupted")]


def prose_dir(tmp_path: Path, page: str, text: str) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / f"{page}.roff").write_text(text, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(("text", "message"), [
    (".SH OPTIONS\n.\\\" +param \\-\\-no\\-such\nx\n", "+param --no-such: no such option"),
    (".SH NAME\nsupv-stop \\- x\n", "NAME is generated"),
    (".SH DESCRIPTION\n.\\\" +param --dry-run\nx\n", "belongs under .SH OPTIONS"),
    (".SH EXIT STATUS\n.TP\n.B 0\nStopped.\n.TP\n.B 7\nOdd.\n", "EXIT STATUS lists codes [0, 7]"),
    ('.SH OUTPUT\n.B {"kind", "result"}\n', 'groff drops a "'),
    ("loose text\n.SH DESCRIPTION\n", "text before the first .SH"),
    (".SH OPTIONS\n.\\\" +command stop\nx\n", "belongs under .SH COMMANDS"),
])
def test_prose_that_disagrees_with_the_command_is_refused(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ProseError, match=re.escape(message)):
        render_page("supv-stop", prose_dir(tmp_path, "supv-stop", text))


def test_prose_notes_and_sections_are_merged(tmp_path: Path) -> None:
    text = (".SH DESCRIPTION\nHand\\-written.\n.SH OUTPUT\nRows.\n.SH OPTIONS\n.\\\" +param --stop-timeout\n"
            "A note.\n.SH EXAMPLES\n.EX\nsupv stop x:y\n.EE\n")
    page = render_page("supv-stop", prose_dir(tmp_path, "supv-stop", text))
    titles = re.findall(r"^\.SH (.*)$", page, re.M)
    assert titles == ["NAME", "SYNOPSIS", "DESCRIPTION", "OUTPUT", "OPTIONS", "EXIT STATUS", "EXAMPLES", "SEE ALSO"]
    options = page[page.index(".SH OPTIONS"):page.index(".SH EXIT STATUS")]
    assert "stopwaitsecs" in options.split("\\fB\\-\\-stop\\-timeout\\fR")[1].split(".TP")[0]
    assert "A note." in options.split("\\fB\\-\\-stop\\-timeout\\fR")[1].split(".TP")[0]
    assert "Hand\\-written." in page and "supv stop x:y" in page
    assert "\\fB\\-\\-quiet\\fR" in page and "\\fB\\-\\-poll\\-interval\\fR" in page   # the drift of issue 19


def test_command_notes_of_the_main_page(tmp_path: Path) -> None:
    page = render_page("supv", prose_dir(tmp_path, "supv", ".SH COMMANDS\n.\\\" +command top\nA note.\n"))
    entry = page.split("\\fBtop\\fR", 1)[1].split(".TP")[0]
    assert entry.index("A note.") < entry.index("supv\\-top")     # the note, then the page reference
    bad = tmp_path / "bad"
    bad.mkdir()
    with pytest.raises(ProseError, match="no such command"):
        render_page("supv", prose_dir(bad, "supv", ".SH COMMANDS\n.\\\" +command nope\nx\n"))


def test_a_command_without_prose_gets_a_whole_page_from_its_help(tmp_path: Path) -> None:
    page = render_page("supv-restart", tmp_path)
    for title in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "EXAMPLES", "SEE ALSO"):
        assert f".SH {title}\n" in page
    assert "restart_process" in page and "Interrupted." in page
    command = command_of("restart")
    assert isinstance(command, click.Command) and "supv restart" in page


def test_import_turns_a_hand_written_page_into_prose() -> None:
    page = (".TH SUPV\\-X 1\n.SH NAME\nsupv\\-x \\- x\n.SH SYNOPSIS\n.B supv x\n.SH DESCRIPTION\nIt does.\n"
            '.SH OUTPUT\n.B {"kind", "result"}\n.SH OPTIONS\n.TP\n.B \\-\\-old\nOld text.\n'
            '.SH SEE ALSO\n.BR supv (1)\n')
    prose = import_page(page, "supv-x")
    assert ".SH NAME" not in prose and ".TH" not in prose
    assert ".SH DESCRIPTION\nIt does.\n" in prose and ".SH SEE ALSO\n.BR supv (1)\n" in prose
    assert '.\\" | Old text.' in prose and '.\\" | .B supv x' in prose          # kept for review, not shown
    assert '\\fB{"kind", "result"}\\fR' in prose                                  # the lost quotes fixed


def test_check_mode_names_a_stale_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dirs = ["--man-dir", str(tmp_path), "--docs-dir", str(tmp_path)]
    assert manpage_main(["--write", *dirs]) == 0
    assert manpage_main(["--check", *dirs]) == 0
    (tmp_path / "supv-stop.1").write_text("stale\n", encoding="utf-8")
    assert manpage_main(["--check", *dirs]) == 1
    assert "supv-stop.1: differs from the generator" in capsys.readouterr().err


class Bounded(click.ParamType):
    """A type of its own with bounds, as options.Seconds: --help does not show them, the page does."""

    name = "seconds"

    def __init__(self, min: float = 0.0, max: float | None = None) -> None:
        self.min, self.max = min, max


@pytest.mark.parametrize(("kind", "text"), [
    (click.FloatRange(0.02, 10), "Range: 0.02 to 10."),
    (click.FloatRange(min=0.1), "At least 0.1."),
    (click.IntRange(min=1), "At least 1."),
    (click.FloatRange(min=0, min_open=True), "More than 0."),
    (Bounded(min=0.02, max=10), "Range: 0.02 to 10."),
    (Bounded(min=0.1, max=3600.0), "Range: 0.1 to 3600."),
    (Bounded(), "At least 0."),
    (click.STRING, ""),
    (click.Choice(["a", "b"]), ""),
])
def test_the_bounds_of_an_option_are_on_its_page(kind: click.ParamType, text: str) -> None:
    assert range_text(kind) == text
