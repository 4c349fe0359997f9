"""The one Terminal (cli/terminal.py): escaping, colour and format decided in one place (issue 17 item 7)."""

from __future__ import annotations

import io

import pytest

from supv_cli.cli.output import Table, View, render
from supv_cli.cli.terminal import Terminal, visible

HOSTILE = "web\x1b]0;title\x07\x1b[1A\x1b[2K\x9b2J\x7f"


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("text", "shown"), [
    ("plain", "plain"),
    ("tab\tand\nnewline", "tab\tand\nnewline"),                      # harmless: kept
    ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
    ("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "\\x1b]8;;http://x\\x1b\\link\\x1b]8;;\\x1b\\"),
    ("bell\x07 cr\r nul\x00 del\x7f csi\x9b", "bell\\x07 cr\\x0d nul\\x00 del\\x7f csi\\x9b"),
    ("é ü 漢", "é ü 漢"),
])
def test_visible(text: str, shown: str) -> None:
    assert visible(text) == shown


@pytest.mark.parametrize(("out_tty", "err_tty", "out", "err"), [
    (True, True, visible(HOSTILE), visible(HOSTILE)),
    (False, False, HOSTILE, HOSTILE),                                  # a pipe: the bytes as they are
    (False, True, HOSTILE, visible(HOSTILE)),
])
def test_out_and_err_follow_their_own_stream(out_tty: bool, err_tty: bool, out: str, err: str) -> None:
    terminal = Terminal(out_tty=out_tty, err_tty=err_tty)
    assert (terminal.out(HOSTILE), terminal.err(HOSTILE)) == (out, err)
    assert Terminal.cell(HOSTILE) == visible(HOSTILE)                  # a layout: always visible


@pytest.mark.parametrize(("env", "tty", "color", "columns", "fmt"), [
    ({}, True, True, None, "table"),
    ({"NO_COLOR": "1"}, True, False, None, "table"),
    ({"COLUMNS": "80"}, False, False, 80, "plain"),
    ({"COLUMNS": "x"}, True, True, None, "table"),
])
def test_detect(env: dict[str, str], tty: bool, color: bool, columns: int | None, fmt: str) -> None:
    stream = _Tty() if tty else io.StringIO()
    terminal = Terminal.detect(env, stream, stream)
    assert (terminal.out_tty, terminal.color, terminal.columns, terminal.default_format) == (tty, color, columns, fmt)


def test_no_color_console_writes_no_attribute() -> None:
    file = _Tty()
    console = Terminal(out_tty=True, no_color=True).console(file=file, force_terminal=True)
    console.print("[bold]b[/] [dim]d[/] [underline]u[/] [red]r[/]")
    assert "\x1b" not in file.getvalue()


@pytest.mark.parametrize(("fmt", "tty", "expected"), [
    ("plain", True, visible(HOSTILE)),
    ("plain", False, HOSTILE),
    ("table", False, visible(HOSTILE)),
    ("json", True, '"web\\u001b]0;title\\u0007\\u001b[1A\\u001b[2K\\u009b2J\\u007f"'),
])
def test_render_escapes_every_view_in_one_place(fmt: str, tty: bool, expected: str,
                                                capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    view = View(data=lambda: [HOSTILE], tables=lambda: [Table(["Name"], [[HOSTILE]])])
    render(view, fmt, Terminal(out_tty=tty, no_color=True))
    out = capsys.readouterr().out
    assert expected in out
    if fmt != "plain" or tty:
        assert "\x1b" not in out and "\x07" not in out
