"""Fleet waves: Ansible ``serial`` list semantics, max_fail_percent per wave, rollback targets."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dhash_gha.core.fleet import (
    GITHUB_MATRIX_LIMIT,
    FleetPolicy,
    HostOutcome,
    Wave,
    batch_size,
    judge_wave,
    matrix,
    plan_as_json,
    plan_waves,
    rollback_targets,
)
from dhash_gha.errors import BadInput


def fleet(count: int) -> list[str]:
    return [f"web-{i}" for i in range(1, count + 1)]


def sizes(waves: list[Wave]) -> list[int]:
    return [len(w.hosts) for w in waves]


# --- planning ----------------------------------------------------------------------------------
def test_the_last_batch_repeats_until_every_host_is_covered() -> None:
    waves = plan_waves(fleet(12), FleetPolicy(batches=(1, 5, "20%")))
    assert sizes(waves) == [1, 5, 3, 3]  # 20 % of 12 = 2.4, rounded up to 3
    assert [w.number for w in waves] == [1, 2, 3, 4]
    assert [h for w in waves for h in w.hosts] == fleet(12)


def test_a_percentage_is_of_the_whole_fleet_rounded_up_at_least_one() -> None:
    assert batch_size("20%", 12) == 3  # Ansible: int(2.4) = 2
    assert batch_size("7%", 100) == 7  # exact: 0.07 × 100 in floats is 7.000000000000001
    assert batch_size("1%", 10) == 1
    assert batch_size("0.5%", 1000) == 5
    assert batch_size("100%", 7) == 7
    assert batch_size(3, 7) == 3


def test_the_last_wave_takes_what_is_left() -> None:
    assert sizes(plan_waves(fleet(10), FleetPolicy(batches=(4,)))) == [4, 4, 2]
    assert sizes(plan_waves(fleet(3), FleetPolicy(batches=(1, 10)))) == [1, 2]
    assert sizes(plan_waves(fleet(3), FleetPolicy(batches=("100%",)))) == [3]


def test_bake_times_and_approvals_follow_the_same_rule() -> None:
    policy = FleetPolicy(
        batches=(1, 2), bake_seconds=(1800, 600), approvals=(None, "production-approval")
    )
    waves = plan_waves(fleet(5), policy)
    assert [w.bake_seconds for w in waves] == [1800, 600, 600]
    assert [w.approval for w in waves] == [None, "production-approval", "production-approval"]
    one = plan_waves(fleet(3), FleetPolicy(batches=(1,), bake_seconds=60, approvals="ops"))
    assert [(w.bake_seconds, w.approval) for w in one] == [(60, "ops")] * 3
    only_second = FleetPolicy(batches=(1,), approvals=(None, "ops", None))
    assert [w.approval for w in plan_waves(fleet(4), only_second)] == [None, "ops", None, None]
    assert [w.approval for w in plan_waves(fleet(2), FleetPolicy(batches=(1,)))] == [None, None]


batch = st.one_of(
    st.integers(min_value=1, max_value=40),
    st.integers(min_value=1, max_value=100).map(lambda p: f"{p}%"),
)


@settings(max_examples=300, deadline=None)
@given(
    count=st.integers(min_value=1, max_value=120), batches=st.lists(batch, min_size=1, max_size=5)
)
def test_every_host_in_exactly_one_wave_in_order_with_the_specified_sizes(
    count: int, batches: list[int | str]
) -> None:
    hosts = fleet(count)
    waves = plan_waves(hosts, FleetPolicy(batches=tuple(batches)))
    assert [h for w in waves for h in w.hosts] == hosts  # each once, in the given order
    assert [w.number for w in waves] == list(range(1, len(waves) + 1))
    left = count
    for index, wave in enumerate(waves):
        entry = batches[min(index, len(batches) - 1)]
        wanted = entry if isinstance(entry, int) else max(1, -(-int(entry[:-1]) * count // 100))
        assert len(wave.hosts) == min(wanted, left)
        assert len(wave.hosts) >= 1
        left -= len(wave.hosts)
    assert left == 0


# --- judging a wave ------------------------------------------------------------------------------
def four_host_wave() -> Wave:
    return plan_waves(fleet(4), FleetPolicy(batches=(4,)))[0]


def outcomes(failed: int, wave: Wave) -> dict[str, HostOutcome]:
    return {h: ("failed" if i < failed else "ok") for i, h in enumerate(wave.hosts)}


def test_the_share_must_be_exceeded_not_equalled_as_in_ansible() -> None:
    """Ansible's docs: serial 4, abort at 2 failed hosts → set 49, not 50."""
    wave = four_host_wave()
    at_49 = judge_wave(wave, outcomes(2, wave), FleetPolicy(batches=(4,), max_fail_percent=49))
    at_50 = judge_wave(wave, outcomes(2, wave), FleetPolicy(batches=(4,), max_fail_percent=50))
    assert (at_49.status, at_49.action) == ("stop", "halt")
    assert (at_50.status, at_50.action) == ("pass", "continue")
    assert at_49.failed == ("web-1", "web-2") and at_49.failed_percent == 50
    assert "more than max_fail_percent 49 %" in at_49.reason


