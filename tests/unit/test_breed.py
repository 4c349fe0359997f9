"""Unit tests of the breed core (supv_cli.breed): parsing, naming, format, plan and atomic writes."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Callable

import pytest

from supv_cli.breed import (
    BreedOutput,
    arguments_line,
    bred_section_name,
    extra_file_path,
    find_template_files,
    parse_breed_items,
    plan_breed,
    section_line,
    write_file_atomically,
    write_plan,
)
from supv_cli.errors import ExitCode, SupvError, TemplateError

SCEN3_LIST = "scen3_chart_view,scen3_item_control,scen3_check_internal_data_bus"
SCEN3_GROUP = f"[group:scen3_hci]\nprograms={SCEN3_LIST}\n"
SCEN3_PROGRAMS = """\
[program:scen3_chart_view]
command=./bin/scen3/chart_view.sh
autostart=false
killasgroup=true
stopasgroup=true
redirect_stderr=true
stdout_logfile=log/%(group_name)s_%(program_name)s.log
stdout_logfile_backups=5

[program:scen3_check_internal_data_bus]
command=./bin/scen3/check_internal_data_bus.sh
autostart=false
startsecs=0
"""
SCEN3_PROGRAMS_OUT = """\
[program:scen3_chart_view]
command = ./bin/scen3/chart_view.sh
autostart = false
killasgroup = true
stopasgroup = true
redirect_stderr = true
stdout_logfile = log/%(group_name)s_%(program_name)s.log
stdout_logfile_backups = 5

[program:scen3_check_internal_data_bus]
command = ./bin/scen3/check_internal_data_bus.sh
autostart = false
startsecs = 0

"""


def make_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Create ``files`` (relative path -> text or bytes) under ``root``; return ``root``."""
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def outputs(plan_files: tuple[BreedOutput, ...]) -> dict[str, str | None]:
    return {output.path: output.content for output in plan_files}


# --- app=N parsing -------------------------------------------------------------------------------

@pytest.mark.parametrize("items, expected", [
    (["app=1"], {"app": 1}),
    (["scen3_hci=3", "other=2"], {"scen3_hci": 3, "other": 2}),
    (["b=2", "a=1"], {"b": 2, "a": 1}),
    (["a=2", "b=1", "a=5"], {"a": 5, "b": 1}),   # duplicate key: first position, last count
    (["a=007"], {"a": 7}),
    (["a=+4"], {"a": 4}),
    (["a=100"], {"a": 100}),
    (["group:x=2"], {"group:x": 2}),            # not an error here: an unknown group later
    ([], {}),
])
def test_parse_breed_items(items: list[str], expected: dict[str, int]) -> None:
    result = parse_breed_items(items)
    assert result == expected
    assert list(result) == list(expected)


@pytest.mark.parametrize("item, message", [
    ("app", "the format is APP=N"),
    ("", "the format is APP=N"),
    ("a=1=2", "exactly one '='"),
    ("=3", "the group name before '=' is empty"),
    ("=", "the group name before '=' is empty"),
    ("app=0", "strictly positive"),
    ("app=-1", "strictly positive"),
    ("app=x", "must be an integer"),
    ("app=", "must be an integer"),
    ("app=1.5", "must be an integer"),
    ("app= 3", "must be an integer"),
    ("app=\u00b2", "must be an integer"),        # '²'.isdigit() is True, int() refuses it
])
def test_parse_breed_items_errors(item: str, message: str) -> None:
    with pytest.raises(TemplateError) as raised:
        parse_breed_items(["ok=1", item])
    assert message in str(raised.value)
    assert repr(item) in str(raised.value)
    assert raised.value.exit_code == ExitCode.USAGE


def test_parse_breed_items_adds_up() -> None:
    first = parse_breed_items(["a=2", "b=1"])
    assert parse_breed_items(["c=3", "a=4"], into=first) == {"a": 4, "b": 1, "c": 3}
    assert first == {"a": 2, "b": 1}


