"""``supv breed`` through click's CliRunner: options, verbose output, exit codes, files written."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from supv_cli.cli import cli
from supv_cli.cli.breed import attach_breed_words

GROUP = "[group:scen3_hci]\nprograms=scen3_chart_view,scen3_item_control,scen3_check_internal_data_bus\n"
PROGRAMS = "[program:scen3_chart_view]\ncommand=./bin/scen3/chart_view.sh\nautostart=false\n"
OTHER = "[group:other]\nprograms=a,b\n"
BRED = "[group:scen3_hci_0{n}]\nprograms = " + GROUP.split("=", 1)[1] + "\n"


def make_runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]  # click < 8.2
    except TypeError:
        return CliRunner()  # click >= 8.2 keeps stderr apart


@pytest.fixture
def scen3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scenario-3 like working folder (template_etc/console/...), made the current directory."""
    for relative, text in {"console/group_console.ini": GROUP, "console/programs_console.ini": PROGRAMS,
                           "other/other.ini": OTHER}.items():
        path = tmp_path / "template_etc" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def supv(*args: str) -> Result:
    return make_runner().invoke(cli, list(args), catch_exceptions=False)


def files_under(root: Path) -> dict[str, str]:
    return {str(path.relative_to(root)): path.read_text()
            for path in sorted(root.rglob("*")) if path.is_file()}


def assert_one_error_line(result: Result, text: str) -> None:
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [result.stderr.strip()]
    # located problems keep the compiler-like FILE:LINE: shape, the others are prefixed
    assert result.stderr.startswith("supv: error: ") or re.match(r"[^\s:][^:]*:\d+: ", result.stderr)
    assert text in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_scenario_3_verbose(scen3: Path) -> None:
    result = supv("breed", "-d", "etc", "-t", "template_etc", "-b", "scen3_hci=3", "-x", "-v")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines() == [
        "ArgumentParser: Namespace(template='template_etc', pattern='**/*.ini', destination='etc', "
        "breed={'scen3_hci': 3}, extra=True, verbose=True)",
        "Configuration files found:",
        "\tconsole/group_console.ini",
        "\tconsole/programs_console.ini",
        "\tother/other.ini",
        "Template group elements found:",
        "\tgroup:other",
        "\tgroup:scen3_hci",
        "New File: console/group_scen3_hci_01.ini",
        "New [group:scen3_hci_01]",
        "New File: console/group_scen3_hci_02.ini",
        "New [group:scen3_hci_02]",
        "New File: console/group_scen3_hci_03.ini",
        "New [group:scen3_hci_03]",
        "Empty sections for file: console/group_console.ini",
        "Writing file: etc/console/programs_console.ini",
        "Writing file: etc/other/other.ini",
        "Writing file: etc/console/group_scen3_hci_01.ini",
        "Writing file: etc/console/group_scen3_hci_02.ini",
        "Writing file: etc/console/group_scen3_hci_03.ini",
    ]
    # every planned file and nothing else: no temporary file left behind by the atomic writes
    assert files_under(scen3 / "etc") == {
        "console/programs_console.ini": "[program:scen3_chart_view]\ncommand = ./bin/scen3/chart_view.sh\n"
                                        "autostart = false\n\n",
        "other/other.ini": "[group:other]\nprograms = a,b\n\n",
        **{f"console/group_scen3_hci_0{n}.ini": BRED.format(n=n) for n in (1, 2, 3)},
    }


def test_quiet_run_prints_nothing(scen3: Path) -> None:
    result = supv("breed", "-t", "template_etc", "-d", "etc", "-b", "scen3_hci=2")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    assert files_under(scen3 / "etc")["console/group_console.ini"] == BRED.format(n=1) + BRED.format(n=2)


