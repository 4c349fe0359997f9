"""The supv inventory (``-c supv.conf``, man supv.conf(5)): parsing, errors, precedence, discovery, and
passwords that never show."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from supv_cli.cluster.settings import ClusterOptions, read_config_file, resolve_settings
from supv_cli.errors import ConfigError
from tests.support.cli import run_supv
from tests.support.errors import assert_config_error

SECRET_1 = "pw-1-zq7Xv"
SECRET_2 = "pw-2-Kk30d"
SECRET_DEFAULT = "pw-d-Hn5ee"

INVENTORY = """\
; the cluster, in instance order
[supv]
rules_files = rules/*.xml extra.xml     ; globs, relative to this file
timeout = 2.5
starting_strategy = less_loaded
username = ops
password = %(ENV_SUPV_TEST_PW_DEFAULT)s

[instance:server_1]
serverurl = http://127.0.0.1:61001
stereotypes = @SERVER
username = admin
password = %(ENV_SUPV_TEST_PW_1)s

[instance:server_2]
serverurl = 127.0.0.2:61002               ; host:port is http
stereotypes = SERVER, @BIG
password = %(ENV_SUPV_TEST_PW_2)s

[instance:console_1]
serverurl = unix://%(here)s/console_1.sock
stereotypes = @CONSOLE

[instance:console_2]
serverurl = http://[::1]:61004/
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPV_TEST_PW_1", SECRET_1)
    monkeypatch.setenv("SUPV_TEST_PW_2", SECRET_2)
    monkeypatch.setenv("SUPV_TEST_PW_DEFAULT", SECRET_DEFAULT)


@pytest.fixture
def inventory(tmp_path: Path, secrets: None) -> Path:
    write(tmp_path / "rules" / "b.xml", "<root/>")
    write(tmp_path / "rules" / "a.xml", "<root/>")
    write(tmp_path / "extra.xml", "<root/>")
    return write(tmp_path / "supv.conf", INVENTORY)


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No ./supv.conf and no ~/.config/supv/supv.conf but the ones a test writes."""
    home = tmp_path / "home"
    work = tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    return tmp_path


def credentials(settings, nick):
    instance = settings.instances.find(nick)
    return instance.username, instance.password


# ------------------------------------------------------------------------------------------- reading

def test_inventory(inventory: Path) -> None:
    settings = resolve_settings(ClusterOptions(config=str(inventory)))
    here = inventory.parent
    assert [i.nick for i in settings.instances] == ["server_1", "server_2", "console_1", "console_2"]
    assert [i.url for i in settings.instances] == ["http://127.0.0.1:61001", "http://127.0.0.2:61002",
                                                   f"unix://{here}/console_1.sock", "http://[::1]:61004"]
    assert [i.stereotypes for i in settings.instances] == [("@SERVER",), ("@SERVER", "@BIG"), ("@CONSOLE",),
                                                           ()]
    # relative globs from the inventory's folder; the sorted set, as Supvisors' rules_files
    assert settings.rules_files == [str(here / "extra.xml"), str(here / "rules" / "a.xml"),
                                    str(here / "rules" / "b.xml")]
    assert settings.timeout == 2.5
    assert settings.default_starting_strategy == "LESS_LOADED"
    assert settings.config_file == str(inventory)
    # per instance first, then [supv]; an instance with nothing of its own uses the global credentials
    assert credentials(settings, "server_1") == ("admin", SECRET_1)
    assert credentials(settings, "server_2") == ("ops", SECRET_2)
    assert credentials(settings, "console_1") == (None, None)
    assert (settings.username, settings.password) == ("ops", SECRET_DEFAULT)
    for secret in (SECRET_1, SECRET_2, SECRET_DEFAULT):
        assert secret not in repr(settings)


def test_minimal_inventory_and_defaults(isolated: Path) -> None:
    conf = write(isolated / "only.conf", "[instance:a]\nserverurl = http://h:1\n")
    settings = resolve_settings(ClusterOptions(config=str(conf)))
    assert [i.nick for i in settings.instances] == ["a"]
    assert (settings.rules_files, settings.timeout) == ([], 5.0)
    assert (settings.username, settings.password) == (None, None)
    assert settings.default_starting_strategy is None


def test_instance_order_is_file_order(tmp_path: Path) -> None:
    names = ["zeta", "alpha", "mid", "beta"]
    text = "".join(f"[instance:{name}]\nserverurl = h{n}:{n}\n" for n, name in enumerate(names, start=1))
    settings = resolve_settings(ClusterOptions(config=str(write(tmp_path / "i.conf", "[supv]\n" + text))))
    assert [i.nick for i in settings.instances] == names


def test_rules_glob_matching_nothing_is_a_warning(tmp_path: Path) -> None:
    conf = write(tmp_path / "supv.conf", "[supv]\nrules_files = none/*.xml\n[instance:a]\nserverurl = h:1\n")
    settings = resolve_settings(ClusterOptions(config=str(conf)))
    assert settings.rules_files == []
    assert settings.warnings == (f"{conf}:2: no rules file matches 'none/*.xml'",)


# file text -> (line of the error or None for the file, fragment of the message)
INVENTORY_ERRORS = [
    ("[supv]\ntimeout = 5\nrule_files = x.xml\n", 3, "unknown key 'rule_files' in \\[supv\\]; known keys: "
                                                     "rules_files, timeout"),
    ("[supv]\n[instance:a]\nserverurl = h:1\nstereotype = @X\n", 4,
     "unknown key 'stereotype' in \\[instance:a\\]"),
    ("[supv]\n\n[instance:a]\nstereotypes = @X\n", 3, "\\[instance:a\\]: no serverurl; add serverurl = "),
    ("[supv]\n[instance:a]\nserverurl =\n", 2, "no serverurl"),
    ("[instance:a]\nserverurl = h:1\n\n[instance:a]\nserverurl = h:2\n", 4, "instance 'a' is declared twice"),
    ("[supv]\n[supv]\n", 2, "section \\[supv\\] appears twice"),
    ("[instance:a]\nserverurl = h:1\nserverurl = h:2\n", 3, "serverurl is set twice in \\[instance:a\\]"),
    ("[instance:a]\nserverurl = h:1\n[instance:b]\nserverurl = http://h:1\n", 4,
     "\\[instance:b\\]: same instance as \\[instance:a\\] \\(h:1\\)"),
    ("[instance:a]\nserverurl = h:1\npassword = %(ENV_SUPV_TEST_SURELY_UNSET)s\n", 3,
     "\\[instance:a\\] password: cannot expand %\\(ENV_SUPV_TEST_SURELY_UNSET\\)s: environment variable "
     "SUPV_TEST_SURELY_UNSET is not set"),
    ("[supv]\npassword = %(ENV_SUPV_TEST_SURELY_UNSET)s\n", 2, "\\[supv\\] password: cannot expand"),
    ("[instance:a]\nserverurl = http://%(ENV_SUPV_TEST_SURELY_UNSET)s:1\n", 2, "serverurl: cannot expand"),
    ("[instance:a]\nserverurl = ftp://h:1\n", 2,
     "\\[instance:a\\] serverurl: instance '<a>ftp://h:1': unknown URL"),
    ("[instance:a]\nserverurl = unix://relative.sock\n", 2, "absolute path"),
    ("[instance:a]\nserverurl = h:1\nstereotypes = @SERVER, @\n", 3, "bad stereotype '@'"),
    ("[instance:a]\nserverurl = h:1\nstereotypes = *\n", 3, "bad stereotype '\\*'"),
    ("[instance:@a]\nserverurl = h:1\n", 1, "bad instance name '@a'"),
    ("[instance:]\nserverurl = h:1\n", 1, "bad instance name ''"),
    ("[supv]\n[instances:a]\nserverurl = h:1\n", 2, "unknown section \\[instances:a\\]"),
    ("[supv]\n[DEFAULT]\nusername = x\n", 2, "unknown section \\[DEFAULT\\]"),
    ("[supv]\ntimeout = soon\n", 2, "timeout: 'soon' is not a number of seconds"),
    ("[supv]\ntimeout = 0\n", 2, "timeout: '0' is not a number"),
    ("[supv]\nstarting_strategy = FASTEST\n", 2, "unknown strategy 'FASTEST'"),
    ("[supv]\nrules_files =\n", 2, "rules_files is empty"),
    ("timeout = 5\n[supv]\n", 1, "line before any \\[section\\] header; .* such as \\[supv\\]"),
    ("[supv]\ntimeout = 5\nthis is not an option\n", 3, "cannot parse this line"),
]


@pytest.mark.parametrize(("text", "line", "message"), INVENTORY_ERRORS)
def test_inventory_errors(tmp_path: Path, text: str, line: int | None, message: str) -> None:
    assert_config_error(write(tmp_path / "supv.conf", text), line, message)


# a password written in the file, in every way that can go wrong: it is never in the message
SECRET = "Sup3r-s3cret"
SECRET_ERRORS = [
    f"[instance:a]\nserverurl = h:1\npassword = {SECRET}%q\n",             # bad %-expansion
    f"[instance:a]\nserverurl = h:1\npassword = {SECRET}%(nothing)s\n",    # unknown expansion
    f"[instance:a]\nserverurl = http://ops:{SECRET}@h:1\n",                # credentials in the URL
    f"[instance:a]\nserverurl = http://ops:{SECRET}%q@h:1\n",              # ... that cannot be expanded
    f"[instance:a]\nserverurl = h:1\npassword = %({SECRET})s\n",           # a name that is no variable
    f"[instance:a]\nserverurl = h:1\npassword = x\n{SECRET}\n",            # a line that is no option
    f"[instance:a]\nserverurl = h:1\npassword = {SECRET}\npassword = {SECRET}\n",  # set twice
    f"[instance:a]\nserverurl = h:1\npasword = {SECRET}\n",                # misspelled key
]


@pytest.mark.parametrize("text", SECRET_ERRORS)
def test_a_password_is_never_in_an_error(tmp_path: Path, text: str) -> None:
    conf = write(tmp_path / "supv.conf", text)
    with pytest.raises(ConfigError) as caught:
        resolve_settings(ClusterOptions(config=str(conf)))
    assert str(caught.value).startswith(f"{conf}:")
    assert SECRET not in str(caught.value)
    result = run_supv("instances", "-c", str(conf))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{conf}:") or result.stderr.startswith("supv: error: ")
    assert SECRET not in result.stdout + result.stderr


def test_a_password_is_never_in_an_output(inventory: Path, tmp_path: Path) -> None:
    # no instance answers (nothing listens on those ports/sockets): every command still reports
    outputs = []
    for args in (["instances", "--json"], ["instances", "--format", "plain"],
                 ["instances", "--format", "table"], ["application-info"], ["sstatus", "--json"],
                 ["rules", "show", "--format", "plain"]):
        result = run_supv(*args, "-c", str(inventory), "--timeout", "0.5",
                          env={"SUPV_TEST_PW_1": SECRET_1, "SUPV_TEST_PW_2": SECRET_2,
                               "SUPV_TEST_PW_DEFAULT": SECRET_DEFAULT})
        outputs.append(result.stdout + result.stderr)
    text = "\n".join(outputs)
    assert "console_1" in text
    for secret in (SECRET_1, SECRET_2, SECRET_DEFAULT):
        assert secret not in text


# ------------------------------------------------------------------------------------------- precedence

def test_command_line_wins_over_the_file(inventory: Path, tmp_path: Path) -> None:
    rules = write(tmp_path / "mine.xml", "<root/>")
    options = ClusterOptions(config=str(inventory), instances=("<x>h:1",), rules=(str(rules),), timeout=1.0,
                             username="cli-user", password="cli-pw")
    settings = resolve_settings(options)
    assert [i.nick for i in settings.instances] == ["x"]       # -i replaces the file's instances
    assert settings.rules_files == [str(rules)]
    assert settings.timeout == 1.0
    assert (settings.username, settings.password) == ("cli-user", "cli-pw")
    assert settings.default_starting_strategy == "LESS_LOADED"  # no option for it: the file's


@pytest.mark.parametrize(("username", "password", "server_1", "server_2", "console_1", "default"), [
    # nothing on the command line: the file's
    (None, None, ("admin", SECRET_1), ("ops", SECRET_2), (None, None), ("ops", SECRET_DEFAULT)),
    # issue 17 item 8: -u and --password go only to the instances without credentials of their own
    # (console_1: None, None = the global ones); server_2 completes its own password with [supv]'s username
    ("bob", "pw", ("admin", SECRET_1), ("ops", SECRET_2), (None, None), ("bob", "pw")),
    # each on its own, as supervisorctl: -u alone keeps the file's default password
    ("bob", None, ("admin", SECRET_1), ("ops", SECRET_2), (None, None), ("bob", SECRET_DEFAULT)),
    (None, "pw", ("admin", SECRET_1), ("ops", SECRET_2), (None, None), ("ops", "pw")),
])
def test_credentials_precedence(inventory: Path, username, password, server_1, server_2, console_1,
                                default) -> None:
    settings = resolve_settings(ClusterOptions(config=str(inventory), username=username, password=password))
    assert credentials(settings, "server_1") == server_1
    assert credentials(settings, "server_2") == server_2
    assert credentials(settings, "console_1") == console_1
    assert (settings.username, settings.password) == default


def test_timeout_default_file_and_command_line(tmp_path: Path) -> None:
    plain = write(tmp_path / "a.conf", "[instance:a]\nserverurl = h:1\n")
    timed = write(tmp_path / "b.conf", "[supv]\ntimeout = 9\n[instance:a]\nserverurl = h:1\n")
    assert resolve_settings(ClusterOptions(config=str(plain))).timeout == 5.0
    assert resolve_settings(ClusterOptions(config=str(timed))).timeout == 9.0
    assert resolve_settings(ClusterOptions(config=str(timed), timeout=0.5)).timeout == 0.5


def test_environment_variables_through_the_cli(inventory: Path, isolated: Path, tmp_path: Path) -> None:
    # SUPV_CONFIG names the inventory (rules show with a NAMESPEC contacts nothing)
    hci = write(tmp_path / "rules" / "hci.xml", '<root><application pattern="hci_"><distribution>'
                'SINGLE_INSTANCE</distribution><identifiers>#,@SERVER</identifiers></application></root>')
    result = run_supv("rules", "show", "--json", "hci_2", env={"SUPV_CONFIG": str(inventory)})
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)[0]["identifiers"] == ["server_2"]
    # SUPV_INSTANCES wins over the inventory's instances (which alone carry the stereotypes)
    result = run_supv("rules", "show", "--json", "hci_2", "-r", str(hci),
                      env={"SUPV_CONFIG": str(inventory), "SUPV_INSTANCES": "<a>h:1"})
    assert json.loads(result.stdout)[0]["identifiers"] == []
    assert "stereotype @SERVER: no instance carries it" in result.stderr


# ------------------------------------------------------------------------------------------- discovery

def test_default_inventory_in_the_current_folder_then_home(isolated: Path) -> None:
    home_conf = write(isolated / "home" / ".config" / "supv" / "supv.conf",
                      "[instance:home]\nserverurl = h:1\n")
    settings = resolve_settings(ClusterOptions())
    assert [i.nick for i in settings.instances] == ["home"]
    assert settings.config_file == str(home_conf)
    local_conf = write(isolated / "work" / "supv.conf", "[instance:here]\nserverurl = h:2\n")
    settings = resolve_settings(ClusterOptions())
    assert [i.nick for i in settings.instances] == ["here"]
    assert settings.config_file == str(local_conf)


def test_no_discovery_with_instances_or_config(isolated: Path) -> None:
    write(isolated / "work" / "supv.conf", "[instance:here]\nserverurl = h:2\n[supv]\ntimeout = 7\n")
    other = write(isolated / "other.conf", "[instance:other]\nserverurl = h:3\n")
    settings = resolve_settings(ClusterOptions(instances=("<x>h:1",)))
    assert [i.nick for i in settings.instances] == ["x"]
    assert (settings.timeout, settings.config_file) == (5.0, None)
    settings = resolve_settings(ClusterOptions(config=str(other)))
    assert [i.nick for i in settings.instances] == ["other"]


def test_nothing_to_discover(isolated: Path) -> None:
    settings = resolve_settings(ClusterOptions())
    assert not settings.instances and settings.config_file is None


def test_a_broken_default_inventory_is_reported(isolated: Path) -> None:
    conf = write(isolated / "work" / "supv.conf", "[supv]\ntimeout = never\n")
    result = run_supv("instances")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{conf}:2: timeout: 'never'")


# ------------------------------------------------------------------------------------------- formats

def test_a_file_that_is_neither_format(tmp_path: Path) -> None:
    conf = write(tmp_path / "x.conf", "[program:x]\ncommand = sleep 1\n")
    with pytest.raises(ConfigError, match=r"not a supv inventory \(no \[supv\] section\) and no "
                                          r"\[rpcinterface:supvisors\] section") as caught:
        read_config_file(str(conf))
    assert caught.value.location == str(conf)


SUPERVISORD_CONF = """\
[supervisord]
identifier = {identifier}
[inet_http_server]
port = {port}
[rpcinterface:supvisors]
supvisors_list = <server_1>127.0.0.11:61001 <server_2>127.0.0.12:61002 <console_1>127.0.0.21:61004
stereotypes = @SERVER {more}
"""


@pytest.mark.parametrize(("identifier", "port", "carrier"), [
    ("server_2", "127.0.0.12:61002", "server_2"),     # [supervisord] identifier names the item
    ("supervisor", "127.0.0.12:61002", "server_2"),   # else the item on this host with that port
    ("supervisor", ":61001", "server_1"),
])
def test_supervisord_conf_stereotypes_go_to_the_local_instance(tmp_path: Path, identifier: str, port: str,
                                                               carrier: str) -> None:
    conf = write(tmp_path / "supervisord.conf", SUPERVISORD_CONF.format(identifier=identifier, port=port,
                                                                      more="BIG"))
    settings = resolve_settings(ClusterOptions(config=str(conf)))
    carrying = {i.nick: i.stereotypes for i in settings.instances if i.stereotypes}
    assert carrying == {carrier: ("@SERVER", "@BIG")}
    assert settings.warnings == ()


def test_supervisord_conf_stereotypes_without_local_instance_warn(tmp_path: Path) -> None:
    conf = write(tmp_path / "supervisord.conf",
                 SUPERVISORD_CONF.format(identifier="x", port=":9999", more=""))
    settings = resolve_settings(ClusterOptions(config=str(conf)))
    assert not any(i.stereotypes for i in settings.instances)
    assert settings.warnings == (f"{conf}:7: stereotypes @SERVER ignored: no item of supvisors_list is this "
                                 "host with port 9999",)