def test_the_default_stops_at_the_first_failed_host() -> None:
    wave = four_host_wave()
    assert judge_wave(wave, outcomes(0, wave), FleetPolicy(batches=(4,))).status == "pass"
    assert judge_wave(wave, outcomes(1, wave), FleetPolicy(batches=(4,))).status == "stop"


def test_a_wave_where_every_host_failed_always_stops() -> None:
    wave = four_host_wave()
    policy = FleetPolicy(batches=(4,), max_fail_percent=100, on_failure="rollback-fleet")
    verdict = judge_wave(wave, outcomes(4, wave), policy)
    assert (verdict.status, verdict.action) == ("stop", "rollback-fleet")
    assert "every host of the wave" in verdict.reason
    assert judge_wave(wave, outcomes(3, wave), policy).status == "pass"


def test_a_host_without_a_result_counts_as_failed_and_is_named() -> None:
    wave = four_host_wave()
    verdict = judge_wave(
        wave, {"web-1": "ok", "web-2": "ok", "web-3": "ok"}, FleetPolicy(batches=(4,))
    )
    assert verdict.stops and verdict.failed == ("web-4",) and verdict.unreported == ("web-4",)
    assert "web-4 (no result)" in verdict.reason


@settings(max_examples=200, deadline=None)
@given(
    size=st.integers(min_value=1, max_value=30),
    data=st.data(),
    max_fail=st.integers(min_value=0, max_value=100),
)
def test_a_wave_stops_exactly_when_its_failures_exceed_the_share_or_are_all(
    size: int, data: st.DataObject, max_fail: int
) -> None:
    wave = plan_waves(fleet(size), FleetPolicy(batches=(size,)))[0]
    failed = data.draw(st.integers(min_value=0, max_value=size))
    verdict = judge_wave(
        wave, outcomes(failed, wave), FleetPolicy((size,), max_fail_percent=max_fail)
    )
    assert verdict.stops == (failed * 100 > max_fail * size or failed == size)


# --- rollback targets --------------------------------------------------------------------------
def test_rollback_targets_are_the_hosts_already_on_the_new_release() -> None:
    plan = plan_waves(fleet(12), FleetPolicy(batches=(1, 5)))
    results: dict[str, HostOutcome] = {"web-1": "ok"}
    results |= {"web-2": "ok", "web-3": "failed", "web-4": "ok", "web-6": "failed"}  # web-5: none
    assert rollback_targets(plan, results) == ["web-1", "web-2", "web-3", "web-4", "web-6"]
    assert rollback_targets(plan, {}) == []


@settings(max_examples=100, deadline=None)
@given(count=st.integers(min_value=1, max_value=40), data=st.data())
def test_rollback_targets_are_exactly_the_reported_hosts_in_plan_order(
    count: int, data: st.DataObject
) -> None:
    plan = plan_waves(fleet(count), FleetPolicy(batches=(1, "25%")))
    reported = data.draw(st.sets(st.sampled_from(fleet(count))))
    results: dict[str, HostOutcome] = {
        h: data.draw(st.sampled_from(["ok", "failed"])) for h in reported
    }
    targets = rollback_targets(plan, results)
    assert set(targets) == reported and targets == [h for h in fleet(count) if h in reported]