@pytest.mark.parametrize("args, expected", [
    # words after a -b value belong to it, as argparse's nargs='+'
    (["-b", "scen3_hci=3", "other=2", "-x", "-v"], {"scen3_hci": 3, "other": 2}),
    # repeated -b options add up (supvisors_breed kept the last one only)
    (["-b", "scen3_hci=1", "-v", "-b", "other=2"], {"scen3_hci": 1, "other": 2}),
    (["--breed", "other=1", "-b", "scen3_hci=2", "-v"], {"other": 1, "scen3_hci": 2}),
    (["--breed=other=1", "scen3_hci=2", "-v"], {"other": 1, "scen3_hci": 2}),
    # duplicate key: last count wins, first position kept
    (["-b", "scen3_hci=2", "other=1", "-b", "scen3_hci=3", "-v"], {"scen3_hci": 3, "other": 1}),
    # a stray APP=N word before any -b is accepted too
    (["other=2", "-v", "-b", "scen3_hci=1"], {"scen3_hci": 1, "other": 2}),
])
def test_breed_values(scen3: Path, args: list[str], expected: dict[str, int]) -> None:
    result = supv("breed", "-t", "template_etc", "-d", "etc", *args)
    assert result.exit_code == 0, result.stderr
    assert f"breed={expected!r}," in result.stdout.splitlines()[0]
    written = files_under(scen3 / "etc")
    groups = [line for text in written.values() for line in text.splitlines() if line.startswith("[group:")]
    assert sorted(groups) == sorted(f"[group:{key}_{n:02d}]" for key, count in expected.items()
                                    for n in range(1, count + 1))


@pytest.mark.parametrize("args, expected", [
    (["-b", "a=1", "b=2", "-x"], ["-b", "a=1", "-b", "b=2", "-x"]),
    (["-b", "a=1", "b=2", "-b", "c=3", "d=4"], ["-b", "a=1", "-b", "b=2", "-b", "c=3", "-b", "d=4"]),
    (["--breed", "a=1", "b=2"], ["--breed", "a=1", "-b", "b=2"]),
    (["--breed=a=1", "b=2", "-v"], ["--breed=a=1", "-b", "b=2", "-v"]),
    (["-ba=1", "b=2"], ["-ba=1", "-b", "b=2"]),
    (["-b", "a=1", "--", "b=2"], ["-b", "a=1", "--", "b=2"]),
    (["-t", "t", "a=1", "-b", "-x"], ["-t", "t", "a=1", "-b", "-x"]),   # -x is the value of -b here
    (["-d", "d", "-t", "t"], ["-d", "d", "-t", "t"]),
])
def test_attach_breed_words(args: list[str], expected: list[str]) -> None:
    assert attach_breed_words(args) == expected


@pytest.mark.parametrize("value, text", [
    ("scen3_hci", "invalid -b value 'scen3_hci': the format is APP=N"),
    ("scen3_hci=0", "strictly positive"),
    ("scen3_hci=-1", "strictly positive"),
    ("scen3_hci=x", "must be an integer"),
    ("a=1=2", "exactly one '='"),
    ("=2", "the group name before '=' is empty"),
])
def test_bad_breed_value(scen3: Path, value: str, text: str) -> None:
    result = supv("breed", "-t", "template_etc", "-d", "etc", "-b", value, "-v")
    assert_one_error_line(result, text)
    assert result.stdout == ""
    assert not (scen3 / "etc").exists()


def test_unknown_group(scen3: Path) -> None:
    result = supv("breed", "-t", "template_etc", "-d", "etc", "-b", "scen3_hci=2", "nope=3")
    assert_one_error_line(result, "unknown group 'nope' (-b nope=3)")
    assert result.stderr.rstrip().endswith("groups found: other, scen3_hci")
    assert not (scen3 / "etc").exists()


def test_missing_template_folder(scen3: Path) -> None:
    result = supv("breed", "-t", "nope", "-d", "etc", "-b", "scen3_hci=2")
    assert_one_error_line(result, "template folder 'nope' does not exist")


def test_group_without_programs(scen3: Path) -> None:
    (scen3 / "template_etc" / "other" / "other.ini").write_text("[program:a]\ncommand=a\n\n[group:other]\n")
    result = supv("breed", "-t", "template_etc", "-d", "etc", "-b", "other=2")
    assert_one_error_line(result, f"{os.path.join('template_etc', 'other', 'other.ini')}:4: template group "
                                  "[group:other] has no 'programs' option")