# --- naming --------------------------------------------------------------------------------------

@pytest.mark.parametrize("index, expected", [
    (1, "group:app_01"), (9, "group:app_09"), (10, "group:app_10"), (99, "group:app_99"),
    (100, "group:app_100"), (1000, "group:app_1000"),
])
def test_bred_section_name(index: int, expected: str) -> None:
    assert bred_section_name("app", index) == expected


@pytest.mark.parametrize("template_file, section, expected", [
    ("console/group_console.ini", "group:scen3_hci_01", "console/group_scen3_hci_01.ini"),
    ("a/b/c.conf", "group:x_100", "a/b/group_x_100.ini"),
    ("top.ini", "group:x_02", "group_x_02.ini"),
])
def test_extra_file_path(template_file: str, section: str, expected: str) -> None:
    assert extra_file_path(template_file, section) == expected


@pytest.mark.parametrize("count, last", [(9, "_09"), (10, "_10"), (100, "_100")])
def test_group_names_for_counts(tmp_path: Path, count: int, last: str) -> None:
    make_tree(tmp_path / "t", {"g.ini": "[group:g]\nprograms = p\n"})
    plan = plan_breed(str(tmp_path / "t"), {"g": count}, "etc")
    content = outputs(plan.outputs)["g.ini"]
    assert content is not None
    headers = [line for line in content.splitlines() if line.startswith("[")]
    assert len(headers) == count
    assert headers[0] == "[group:g_01]"
    assert headers[-1] == f"[group:g{last}]"
    if count >= 10:
        assert headers[8:10] == ["[group:g_09]", "[group:g_10]"]


def test_arguments_line() -> None:
    assert arguments_line("template_etc", "**/*.ini", "etc", {"scen3_hci": 3}, True, True) == (
        "ArgumentParser: Namespace(template='template_etc', pattern='**/*.ini', destination='etc', "
        "breed={'scen3_hci': 3}, extra=True, verbose=True)")
    assert arguments_line("t", "p", "d", {}, False, True, dry_run=True).endswith(
        "extra=False, verbose=True, dry_run=True)")


# --- format (configparser output, byte for byte as supvisors_breed) ------------------------------

@pytest.mark.parametrize("template, expected", [
    # key = value, blank line after every section
    ("[program:p]\ncommand=run\n", "[program:p]\ncommand = run\n\n"),
    # option names lower-cased, values keep their case
    ("[program:p]\nCommand=Run\nSTDOUT_LOGFILE=A.log\n",
     "[program:p]\ncommand = Run\nstdout_logfile = A.log\n\n"),
    # empty value: trailing space
    ("[program:p]\nenvironment=\n", "[program:p]\nenvironment = \n\n"),
    # %(...)s kept verbatim (no interpolation)
    ("[program:p]\nlog=%(group_name)s_%(program_name)s.log\n",
     "[program:p]\nlog = %(group_name)s_%(program_name)s.log\n\n"),
    # full-line comments dropped (also inside a multi-line value), inline text kept
    ("# head\n[program:p]\n; c\ncommand=run ; not a comment\n# c2\n",
     "[program:p]\ncommand = run ; not a comment\n\n"),
    # multi-line value: continuation lines with a TAB; a blank line inside is a lone TAB
    ("[program:p]\nenv=A=1,\n  B=2\n\n  C=3\n  # gone\n  D=4\n",
     "[program:p]\nenv = A=1,\n\tB=2\n\t\n\tC=3\n\tD=4\n\n"),
    # [DEFAULT] first, wherever it is in the template
    ("[program:p]\na=1\n[DEFAULT]\nb=2\n", "[DEFAULT]\nb = 2\n\n[program:p]\na = 1\n\n"),
    # blank-line layout dropped
    ("\n\n[a]\n\n\nx=1\n\n\n[b]\ny:2\n", "[a]\nx = 1\n\n[b]\ny = 2\n\n"),
])
def test_format(tmp_path: Path, template: str, expected: str) -> None:
    make_tree(tmp_path / "t", {"f.ini": template, "g.ini": "[group:g]\nprograms=p\n"})
    plan = plan_breed(str(tmp_path / "t"), {"g": 1}, "etc")
    assert outputs(plan.outputs)["f.ini"] == expected