# --- GitHub Actions --------------------------------------------------------------------------
def test_the_matrix_lists_each_host_with_its_wave() -> None:
    plan = plan_waves(fleet(3), FleetPolicy(batches=(1, 2)))
    assert matrix(plan) == {
        "include": [
            {"host": "web-1", "wave": 1},
            {"host": "web-2", "wave": 2},
            {"host": "web-3", "wave": 2},
        ]
    }
    assert matrix(plan[1:]) == {
        "include": [{"host": "web-2", "wave": 2}, {"host": "web-3", "wave": 2}]
    }


def test_more_hosts_than_a_matrix_can_hold_is_bad_input() -> None:
    plan = plan_waves(fleet(GITHUB_MATRIX_LIMIT + 1), FleetPolicy(batches=(1, "50%")))
    with pytest.raises(BadInput, match="at most 256 jobs"):
        matrix(plan)
    assert all(len(matrix([wave])["include"]) <= GITHUB_MATRIX_LIMIT for wave in plan)


def test_the_plan_as_json_round_trips() -> None:
    policy = FleetPolicy(batches=(1, 2), bake_seconds=300, approvals=(None, "ops"))
    data = plan_as_json(plan_waves(fleet(3), policy), policy)
    assert json.loads(json.dumps(data)) == data
    assert data["hosts"] == 3 and data["on_failure"] == "halt"
    assert data["waves"][1] == {
        "wave": 2,
        "hosts": ["web-2", "web-3"],
        "bake_seconds": 300.0,
        "approval": "ops",
    }


# --- bad input ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("hosts", "message"),
    [
        ([], "no hosts"),
        (["a", "b", "a"], "more than once: a"),
        (["a", ""], "empty"),
        (["a", " b"], "surrounding spaces"),
        ("web-1", "one string"),
    ],
)
def test_bad_host_lists(hosts: list[str], message: str) -> None:
    with pytest.raises(BadInput, match=message) as caught:
        plan_waves(hosts, FleetPolicy(batches=(1,)))
    assert caught.value.tip


@pytest.mark.parametrize(
    ("batches", "message"),
    [
        ((), "non-empty list"),
        ((0,), "batch 0 has no hosts"),
        ((1, -2), "batch -2 has no hosts"),
        (("0%",), "between 0 %"),
        (("150%",), "between 0 %"),
        (("20 percent",), "not a percentage"),
        (("-5%",), "not a percentage"),
        ((2.5,), "neither a number"),
        ((math.nan,), "neither a number"),
        ((True,), "neither a number"),
        (5, "non-empty list"),
    ],
)
def test_bad_batches(batches: object, message: str) -> None:
    with pytest.raises(BadInput, match=message) as caught:
        FleetPolicy(batches=batches)  # type: ignore[arg-type]
    assert caught.value.tip


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bake_seconds": -1}, "bake time"),
        ({"bake_seconds": math.inf}, "bake time"),
        ({"bake_seconds": (60, math.nan)}, "bake time"),
        ({"bake_seconds": ()}, "empty list"),
        ({"max_fail_percent": 101}, "max_fail_percent"),
        ({"max_fail_percent": -1}, "max_fail_percent"),
        ({"max_fail_percent": math.nan}, "max_fail_percent"),
        ({"approvals": ""}, "approval environment"),
        ({"approvals": (None, " ops")}, "approval environment"),
        ({"approvals": ("x" * 256,)}, "approval environment"),
        ({"on_failure": "panic"}, "on_failure"),
    ],
)
def test_bad_policy_settings(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(BadInput, match=message) as caught:
        FleetPolicy(batches=(1,), **kwargs)  # type: ignore[arg-type]
    assert caught.value.tip


def test_results_for_strangers_or_odd_outcomes_are_bad_input() -> None:
    plan = plan_waves(fleet(2), FleetPolicy(batches=(1,)))
    policy = FleetPolicy(batches=(1,))
    with pytest.raises(BadInput, match="not in wave 1: web-2"):
        judge_wave(plan[0], {"web-2": "ok"}, policy)
    with pytest.raises(BadInput, match="'success'"):
        judge_wave(plan[0], {"web-1": "success"}, policy)  # type: ignore[dict-item]
    with pytest.raises(BadInput, match="not in the plan: db-1"):
        rollback_targets(plan, {"db-1": "ok"})
