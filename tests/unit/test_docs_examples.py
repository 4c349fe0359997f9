"""The documentation says what the shipped files and the commands do (issue 9, item 12)."""

from __future__ import annotations

import configparser
import json
import re
from pathlib import Path

import pytest

from supv_cli.cluster.settings import read_config_file
from tests.support.cli import run_supv

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "use_cases" / "scenario_3"
# README, docs/, man pages and the help epilogs of the commands: where users copy examples from
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "man").glob("*.[157]")),
             *sorted((ROOT / "supv_cli" / "cli").glob("*.py"))]
# ``-c etc/FILE`` (man pages escape the dash: ``\-c``)
CONFIG_EXAMPLE_RE = re.compile(r"\\?-c (etc/[\w./-]+)")


def config_examples() -> list[tuple[str, str]]:
    found = []
    for document in DOCUMENTS:
        text = document.read_text()
        for match in CONFIG_EXAMPLE_RE.finditer(text):
            if text[:match.start()].endswith(("supervisord ", "supervisord.supervisord ")):
                continue  # supervisord's own -c: its configuration, not a supv example
            found.append((document.relative_to(ROOT).as_posix(), match.group(1)))
    return sorted(set(found))


def test_there_are_config_examples_to_check() -> None:
    assert len(config_examples()) >= 5


@pytest.mark.parametrize(("document", "config"), config_examples())
def test_every_config_example_works_with_the_scenario_3_files(document: str, config: str) -> None:
    """``-c etc/X`` is run in use_cases/scenario_3: X must be a file supv reads, giving instances."""
    settings = read_config_file(str(SCENARIO / config))
    assert settings.instances, f"{document}: -c {config} gives no instance"


def program_options(*inis: Path) -> dict[str, str]:
    """program name -> its autorestart, for the scen3_srv and HCI programs."""
    values = {}
    for ini in inis:
        parser = configparser.RawConfigParser(inline_comment_prefixes=(";",))
        parser.read(ini)
        for section in parser.sections():
            if section.startswith("program:scen3_"):
                values[section.split(":", 1)[1]] = parser.get(section, "autorestart", fallback="unexpected")
    return values


def test_scenario_3_readme_says_the_autorestart_of_the_files() -> None:
    values = program_options(SCENARIO / "etc" / "server" / "group_server.ini",
                             SCENARIO / "template_etc" / "console" / "programs_console.ini")
    readme = (SCENARIO / "README.md").read_text()
    for program, value in values.items():
        expected = "false" if program.startswith("scen3_check_") else "unexpected"
        assert value == expected, program
    assert set(values.values()) == {"false", "unexpected"}
    for value in values.values():
        assert f"autorestart={value}" in readme
    # the README once said that every program is autorestart=false
    assert "`autostart=false` and `autorestart=false`" not in readme
    assert "`autorestart=false` leaves it to supv" not in readme


def test_rules_check_json_is_one_list_as_its_help_says(tmp_path: Path) -> None:
    rules = tmp_path / "rules.xml"
    rules.write_text("<root/>")
    result = run_supv("rules", "check", "--json", str(rules))
    assert result.exit_code == 0
    assert [report["file"] for report in json.loads(result.stdout)] == [str(rules)]
    help_text = " ".join(run_supv("rules", "check", "--help").stdout.split())
    assert "one JSON list on stdout, one object per FILE" in help_text


#: the pages with a -c paragraph of their own: hand-written roff, or the OPTIONS entry the generator
#: makes from the click option (python -m supv_cli.cli.manpage)
C_PARAGRAPHS = ('.BI \\-c " FILE', "\\fB\\-c\\fR \\fIFILE\\fR")
PAGES_WITH_C = [page.name for page in sorted((ROOT / "man").glob("supv*.1"))
                if any(form in page.read_text() for form in C_PARAGRAPHS)]


def test_the_main_page_and_the_status_pages_have_a_c_paragraph() -> None:
    assert {"supv.1", "supv-application-info.1", "supv-sstatus.1"} <= set(PAGES_WITH_C)


@pytest.mark.parametrize("page", PAGES_WITH_C)
def test_man_pages_describe_c_as_an_inventory_or_a_supervisord_conf(page: str) -> None:
    text = (ROOT / "man" / page).read_text()
    start = max(text.find(form) for form in C_PARAGRAPHS)
    paragraph = text[start:text.find(".TP", start)]
    assert "inventory" in paragraph and "supervisord.conf" in paragraph
