"""Placement: strategies, load cap and tie-breaks (behaviour spec §3.2-§3.3), homogeneous groups (§1.10)."""

from __future__ import annotations

import pytest

from supv_cli.model.instances import resolve_identifiers
from supv_cli.plan.placement import LoadModel, assign_homogeneous, choose, choose_node
from supv_cli.rules import StartingStrategy as SS

from .plan_helpers import instances

# Supvisors' test vector: .1(50) .3(20) .5(10) on node A with pending .1:+5 .3:+5; .2 .4 .6(75) on node B
# (.2 and .4 are not candidates: isolated / stopped); candidates .1, .3, .5, .6.
CLUSTER = instances("i1@A", "i2@B", "i3@A", "i4@B", "i5@A", "i6@B")


def vector_loads() -> LoadModel:
    return LoadModel(CLUSTER, running={"i1": 50, "i3": 20, "i5": 10, "i6": 75}, pending={"i1": 5, "i3": 5})


CANDIDATES = [CLUSTER.find(n) for n in ("i1", "i3", "i5", "i6")]


@pytest.mark.parametrize("load, expected", [
    (0, {SS.CONFIG: "i1", SS.LESS_LOADED: "i5", SS.LESS_LOADED_NODE: "i6", SS.MOST_LOADED: "i6",
         SS.MOST_LOADED_NODE: "i1", SS.LOCAL: "i1"}),
    (10, {SS.CONFIG: "i1", SS.LESS_LOADED: "i5", SS.LESS_LOADED_NODE: "i6", SS.MOST_LOADED: "i6",
          SS.MOST_LOADED_NODE: "i1", SS.LOCAL: "i1"}),
    (20, {SS.CONFIG: "i6", SS.LESS_LOADED: "i6", SS.LESS_LOADED_NODE: "i6", SS.MOST_LOADED: "i6",
          SS.MOST_LOADED_NODE: "i6", SS.LOCAL: None}),
    (30, {s: None for s in SS}),
])
def test_supvisors_strategy_vector(load, expected):
    local = CLUSTER.find("i1")
    for strategy, nick in expected.items():
        chosen = choose(strategy, CANDIDATES, load, vector_loads(), local)
        assert (chosen.nick if chosen else None) == nick, strategy


ONE_PER_NODE = instances("A", "B", "C", "D")


@pytest.mark.parametrize("load, config, less, most", [
    (0, "A", "C", "D"), (30, "A", "C", "A"), (60, "B", "C", "B"), (95, None, None, None),
])
def test_one_instance_per_node_vector(load, config, less, most):
    loads = LoadModel(ONE_PER_NODE, running={"A": 50, "B": 20, "C": 10, "D": 75})
    for strategy, nick in ((SS.CONFIG, config), (SS.LESS_LOADED, less), (SS.MOST_LOADED, most),
                           (SS.LESS_LOADED_NODE, less), (SS.MOST_LOADED_NODE, most)):
        chosen = choose(strategy, list(ONE_PER_NODE), load, loads)
        assert (chosen.nick if chosen else None) == nick, strategy


def test_ties_keep_candidate_order():
    loads = LoadModel(ONE_PER_NODE)
    order = [ONE_PER_NODE.find(n) for n in ("C", "A", "B")]
    assert choose(SS.LESS_LOADED, order, 10, loads).nick == "C"
    assert choose(SS.MOST_LOADED, order, 10, loads).nick == "B"


def test_cap_is_inclusive_and_on_the_node():
    cluster = instances("x@N", "y@N", "z@M")
    loads = LoadModel(cluster, running={"x": 40, "y": 40, "z": 90})
    assert choose(SS.CONFIG, list(cluster), 20, loads).nick == "x"      # node N: 80 + 20 = 100 allowed
    assert choose(SS.CONFIG, list(cluster), 21, loads) is None          # N 101, M 111
    loads.add_pending(cluster.find("x"), 10)
    assert choose(SS.CONFIG, list(cluster), 20, loads) is None          # pending counts on the node


@pytest.mark.parametrize("strategy, loads, expected", [
    (SS.CONFIG, {"x": 50, "z": 0}, "N"), (SS.LESS_LOADED, {"x": 50}, "M"), (SS.MOST_LOADED, {"x": 50}, "N"),
    (SS.LESS_LOADED, {"x": 50, "z": 60}, "N"), (SS.MOST_LOADED, {"x": 95}, "M"),
])
def test_choose_node(strategy, loads, expected):
    cluster = instances("x@N", "y@N", "z@M")
    assert choose_node(strategy, ["N", "M"], 10, LoadModel(cluster, running=loads)) == expected


def test_resolve_identifiers_order_and_identity():
    cluster = instances("a@10.0.0.1", "b@10.0.0.2", "c@10.0.0.3")
    assert [i.nick for i in resolve_identifiers(["*"], cluster)] == ["a", "b", "c"]
    assert [i.nick for i in resolve_identifiers(["c", "10.0.0.1:60001", "x", "a"], cluster)] == ["c", "a"]


REF = list(instances("a", "b", "c"))


@pytest.mark.parametrize("names, sign, expected", [
    (["yeux_00", "yeux_01"], "#", {"yeux_00": "a", "yeux_01": "b"}),
    (["yeux_02", "yeux_00", "yeux_01"], "#", {"yeux_00": "a", "yeux_01": "b", "yeux_02": "c"}),
    ([f"p_{i}" for i in range(5)], "#", {"p_0": "a", "p_1": "b", "p_2": "c", "p_3": "a", "p_4": "b"}),
    ([f"p_{i}" for i in range(5)], "@", {"p_0": "a", "p_1": "b", "p_2": "c", "p_3": None, "p_4": None}),
    (["p_10", "p_9"], "@", {"p_9": "a", "p_10": "b"}),   # numeric index order, not lexical
])
def test_homogeneous_assignment(names, sign, expected):
    result = assign_homogeneous(names, REF, sign)
    assert {n: (i.nick if i else None) for n, i in result.items()} == expected


def test_homogeneous_without_reference_gives_nothing():
    assert assign_homogeneous(["p_1"], [], "#") == {"p_1": None}


@pytest.mark.parametrize(("local", "reason"), [
    (None, "No resource available: LOCAL strategy and there is no local instance (supv was not started by a "
           "supervisord of the list): give --local NICK"),
    ("i1", "No resource available: LOCAL strategy and the local instance (i1) is not a valid candidate"),
])
def test_the_local_strategy_says_why_nothing_is_placed(local, reason):
    # issue 17 (minor): outside supervisord, say there is no local instance and how to give one
    from supv_cli.plan.placement import no_resource_reason

    usable = [CLUSTER.find("i3")]
    local_instance = CLUSTER.find(local) if local else None
    got = no_resource_reason(["i3"], usable, usable, usable, 10, vector_loads(), SS.LOCAL, (), local_instance)
    assert got == reason