@pytest.mark.parametrize("template", ["", "# only a comment\n", "\n\n", "[DEFAULT]\nk = v\n"])
def test_files_without_section_are_not_written(tmp_path: Path, template: str) -> None:
    make_tree(tmp_path / "t", {"empty.ini": template, "g.ini": "[group:g]\nprograms=p\n"})
    plan = plan_breed(str(tmp_path / "t"), {"g": 1}, "etc")
    assert outputs(plan.outputs)["empty.ini"] is None
    assert "Empty sections for file: empty.ini" in plan.verbose_lines()
    assert [output.path for output in plan.files] == ["g.ini"]


# --- breeding ------------------------------------------------------------------------------------

def scen3(tmp_path: Path) -> Path:
    return make_tree(tmp_path / "template_etc", {"console/group_console.ini": SCEN3_GROUP,
                                                  "console/programs_console.ini": SCEN3_PROGRAMS})


def test_scenario_3_extra(tmp_path: Path) -> None:
    template = scen3(tmp_path)
    plan = plan_breed(str(template), {"scen3_hci": 3}, "etc", extra=True)
    assert outputs(plan.outputs) == {
        "console/group_console.ini": None,
        "console/programs_console.ini": SCEN3_PROGRAMS_OUT,
        **{f"console/group_scen3_hci_0{n}.ini":
           f"[group:scen3_hci_0{n}]\nprograms = {SCEN3_LIST}\n\n"
           for n in (1, 2, 3)},
    }
    assert outputs(plan.outputs)["console/group_scen3_hci_01.ini"] == (
        "[group:scen3_hci_01]\n"
        "programs = scen3_chart_view,scen3_item_control,scen3_check_internal_data_bus\n"
        "\n")
    assert plan.verbose_lines() == [
        "Configuration files found:",
        "\tconsole/group_console.ini",
        "\tconsole/programs_console.ini",
        "Template group elements found:",
        "\tgroup:scen3_hci",
        "New File: console/group_scen3_hci_01.ini",
        "New [group:scen3_hci_01]",
        "New File: console/group_scen3_hci_02.ini",
        "New [group:scen3_hci_02]",
        "New File: console/group_scen3_hci_03.ini",
        "New [group:scen3_hci_03]",
        "Empty sections for file: console/group_console.ini",
        "Writing file: etc/console/programs_console.ini",
        "Writing file: etc/console/group_scen3_hci_01.ini",
        "Writing file: etc/console/group_scen3_hci_02.ini",
        "Writing file: etc/console/group_scen3_hci_03.ini",
    ]


def test_scenario_3_without_extra(tmp_path: Path) -> None:
    template = scen3(tmp_path)
    plan = plan_breed(str(template), {"scen3_hci": 3}, "etc")
    programs = "programs = scen3_chart_view,scen3_item_control,scen3_check_internal_data_bus\n"
    assert outputs(plan.outputs) == {
        "console/group_console.ini": "".join(f"[group:scen3_hci_0{n}]\n{programs}\n" for n in (1, 2, 3)),
        "console/programs_console.ini": SCEN3_PROGRAMS_OUT,
    }
    assert not any(line.startswith("New File:") for line in plan.verbose_lines())
    assert "Writing file: etc/console/group_console.ini" in plan.verbose_lines()


def test_group_copy_keeps_only_raw_programs(tmp_path: Path) -> None:
    template = make_tree(tmp_path / "t", {"g.ini": (
        "[program:p]\ncommand=p\n[group:g]\npriority=5\nprograms = p1 ,p2,\n  p3\n[program:q]\ncommand=q\n")})
    plan = plan_breed(str(template), {"g": 2}, "etc")
    assert outputs(plan.outputs)["g.ini"] == (
        "[program:p]\ncommand = p\n\n[program:q]\ncommand = q\n\n"
        "[group:g_01]\nprograms = p1 ,p2,\n\tp3\n\n[group:g_02]\nprograms = p1 ,p2,\n\tp3\n\n")


