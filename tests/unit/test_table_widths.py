"""Tables on a narrow terminal never split a name inside a word (issue 17, minor: at 80 columns the
``restart`` report and ``sstatus`` split names mid-word)."""

from __future__ import annotations

import re

import pytest

from supv_cli.cli.output import break_name, fit_widths, print_rich_table

NAMES = ["scen3_check_internal_data_bus", "scen3_common_bus_interface", "scen3_internal_data_bus"]


@pytest.mark.parametrize(("name", "width", "shown"), [
    ("scen3_srv", 20, "scen3_srv"),
    ("scen3_check_internal_data_bus", 20, "scen3_check_\ninternal_data_bus"),
    ("scen3_internal_data_bus", 20, "scen3_internal_data_\nbus"),
    ("scen3_hci_01:scen3_chart_view", 14, "scen3_hci_01:\nscen3_chart_\nview"),
    ("[green]RUNNING[/]", 3, "[green]RUNNING[/]"),                  # markup is not a name
    ("x", None, "x"),
])
def test_break_name(name: str, width: int | None, shown: str) -> None:
    assert break_name(name, width) == shown


@pytest.mark.parametrize(("natural", "floors", "room", "widths"), [
    ([10, 20], [5, 5], 40, [None, None]),                  # it fits: rich sizes it
    ([9, 29, 7, 30], [11, 9, 7, 12], 60, [9, 22, 7, 22]),  # the widest narrowed first, down to the floors
    ([9, 29, 7, 30], [11, 9, 7, 12], 30, [7, 8, 7, 8]),      # the floors do not fit: below them, widest first
])
def test_fit_widths(natural: list[int], floors: list[int], room: int, widths: list[int | None]) -> None:
    got = fit_widths(natural, floors, room)
    assert got == widths
    if widths[0] is not None:
        assert sum(w or 0 for w in got) <= room


def test_a_narrow_table_breaks_names_between_their_words(capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("NO_COLOR", "1")
    headers = ["Stage", "Application", "Program", "Action", "Instance", "Outcome", "Elapsed", "Detail"]
    print_rich_table(headers, [[0, "scen3_srv", name, "start", "server_1", "RUNNING", "0.1s", "RUNNING"]
                               for name in NAMES])
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert all(header in re.split("[┃ ]+", lines[1]) for header in headers)   # no header split either
    programs = [re.split("│", line)[3].strip() for line in lines if line.startswith("│")]
    # each name broken after one of its underscores only, whole once its lines are joined
    assert programs == ["scen3_check_", "internal_data_bus", "scen3_common_bus_", "interface",
                        "scen3_internal_data_", "bus"]
