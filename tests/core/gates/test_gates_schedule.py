"""The monitoring schedule: deterministic poll times, phase boundaries, resume."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dhash_gha.core.gates.schedule import Schedule
from dhash_gha.errors import ConfigError

PRODUCTION = {
    "duration_minutes": 60,
    "phases": [
        {"until_minute": 5, "interval_seconds": 30},
        {"until_minute": 60, "interval_seconds": 120},
    ],
}


def test_production_schedule_polls_every_30s_then_every_2min() -> None:
    times = Schedule.from_config(PRODUCTION).poll_times()
    assert times[:11] == [30.0 * i for i in range(11)]  # 0 … 300
    assert times[11:13] == [420.0, 540.0]
    assert times[-2:] == [3540.0, 3600.0]
    assert len(times) == 39
    assert times == sorted(set(times))


def test_poll_on_phase_boundary_uses_next_phase_interval() -> None:
    schedule = Schedule.from_config(PRODUCTION)
    assert schedule.interval_at(299.9) == 30
    assert schedule.interval_at(300) == 120
    assert schedule.interval_at(10_000) == 120  # past the end: the last phase


def test_last_poll_is_clamped_to_the_duration() -> None:
    schedule = Schedule.from_config(
        {"duration_minutes": 1, "phases": [{"until_minute": 1, "interval_seconds": 25}]}
    )
    assert schedule.poll_times() == [0.0, 25.0, 50.0, 60.0]


def test_resume_finds_the_next_poll() -> None:
    schedule = Schedule.from_config(PRODUCTION)
    assert schedule.next_poll(0) == 0
    assert schedule.next_poll(31) == 60
    assert schedule.next_poll(300) == 300
    assert schedule.next_poll(301) == 420
    assert schedule.next_poll(3600) == 3600
    assert schedule.next_poll(3600.5) is None
    assert schedule.polls_done_by(301) == 11


def test_with_duration_shortens_and_extends() -> None:
    schedule = Schedule.from_config(PRODUCTION)
    assert schedule.with_duration(2).poll_times()[-1] == 120
    longer = schedule.with_duration(70).poll_times()
    assert longer[-1] == 4200 and longer[-2] == 4140
    with pytest.raises(ConfigError, match="not positive"):
        schedule.with_duration(0)


def test_fractional_intervals_do_not_drift() -> None:
    schedule = Schedule.from_config(
        {"duration_minutes": 1, "phases": [{"until_minute": 1, "interval_seconds": 0.1 + 0.2}]}
    )
    times = schedule.poll_times()
    assert times[-1] == 60.0 and len(times) == 201


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"duration_minutes": 60}, "malformed"),
        (
            {"duration_minutes": 0, "phases": [{"until_minute": 1, "interval_seconds": 1}]},
            "positive",
        ),
        ({"duration_minutes": 5, "phases": []}, "no phases"),
        (
            {
                "duration_minutes": 5,
                "phases": [
                    {"until_minute": 5, "interval_seconds": 30},
                    {"until_minute": 2, "interval_seconds": 30},
                ],
            },
            "increasing",
        ),
        (
            {"duration_minutes": 5, "phases": [{"until_minute": 5, "interval_seconds": 0}]},
            "positive",
        ),
    ],
)
def test_bad_schedules_are_config_errors(config: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Schedule.from_config(config)


def test_describe_reads_like_the_runbook() -> None:
    assert Schedule.from_config(PRODUCTION).describe() == [
        "every 30 s from minute 0 to minute 5",
        "every 120 s from minute 5 to minute 60",
    ]


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    ends = sorted(set(draw(st.lists(st.integers(1, 90), min_size=1, max_size=4))))
    phases = [
        {"until_minute": end, "interval_seconds": draw(st.sampled_from([1, 7.5, 30, 45, 120]))}
        for end in ends
    ]
    duration = draw(st.integers(1, ends[-1]))
    return Schedule.from_config({"duration_minutes": duration, "phases": phases})


@settings(max_examples=200, deadline=None)
@given(schedules(), st.floats(0, 6000))
def test_schedule_properties(schedule: Schedule, elapsed: float) -> None:
    times = schedule.poll_times()
    assert times[0] == 0 and times[-1] == schedule.duration_seconds
    for before, after in itertools.pairwise(times):
        gap = after - before
        # each gap is the interval in effect at the earlier poll, except the clamped last one
        assert gap == pytest.approx(schedule.interval_at(before)) or after == times[-1]
        assert 0 < gap <= schedule.interval_at(before) + 1e-6
    nxt = schedule.next_poll(elapsed)
    if nxt is None:
        assert elapsed > times[-1]
    else:
        assert nxt >= round(elapsed, 6) and nxt in times
        assert all(t < round(elapsed, 6) for t in times if t < nxt)
    assert schedule.polls_done_by(elapsed) == sum(1 for t in times if t <= round(elapsed, 6))
