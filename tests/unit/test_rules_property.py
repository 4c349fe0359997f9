"""Property: whatever the bytes of a rules file, loading gives rules or a RulesError, never a traceback."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supv_cli.errors import RulesError
from supv_cli.rules import load_rules

SEED = Path(__file__).resolve().parents[2] / "use_cases" / "scenario_3" / "etc" / "supvisors_rules.xml"
SAMPLE = b"""<?xml version="1.0"?>
<root>
  <alias name="servers">s1,s2</alias>
  <model name="m"><identifiers>#,servers</identifiers><start_sequence>2</start_sequence></model>
  <application pattern="app_"><identifiers>#,servers</identifiers><programs>
    <program pattern="p"><reference>m</reference><required>true</required></program>
    <program name="q"><wait_exit>1</wait_exit><expected_loading>5</expected_loading></program>
  </programs></application>
  <application name="x"><operational_status>all('p.*')</operational_status></application>
</root>
"""


def _check(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.xml"
    path.write_bytes(data)
    try:
        rules = load_rules([str(path)])
    except RulesError as error:
        assert error.errors and all(isinstance(line, str) and line for line in error.errors)
        return
    for name in ("app_1", "app_x", "x", "s1", ""):
        try:
            rules.application_rules(name)
            rules.process_rules(name, "p1")
            rules.process_rules(name, "q")
        except RulesError:
            pass


def _mutate(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    buffer = bytearray(data)
    for kind, position, chunk in edits:
        if not buffer:
            break
        index = position % len(buffer)
        if kind == 0:
            del buffer[index:index + len(chunk)]
        elif kind == 1:
            buffer[index:index] = chunk
        else:
            buffer[index:index + len(chunk)] = chunk
    return bytes(buffer)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 10_000), st.binary(min_size=1, max_size=6)),
                min_size=1, max_size=8))
def test_mutated_files_only_give_rules_errors(tmp_path, edits):
    base = SEED.read_bytes() if SEED.exists() else SAMPLE
    _check(tmp_path, _mutate(base, edits))
    _check(tmp_path, _mutate(SAMPLE, edits))


VALUES = {
    "start_sequence": ["0", "1", "3", "-1", " 2 "], "stop_sequence": ["0", "2", "+4"],
    "required": ["true", "false", "1", " true "], "wait_exit": ["true", "0"],
    "expected_loading": ["0", "8", "100"], "distribution": ["ALL_INSTANCES", "SINGLE_INSTANCE", "SINGLE_NODE"],
    "starting_strategy": ["CONFIG", "LESS_LOADED", "MOST_LOADED_NODE", "LOCAL"],
    "starting_failure_strategy": ["ABORT", "CONTINUE", "STOP"],
    "running_failure_strategy": ["CONTINUE", "RESTART_PROCESS", "STOP_APPLICATION", "RESTART"],
    "identifiers": ["*", "#", "@", "#,servers", "@,s1,#", "servers,s1", " ", "s1,,s2", "#,*"],
    "reference": ["m", "m2", "", "nope"], "operational_status": ["all('p.*')", " x", "a=1;b=2", "p and q"],
}
APP_FIELDS = ["distribution", "identifiers", "start_sequence", "stop_sequence", "starting_strategy",
              "starting_failure_strategy", "running_failure_strategy", "operational_status"]
PROGRAM_FIELDS = ["reference", "identifiers", "start_sequence", "stop_sequence", "required", "wait_exit",
                  "expected_loading", "starting_failure_strategy", "running_failure_strategy"]
NAMES = [' name="app_1"', ' pattern="app_"', ' pattern=""', ' name="x"', ' pattern="p"', ' name="q"',
         ' name="m"', ' name="m2"', ' pattern="(a|ab)"', ""]


@st.composite
def fields(draw, allowed):
    chosen = draw(st.lists(st.sampled_from(allowed), unique=True, max_size=5))
    return "".join(f"<{tag}>{draw(st.sampled_from(VALUES[tag]))}</{tag}>" for tag in chosen)


@st.composite
def element(draw):
    kind = draw(st.sampled_from(["alias", "model", "application", "application"]))
    attrs = draw(st.sampled_from(NAMES))
    if kind == "alias":
        return f'<alias name="{draw(st.sampled_from(["servers", "s1", "x"]))}">' \
               f'{draw(st.sampled_from(["s1,s2", "", "servers,x", "#"]))}</alias>'
    if kind == "model":
        return f"<model{attrs}>{draw(fields(PROGRAM_FIELDS))}</model>"
    programs = draw(st.lists(st.builds(lambda a, f: f"<program{a}>{f}</program>", st.sampled_from(NAMES),
                                       fields(PROGRAM_FIELDS)), max_size=4))
    return f"<application{attrs}>{draw(fields(APP_FIELDS))}<programs>{''.join(programs)}</programs></application>"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(element(), max_size=8), st.lists(st.tuples(st.integers(0, 2), st.integers(0, 10_000),
                                                          st.binary(min_size=1, max_size=4)), max_size=2))
def test_random_structured_files_only_give_rules_errors(tmp_path, elements, edits):
    _check(tmp_path, _mutate(f"<root>{''.join(elements)}</root>".encode(), edits))