def test_programs_from_default_section(tmp_path: Path) -> None:
    # configparser semantics, as supvisors_breed: a missing option falls back on [DEFAULT]
    template = make_tree(tmp_path / "t", {"g.ini": "[DEFAULT]\nprograms=d\n[group:g]\n"})
    plan = plan_breed(str(template), {"g": 1}, "etc", extra=True)
    assert outputs(plan.outputs) == {"g.ini": None,  # only [DEFAULT] left: not written
                                     "group_g_01.ini": "[group:g_01]\nprograms = d\n\n"}


def test_dot_files_and_sorted_order(tmp_path: Path) -> None:
    template = make_tree(tmp_path / "t", {
        "z.ini": "[group:z]\nprograms=z\n", ".hidden.ini": "[group:h]\nprograms=h\n",
        "a-b/x.ini": "[program:x]\ncommand=x\n", "a/y.ini": "[group:a]\nprograms=y\n",
        "a/sub/.dot/w.ini": "[program:w]\ncommand=w\n", "readme.txt": "[group:t]\nprograms=t\n",
        "dir.ini/inner.ini": "[program:i]\ncommand=i\n",
    })
    plan = plan_breed(str(template), {"z": 1, "h": 1}, "out")
    assert plan.files_found == (".hidden.ini", "a/sub/.dot/w.ini", "a/y.ini", "a-b/x.ini",
                                "dir.ini/inner.ini", "z.ini")
    assert plan.groups_found == ("group:a", "group:h", "group:z")
    assert outputs(plan.outputs)[".hidden.ini"] == "[group:h_01]\nprograms = h\n\n"
    assert [output.path for output in plan.outputs] == list(plan.files_found)


@pytest.mark.parametrize("pattern, expected", [
    ("**/*.ini", ["a/g.ini", "a/b/deep.ini", "top.ini"]),
    ("*.ini", ["top.ini"]),
    ("*/*.ini", ["a/g.ini"]),
    ("*/*.conf", ["a/c.conf"]),
    ("**/*.conf", ["a/c.conf", "a/b/deep.conf"]),
    ("**/nothing", []),
])
def test_find_template_files(tmp_path: Path, pattern: str, expected: list[str]) -> None:
    make_tree(tmp_path, {name: "" for name in
                         ("top.ini", "a/g.ini", "a/c.conf", "a/b/deep.ini", "a/b/deep.conf")})
    assert find_template_files(str(tmp_path), pattern) == sorted(expected, key=lambda p: Path(p).parts)


def test_only_the_named_groups_are_bred(tmp_path: Path) -> None:
    template = make_tree(tmp_path / "t", {"a.ini": "[group:a]\nprograms=x\n[group:b]\nprograms=y\n"})
    plan = plan_breed(str(template), {"b": 1}, "etc")
    assert outputs(plan.outputs) == {"a.ini": "[group:a]\nprograms = x\n\n[group:b_01]\nprograms = y\n\n"}


def test_same_group_in_two_files_last_sorted_file_wins(tmp_path: Path) -> None:
    template = make_tree(tmp_path / "t", {"1.ini": "[group:g]\nprograms=one\n",
                                          "2.ini": "[group:g]\nprograms=two\n"})
    plan = plan_breed(str(template), {"g": 1}, "etc")
    assert outputs(plan.outputs) == {"1.ini": "[group:g]\nprograms = one\n\n",
                                     "2.ini": "[group:g_01]\nprograms = two\n\n"}


