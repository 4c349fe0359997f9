"""Cluster settings from the command line and from a Supvisors supervisord.conf (-c)."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import pytest

from supv_cli.cluster.settings import NO_INSTANCES, ClusterOptions, ClusterSettings, resolve_settings
from supv_cli.errors import ConfigError
from tests.support.errors import assert_config_error

SUPVISORS_CONF = """\
[supervisord]
logfile = %(here)s/supervisord.log

[inet_http_server]
port = :61000

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[rpcinterface:supvisors]
supervisor.rpcinterface_factory = supvisors.plugin:make_supvisors_rpcinterface
supvisors_list = <server_1>10.0.0.1:61000,<server_2>10.0.0.2:61000 ; inline comment
    <console_1>10.0.0.3:61000
rules_files = %(here)s/rules/*.xml etc/extra.xml
starting_strategy = less_loaded
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    write(tmp_path / "rules" / "b.xml", "<root/>")
    write(tmp_path / "rules" / "a.xml", "<root/>")
    write(tmp_path / "rules" / "skip.txt", "")
    return write(tmp_path / "supervisord.conf", SUPVISORS_CONF)


def test_supervisord_conf(conf: Path) -> None:
    settings = resolve_settings(ClusterOptions(config=str(conf)))
    assert [i.nick for i in settings.instances] == ["server_1", "server_2", "console_1"]
    assert settings.instances[2].url == "http://10.0.0.3:61000"
    here = str(conf.parent)
    # Supvisors' rules_files: the sorted set of absolute paths; relative globs from the conf's folder
    assert settings.rules_files == sorted([f"{here}/etc/extra.xml", f"{here}/rules/a.xml",
                                           f"{here}/rules/b.xml"])
    assert settings.default_starting_strategy == "LESS_LOADED"
    assert settings.config_file == str(conf)
    assert settings.timeout == 5.0
    assert settings.warnings == ()


def test_command_line_wins(conf: Path, tmp_path: Path) -> None:
    rules = write(tmp_path / "mine.xml", "<root/>")
    options = ClusterOptions(instances=("<x>h:1,<y>h:2", "<z>h:3"), rules=(str(rules),), config=str(conf),
                             timeout=1.5)
    settings = resolve_settings(options)
    assert [i.nick for i in settings.instances] == ["x", "y", "z"]
    assert settings.rules_files == [str(rules)]
    assert settings.timeout == 1.5
    assert settings.default_starting_strategy == "LESS_LOADED"


def test_rules_option_globs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("b.xml", "a.xml", "c.xml"):
        write(tmp_path / name, "<root/>")
    monkeypatch.chdir(tmp_path)
    settings = resolve_settings(ClusterOptions(rules=("c.xml", "*.xml", "nothing*.xml", "missing.xml")))
    # given order, each glob sorted, no duplicate; a plain missing path is kept for the rules loader
    assert settings.rules_files == [str(tmp_path / n) for n in ("c.xml", "a.xml", "b.xml", "missing.xml")]
    assert settings.warnings == ("no rules file matches 'nothing*.xml'",)


def test_expansions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPV_TEST_HOST", "10.1.1.1")
    write(tmp_path / f"rules-{platform.node()}.xml", "<root/>")
    conf = write(tmp_path / "s.conf", "[rpcinterface:supvisors]\n"
                                      "supvisors_list = <a>%(ENV_SUPV_TEST_HOST)s:1 <b>b:2\n"
                                      "rules_files = %(here)s/rules-%(host_node_name)s.xml\n")
    settings = resolve_settings(ClusterOptions(config=str(conf)))
    assert [i.url for i in settings.instances] == ["http://10.1.1.1:1", "http://b:2"]
    assert settings.rules_files == [str(tmp_path / f"rules-{platform.node()}.xml")]
    assert settings.default_starting_strategy is None


def test_item_without_port_gets_the_inet_port(tmp_path: Path) -> None:
    conf = write(tmp_path / "s.conf", "[inet_http_server]\nport = *:60000\n[rpcinterface:supvisors]\n"
                                      "supvisors_list = cliche81,<c2>cliche82,c3:61000\n")
    settings = resolve_settings(ClusterOptions(config=str(conf)))
    assert [(i.nick, i.identifier) for i in settings.instances] == [
        ("cliche81:60000", "cliche81:60000"), ("c2", "cliche82:60000"), ("c3:61000", "c3:61000")]


def test_section_in_an_included_file(tmp_path: Path) -> None:
    write(tmp_path / "conf.d" / "supvisors.ini",
          "[rpcinterface:supvisors]\nsupvisors_list = <a>h:1\nrules_files = %(here)s/r.xml\n")
    write(tmp_path / "conf.d" / "programs.ini", "[program:x]\ncommand = sleep 1\n")
    conf = write(tmp_path / "supervisord.conf", "[supervisord]\n[include]\nfiles = conf.d/*.ini\n")
    settings = resolve_settings(ClusterOptions(config=str(conf)))
    assert [i.nick for i in settings.instances] == ["a"]
    assert settings.rules_files == [str(tmp_path / "conf.d" / "r.xml")]


def test_credentials(tmp_path: Path) -> None:
    conf = write(tmp_path / "s.conf", "[supervisorctl]\nusername = ctl\npassword = ctlpw\n"
                                      "[rpcinterface:supvisors]\nsupvisors_list = h:1\n")
    from_file = resolve_settings(ClusterOptions(config=str(conf)))
    assert (from_file.username, from_file.password) == ("ctl", "ctlpw")
    given = resolve_settings(ClusterOptions(config=str(conf), username="bob", password="s3cret"))
    assert (given.username, given.password) == ("bob", "s3cret")
    assert "s3cret" not in repr(given)
    assert "ctlpw" not in repr(from_file)


def test_no_instances() -> None:
    settings = resolve_settings(ClusterOptions())
    assert settings == ClusterSettings(instances=settings.instances)
    assert not settings.instances
    with pytest.raises(ConfigError, match=NO_INSTANCES):
        settings.require_instances()
    with pytest.raises(ConfigError, match=NO_INSTANCES):
        resolve_settings(ClusterOptions(), require_instances=True)


# file text -> (line of the error or None, fragment of the message)
CONF_ERRORS = [
    ("[supervisord]\nlogfile = x\n", None, r"no \[rpcinterface:supvisors\] section"),
    ("supvisors_list = a:1\n", 1, "before any \\[section\\]"),
    ("[rpcinterface:supvisors]\nsupvisors_list = a:1\n  \nthis is not an option\n", 4, "cannot parse"),
    ("[rpcinterface:supvisors]\n\nsupvisors_list = <a>h:1,<a>h:2\n", 3, "'a' is used twice"),
    ("[rpcinterface:supvisors]\nsupvisors_list = <a>h:port\n", 2, "supvisors_list: instance '<a>h:port'"),
    ("[rpcinterface:supvisors]\nsupvisors_list = %(ENV_SUPV_SURELY_UNSET)s:1\n", 2,
     "environment variable SUPV_SURELY_UNSET is not set"),
    ("[rpcinterface:supvisors]\nrules_files = %(nothing)s.xml\n", 2, r"cannot expand %\(nothing\)s"),
    ("[rpcinterface:supvisors]\nsupvisors_list = a:1\nstarting_strategy = FASTEST\n", 3,
     "unknown strategy 'FASTEST'"),
    # a [supv] section makes it an inventory (tests/unit/test_inventory.py has the rest)
    ("[supv]\n[instance:a]\nserverurl = http://h:1\nurl = x\n", 4, "unknown key 'url' in \\[instance:a\\]"),
]


@pytest.mark.parametrize(("text", "line", "message"), CONF_ERRORS)
def test_conf_errors(tmp_path: Path, text: str, line: int | None, message: str) -> None:
    assert_config_error(write(tmp_path / "supervisord.conf", text), line, message)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file") as caught:
        resolve_settings(ClusterOptions(config=str(tmp_path / "missing.conf")))
    assert caught.value.location == str(tmp_path / "missing.conf")
    with pytest.raises(ConfigError, match="is a directory"):
        resolve_settings(ClusterOptions(config=str(tmp_path)))
    binary = tmp_path / "binary.conf"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ConfigError, match="not a UTF-8 text file"):
        resolve_settings(ClusterOptions(config=str(binary)))


def test_error_in_an_included_file(tmp_path: Path) -> None:
    bad = write(tmp_path / "conf.d" / "bad.ini", "[program:x]\ncommand = a\n!!!\n")
    conf = write(tmp_path / "supervisord.conf", "[include]\nfiles = conf.d/*.ini\n")
    with pytest.raises(ConfigError) as caught:
        resolve_settings(ClusterOptions(config=str(conf)))
    assert caught.value.location == f"{bad}:3"


def test_config_path_is_made_absolute(conf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(conf.parent)
    settings = resolve_settings(ClusterOptions(config=os.path.basename(conf)))
    assert settings.config_file == str(conf)