def test_invalid_template_file(scen3: Path) -> None:
    (scen3 / "template_etc" / "bad.ini").write_text("[a]\nx=1\n[a]\n")
    result = supv("breed", "-t", "template_etc", "-d", "etc", "-b", "other=2")
    assert_one_error_line(result, "template_etc/bad.ini:3: section [a] appears twice")


@pytest.mark.parametrize("args", [
    ["-t", "template_etc", "-d", "etc"],              # no -b at all
    ["-t", "template_etc", "-b", "other=1"],           # no destination
    ["-d", "etc", "-b", "other=1"],                    # no template
    ["-t", "template_etc", "-d", "etc", "-b"],         # -b without value
    ["-t", "template_etc", "-d", "etc", "-b", "other=1", "--bogus"],
])
def test_usage_errors(scen3: Path, args: list[str]) -> None:
    result = supv("breed", *args)
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    assert "Error:" in result.stderr
    assert not (scen3 / "etc").exists()


def test_write_failure_exit_code(scen3: Path) -> None:
    (scen3 / "etc").write_text("a file where the destination folder should be")
    result = supv("breed", "-t", "template_etc", "-d", "etc", "-b", "other=1")
    assert result.exit_code == 1
    assert result.stderr.startswith("supv: error: etc/")
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("verbose", [False, True])
def test_no_configuration_files(scen3: Path, verbose: bool) -> None:
    args = ["breed", "-t", "template_etc", "-d", "etc", "-p", "*.conf", "-b", "nope=2"]
    result = supv(*args, *(["-v"] if verbose else []))
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    if verbose:
        assert lines[0].startswith("ArgumentParser: Namespace(template='template_etc', pattern='*.conf',")
        assert lines[1:] == ["Configuration files found:", "\t", "Template group elements found:", "\t",
                             "No configuration files found"]
    else:
        assert lines == ["No configuration files found"]
    assert not (scen3 / "etc").exists()


def test_dry_run(scen3: Path) -> None:
    result = supv("breed", "-t", "template_etc", "-d", "etc", "-b", "scen3_hci=2", "-x", "--dry-run")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "etc/console/programs_console.ini", "etc/other/other.ini",
        "etc/console/group_scen3_hci_01.ini", "etc/console/group_scen3_hci_02.ini",
    ]
    assert "nothing written" in result.stderr
    assert not (scen3 / "etc").exists()


def test_dry_run_verbose_shows_the_same_lines(scen3: Path) -> None:
    args = ["breed", "-t", "template_etc", "-d", "etc", "-b", "scen3_hci=2", "-x", "-v"]
    dry = supv(*args, "--dry-run")
    assert dry.exit_code == 0
    assert not (scen3 / "etc").exists()
    real = supv(*args)
    dry_lines, real_lines = dry.stdout.splitlines(), real.stdout.splitlines()
    assert dry_lines[0] == real_lines[0][:-1] + ", dry_run=True)"
    assert dry_lines[1:] == real_lines[1:]


def test_rerun_overwrites_in_place(scen3: Path) -> None:
    args = ["breed", "-t", "template_etc", "-d", "etc", "-b", "scen3_hci=2", "-x"]
    assert supv(*args).exit_code == 0
    first = files_under(scen3 / "etc")
    assert supv(*args).exit_code == 0
    assert files_under(scen3 / "etc") == first


def test_help() -> None:
    result = supv("breed", "--help")
    assert result.exit_code == 0
    for text in ("-t, --template", "-p, --pattern", "-d, --destination", "-b, --breed", "-x, --extra",
                 "-v, --verbose", "--dry-run", "Examples:",
                 "supv breed -t template_etc -d etc -b scen3_hci=3 -x -v"):
        assert text in result.stdout
    assert re.search(r"breed +Duplicate template groups", supv("--help").stdout)