def test_group_created_with_extra_can_be_bred_again(tmp_path: Path) -> None:
    # supvisors_breed registers the groups it creates with -x; a later app=N finds them
    template = make_tree(tmp_path / "t", {"g.ini": "[group:a]\nprograms=p\n"})
    plan = plan_breed(str(template), {"a": 2, "a_01": 1}, "etc", extra=True)
    assert outputs(plan.outputs) == {"g.ini": None, "group_a_01.ini": None,
                                     "group_a_02.ini": "[group:a_02]\nprograms = p\n\n",
                                     "group_a_01_01.ini": "[group:a_01_01]\nprograms = p\n\n"}


def test_no_file_found(tmp_path: Path) -> None:
    template = make_tree(tmp_path / "t", {"g.txt": "[group:g]\nprograms=p\n"})
    plan = plan_breed(str(template), {"unknown": 2}, "etc")
    assert plan.files_found == () and plan.outputs == ()
    assert plan.verbose_lines() == ["Configuration files found:", "\t",
                                    "Template group elements found:", "\t"]


def test_plan_writes_nothing(tmp_path: Path) -> None:
    template = scen3(tmp_path)
    before = sorted(str(path) for path in tmp_path.rglob("*"))
    plan_breed(str(template), {"scen3_hci": 3}, str(tmp_path / "etc"), extra=True)
    assert sorted(str(path) for path in tmp_path.rglob("*")) == before


# --- errors --------------------------------------------------------------------------------------

def test_unknown_group(tmp_path: Path) -> None:
    template = make_tree(tmp_path / "t", {"a.ini": "[group:b]\nprograms=x\n[group:a]\nprograms=y\n"})
    with pytest.raises(TemplateError) as raised:
        plan_breed(str(template), {"a": 1, "nope": 2}, "etc")
    message = str(raised.value)
    assert "unknown group 'nope'" in message and "-b nope=2" in message
    assert message.endswith("groups found: a, b")


def test_unknown_group_without_any_group(tmp_path: Path) -> None:
    template = make_tree(tmp_path / "t", {"a.ini": "[program:x]\ncommand=x\n"})
    with pytest.raises(TemplateError, match="groups found: none$"):
        plan_breed(str(template), {"x": 1}, "etc")


def test_group_without_programs(tmp_path: Path) -> None:
    text = "# c\n[program:x]\ncommand=x\n\n[group:g]\npriority=1\n"
    template = make_tree(tmp_path / "t", {"sub/a.ini": text})
    with pytest.raises(TemplateError) as raised:
        plan_breed(str(template), {"g": 1}, "etc")
    assert raised.value.location == f"{template / 'sub' / 'a.ini'}:5"
    assert "[group:g] has no 'programs' option" in str(raised.value)


@pytest.mark.parametrize("text, line, message", [
    ("command=x\n", 1, "line outside any section: 'command=x'"),
    ("[a]\nx=1\n\n[a]\n", 4, "section [a] appears twice"),
    ("[a]\nx=1\nX=2\n", 3, "option 'x' appears twice in section [a]"),
    ("[a]\nx=1\nnot an option\n", 3, "cannot parse line 'not an option\\n'"),
    ("[a]\nbad\nbad too\n", 2, "(and 1 more)"),
])
def test_template_parse_errors(tmp_path: Path, text: str, line: int, message: str) -> None:
    template = make_tree(tmp_path / "t", {"bad.ini": text, "g.ini": "[group:g]\nprograms=p\n"})
    with pytest.raises(TemplateError) as raised:
        plan_breed(str(template), {"g": 1}, "etc")
    assert raised.value.location == f"{template / 'bad.ini'}:{line}"
    assert message in raised.value.message
    assert "\n" not in str(raised.value)


def test_template_not_utf8(tmp_path: Path) -> None:
    template = make_tree(tmp_path / "t", {"bad.ini": b"[a]\nx=\xff\n"})
    with pytest.raises(TemplateError, match=r"not UTF-8 text \(byte offset 6\)"):
        plan_breed(str(template), {"a": 1}, "etc")


