"""cli.md "Precedence": command line over environment over default files, a ``-c`` on the command line
counting as the command line, the specific option over the file at the same level, and one warning line
per pair of sources naming both (issue 9, item 3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from supv_cli.cluster.settings import ClusterOptions, resolve_settings

CL, ENV = "command line", "environment"
SECRET_FILE = "pw-file-9dQ2"
SECRET_OPTION = "pw-opt-Zt41"

INVENTORY = f"""\
[supv]
rules_files = file_rules.xml
timeout = 7
password = {SECRET_FILE}

[instance:from_file]
serverurl = http://127.0.2.1:61001
"""
BARE_INVENTORY = "[instance:from_file]\nserverurl = http://127.0.2.1:61001\n"


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("file_rules.xml", "option_rules.xml"):
        (tmp_path / name).write_text("<root/>")
    (tmp_path / "inv.conf").write_text(INVENTORY)
    (tmp_path / "inv.conf").chmod(0o600)  # a literal password: else a warning says it is readable by others
    (tmp_path / "bare.conf").write_text(BARE_INVENTORY)
    return tmp_path


def options(work: Path, config: str | None = "inv.conf", config_from: str = CL, **given: tuple[object, str]
            ) -> ClusterOptions:
    """``given``: option name -> (value, origin)."""
    values = {name: value for name, (value, _) in given.items()}
    origins = {name: origin for name, (_, origin) in given.items()}
    if config:
        values["config"] = str(work / config)
        origins["config"] = config_from
    return ClusterOptions(origins=origins, **values)  # type: ignore[arg-type]


def nicks(settings) -> list[str]:
    return [instance.nick for instance in settings.instances]


INSTANCES_CASES = [
    # (-c origin, -i origin, winner, the warning)
    (CL, ENV, "from_file", "instances: -c {conf} (command line) overrides SUPV_INSTANCES (environment)"),
    (CL, CL, "from_option", "instances: -i (command line) overrides -c {conf} (command line)"),
    (ENV, ENV, "from_option", "instances: SUPV_INSTANCES (environment) overrides SUPV_CONFIG={conf} (environment)"),
    (ENV, CL, "from_option", "instances: -i (command line) overrides SUPV_CONFIG={conf} (environment)"),
]


@pytest.mark.parametrize(("config_from", "instances_from", "winner", "warning"), INSTANCES_CASES)
def test_instances(work: Path, config_from: str, instances_from: str, winner: str, warning: str) -> None:
    settings = resolve_settings(options(work, config_from=config_from,
                                        instances=(("<from_option>127.0.2.2:61002",), instances_from)))
    assert nicks(settings) == [winner]
    assert warning.format(conf=work / "inv.conf") in settings.warnings


def test_a_file_on_the_command_line_beats_every_exported_variable_in_one_line(work: Path) -> None:
    settings = resolve_settings(options(work, instances=(("127.0.2.2:61002",), ENV),
                                        rules=(("option_rules.xml",), ENV), timeout=(3.0, ENV),
                                        password=(SECRET_OPTION, ENV)))
    assert nicks(settings) == ["from_file"]
    assert settings.rules_files == [str(work / "file_rules.xml")]
    assert settings.timeout == 7
    assert settings.password == SECRET_FILE
    overrides = [line for line in settings.warnings if "overrides" in line]
    assert overrides == [f"instances, rules, timeout, password: -c {work / 'inv.conf'} (command line) overrides "
                         "SUPV_INSTANCES, SUPV_RULES, SUPV_TIMEOUT, SUPV_PASSWORD (environment)"]
    assert not any(SECRET_FILE in line or SECRET_OPTION in line for line in settings.warnings)


def test_the_command_line_beats_the_file_in_one_line(work: Path) -> None:
    settings = resolve_settings(options(work, rules=(("option_rules.xml",), CL), timeout=(3.0, CL),
                                        password=(SECRET_OPTION, CL)))
    assert settings.rules_files == [str(work / "option_rules.xml")]
    assert (settings.timeout, settings.password) == (3.0, SECRET_OPTION)
    assert settings.warnings == (f"rules, timeout, password: -r, --timeout, --password (command line) override "
                                 f"-c {work / 'inv.conf'} (command line)",)


def test_an_exported_variable_is_used_when_the_file_does_not_set_it(work: Path) -> None:
    settings = resolve_settings(options(work, config="bare.conf", rules=(("option_rules.xml",), ENV),
                                        password=(SECRET_OPTION, ENV)))
    assert settings.rules_files == [str(work / "option_rules.xml")]
    assert settings.password == SECRET_OPTION
    assert settings.warnings == ()


def test_the_command_line_over_its_own_variable_is_named(work: Path) -> None:
    given = ClusterOptions(instances=("127.0.2.2:61002",), shadowed=("instances",))
    assert resolve_settings(given).warnings == ("instances: -i (command line) overrides SUPV_INSTANCES "
                                                "(environment)",)


def test_the_environment_beats_a_default_file(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (work / "supv.conf").write_text(INVENTORY)     # ./supv.conf, read when neither -c nor -i is given
    (work / "supv.conf").chmod(0o600)
    settings = resolve_settings(options(work, config=None, rules=(("option_rules.xml",), ENV)))
    assert nicks(settings) == ["from_file"]
    assert settings.rules_files == [str(work / "option_rules.xml")]
    assert settings.warnings == (f"rules: SUPV_RULES (environment) overrides {work / 'supv.conf'} (default file)",)


def test_a_lost_password_option_still_serves_instances_the_file_gives_none(work: Path) -> None:
    (work / "own.conf").write_text("[instance:a]\nserverurl = http://127.0.2.1:1\npassword = own-pw\n"
                                   "[instance:b]\nserverurl = http://127.0.2.1:2\n")
    settings = resolve_settings(options(work, config="own.conf", password=(SECRET_OPTION, ENV)))
    by_nick = {instance.nick: instance for instance in settings.instances}
    assert by_nick["a"].password == "own-pw"
    assert settings.password == SECRET_OPTION        # b has none of its own: the global one applies
