"""Man pages keep the quotes of their JSON shapes (issue 17, minor): in a roff macro line (``.B``,
``.BR``...) a ``"`` delimits an argument and is not printed; a literal quote is written ``\\(dq``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

MAN = Path(__file__).resolve().parents[2] / "man"
#: a JSON key or string in quotes inside a macro line: "name", "name": or "name"}
JSON_IN_MACRO = re.compile(r'^\.(?:B|I|BR|RB|BI|IB|IR|RI)\s.*"[a-z_]+"[,:}\]]')


@pytest.mark.parametrize("page", sorted(MAN.glob("*.[15]")), ids=lambda page: page.name)
def test_no_json_shape_in_a_macro_line_loses_its_quotes(page: Path) -> None:
    bad = [f"{page.name}:{number}: {line}" for number, line in enumerate(page.read_text().splitlines(), 1)
           if JSON_IN_MACRO.match(line)]
    assert bad == []


@pytest.mark.parametrize(("page", "shown"), [
    ("supv-start.1", '"process_name", "namespec", "sequence"'),
    ("supv-wait.1", '{"result": "ready"|"timeout"|"unreachable", "elapsed",'),
    ("supv-conflicts.1", '{"application_name", "process_name", "instances": [nicks]}'),
])
def test_json_shapes_are_printed_with_their_quotes(page: str, shown: str) -> None:
    text = (MAN / page).read_text().replace("\\(dq", '"')
    assert shown in text


def test_start_help_names_every_json_field_of_the_report() -> None:
    from tests.support.cli import run_supv

    help_text = " ".join(run_supv("start", "--help").stdout.split())
    assert ("{kind, result, processes: [{application_name, process_name, namespec, sequence, action, instance, "
            "outcome, required, elapsed, detail}]}") in help_text


def test_restart_synopsis_has_format() -> None:
    page = (MAN / "supv-restart.1").read_text()
    synopsis = page[page.index(".SH SYNOPSIS"):page.index(".SH", page.index(".SH SYNOPSIS") + 1)]
    assert "\\-\\-format" in synopsis