@pytest.mark.parametrize("make, message", [
    (lambda root: root / "missing", "does not exist"),
    (lambda root: make_tree(root, {"file": ""}) / "file", "is not a folder"),
])
def test_template_folder_errors(tmp_path: Path, make: Callable[[Path], Path], message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        plan_breed(str(make(tmp_path)), {"g": 1}, "etc")


@pytest.mark.parametrize("pattern", ["", "/abs/*.ini", "../*.ini", "a/../../*.ini"])
def test_invalid_pattern(tmp_path: Path, pattern: str) -> None:
    with pytest.raises(TemplateError, match="invalid pattern"):
        plan_breed(str(tmp_path), {"g": 1}, "etc", pattern=pattern)


def test_extra_file_colliding_with_a_template_file(tmp_path: Path) -> None:
    template = make_tree(tmp_path / "t", {"g.ini": "[group:g]\nprograms=p\n",
                                          "group_g_01.ini": "[program:p]\n"})
    with pytest.raises(TemplateError, match="-x would create 'group_g_01.ini'"):
        plan_breed(str(template), {"g": 1}, "etc", extra=True)


def test_section_line() -> None:
    text = "# [group:g]\n[program:p]\n  [group:g]  \n[group:g]\n"
    assert section_line(text, "group:g") == 3
    assert section_line(text, "group:none") is None


# --- writing -------------------------------------------------------------------------------------

def tree_of(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes()
            for path in sorted(root.rglob("*")) if path.is_file()}


def test_write_plan(tmp_path: Path) -> None:
    template = scen3(tmp_path)
    destination = tmp_path / "etc"
    plan = plan_breed(str(template), {"scen3_hci": 2}, str(destination), extra=True)
    lines: list[str] = []
    written = write_plan(plan, report=lines.append)
    assert written == [str(destination / name) for name in
                       ("console/programs_console.ini", "console/group_scen3_hci_01.ini",
                        "console/group_scen3_hci_02.ini")]
    assert lines == plan.verbose_lines()[-4:]
    # exactly the planned files, byte for byte, and no temporary file left behind
    assert tree_of(destination) == {output.path: output.content.encode() for output in plan.files
                                    if output.content is not None}


def test_write_replaces_and_keeps_stale_files(tmp_path: Path) -> None:
    template = make_tree(tmp_path / "t", {"g.ini": "[group:g]\nprograms=p\n"})
    destination = make_tree(tmp_path / "etc", {"g.ini": "old content, longer than the new one\n" * 10,
                                               "stale.ini": "[x]\n"})
    os.chmod(destination / "g.ini", 0o640)
    write_plan(plan_breed(str(template), {"g": 1}, str(destination)))
    assert tree_of(destination) == {"g.ini": b"[group:g_01]\nprograms = p\n\n", "stale.ini": b"[x]\n"}
    assert stat.S_IMODE(os.stat(destination / "g.ini").st_mode) == 0o640


def test_new_file_mode_follows_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        write_file_atomically(str(tmp_path / "a" / "b.ini"), "x\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "a" / "b.ini").st_mode) == 0o640


def test_atomic_write_failure_leaves_no_temporary_file(tmp_path: Path) -> None:
    (tmp_path / "target.ini").mkdir()    # os.replace cannot put a file over a folder
    with pytest.raises(OSError):
        write_file_atomically(str(tmp_path / "target.ini"), "x\n")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["target.ini"]
    assert list((tmp_path / "target.ini").iterdir()) == []


def test_write_plan_error(tmp_path: Path) -> None:
    template = make_tree(tmp_path / "t", {"sub/g.ini": "[group:g]\nprograms=p\n"})
    destination = make_tree(tmp_path, {"etc": "a file, not a folder"}) / "etc"
    plan = plan_breed(str(template), {"g": 1}, str(destination))
    with pytest.raises(SupvError) as raised:
        write_plan(plan)
    assert raised.value.exit_code == ExitCode.FAILED
    assert raised.value.location == str(destination / "sub" / "g.ini")
    assert "cannot write the file" in str(raised.value)
