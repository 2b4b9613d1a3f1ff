"""Fleet waves as policy: which hosts get the release in which wave, and when to stop. Pure.

Rules, defined here once:

* **Batches** follow Ansible's ``serial`` list: ``[1, 5, "20%"]`` means a first
  wave of 1 host, then 5, then 20 % of the fleet, the **last entry repeating**
  until every host is covered; the last wave takes what is left. Hosts keep the
  order given (Ansible's default ``order: inventory``), each in exactly one wave.
* A **percentage** is of the whole fleet (as Ansible: of all the play's hosts,
  not of those left), **rounded up**, at least 1: "20%" of 12 hosts is 3 (2.4 up).
  Ansible rounds down (``int(pct / 100 × hosts) or 1``: 2 here); CodeDeploy's
  FLEET_PERCENT is a minimum of *healthy* hosts rounded up, so its batches round
  down. Computed exactly from the decimal written ("7%" of 100 is 7, not 8).
* ``bake_seconds`` and ``approvals`` may be one value or a list, with the
  same last-entry-repeats rule: the bake is how long a wave is watched before the
  next starts; an approval names the GitHub environment whose reviewers must
  approve before that wave starts (None: no approval).
* **Failure**: a host counts as failed when it reported ``failed`` or reported
  nothing. A wave stops the rollout when its failed share *exceeds*
  ``max_fail_percent`` of the hosts **in that wave** (Ansible: failed ÷ batch
  size > max_fail_percentage; "must be exceeded, not equalled": with 4 hosts a
  wave, 49 stops at 2 failures, 50 does not), or when every host of the wave
  failed (Ansible stops then too, whatever the percentage). The default 0 stops
  at the first failed host.
* On a stop, ``on_failure`` says what follows: ``halt`` (the rollout stops; the
  hosts on the new release stay on it) or ``rollback-fleet`` (every host already
  on the new release rolls back: ``rollback_targets``).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

from dhash_gha.errors import BadInput

Batch = int | str
FailurePolicy = Literal["halt", "rollback-fleet"]
HostOutcome = Literal["ok", "failed"]
FAILURE_POLICIES: tuple[FailurePolicy, ...] = ("halt", "rollback-fleet")
HOST_OUTCOMES: tuple[HostOutcome, ...] = ("ok", "failed")
GITHUB_MATRIX_LIMIT = 256  # jobs a matrix may generate per workflow run
GITHUB_ENVIRONMENT_NAME_LIMIT = 255
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)%")


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _percent(value: float) -> Fraction:
    return Fraction(repr(float(value)))  # the decimal as written


# --- the policy --------------------------------------------------------------------------------
@dataclass(frozen=True)
class FleetPolicy:
    """How a fleet is rolled out; each list's last entry repeats for the waves after it."""

    batches: Sequence[Batch]
    bake_seconds: float | Sequence[float] = 0.0
    max_fail_percent: float = 0.0
    approvals: str | Sequence[str | None] | None = None
    on_failure: FailurePolicy = "halt"

    def __post_init__(self) -> None:
        if not isinstance(self.batches, (list, tuple)) or not self.batches:
            raise BadInput(
                f"fleet: batches {self.batches!r} is not a non-empty list",
                tip='give the wave sizes as a list, e.g. [1, 5, "20%"]',
            )
        for batch in self.batches:
            _check_batch(batch)
        if not _as_list(self.bake_seconds):
            raise BadInput(
                "fleet: bake times is an empty list",
                tip="give one bake time for every wave (e.g. 600), or one per wave",
            )
        for bake in _as_list(self.bake_seconds):
            if not (_is_number(bake) and bake >= 0):
                raise BadInput(
                    f"fleet: bake time {bake!r} is not a number of seconds >= 0",
                    tip="give how long each wave is watched, e.g. 600 for 10 min",
                )
        if not (_is_number(self.max_fail_percent) and 0 <= self.max_fail_percent <= 100):
            raise BadInput(
                f"fleet: max_fail_percent {self.max_fail_percent!r} is not between 0 and 100",
                tip="0 stops at the first failed host; the share must be exceeded to stop",
            )
        for approval in _as_list(self.approvals):
            if approval is not None and not (
                isinstance(approval, str)
                and approval.strip() == approval
                and 0 < len(approval) <= GITHUB_ENVIRONMENT_NAME_LIMIT
            ):
                raise BadInput(
                    f"fleet: approval environment {approval!r} is not a GitHub environment name",
                    tip="name an environment with required reviewers (1-255 characters), or null",
                )
        if self.on_failure not in FAILURE_POLICIES:
            raise BadInput(
                f"fleet: on_failure {self.on_failure!r} is not one of {', '.join(FAILURE_POLICIES)}",
                tip='"halt" stops the rollout; "rollback-fleet" also rolls back every updated host',
            )

    def bake_for(self, index: int) -> float:
        """The bake time of the wave at ``index`` (0-based)."""
        return float(_nth(_as_list(self.bake_seconds), index))

    def approval_for(self, index: int) -> str | None:
        """The environment to approve before the wave at ``index`` starts; None: no approval."""
        approvals = _as_list(self.approvals)
        return _nth(approvals, index) if approvals else None


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _nth(values: Sequence[Any], index: int) -> Any:
    """The entry at ``index``, the last one repeating past the end."""
    return values[min(index, len(values) - 1)]


def _check_batch(batch: object) -> None:
    if isinstance(batch, bool) or not isinstance(batch, (int, str)):
        raise BadInput(
            f"fleet: batch {batch!r} is neither a number of hosts nor a percentage",
            tip='give whole numbers of hosts or percentages of the fleet, e.g. [1, 5, "20%"]',
        )
    if isinstance(batch, int):
        if batch < 1:
            raise BadInput(
                f"fleet: batch {batch} has no hosts",
                tip="every wave needs at least 1 host; leave the entry out instead",
            )
        return
    match = _PERCENT.fullmatch(batch.strip())
    if not match:
        raise BadInput(
            f"fleet: batch {batch!r} is not a percentage like '20%'",
            tip='write a percentage of the fleet as "20%", or a whole number of hosts',
        )
    share = Fraction(match.group(1))
    if not 0 < share <= 100:
        raise BadInput(
            f"fleet: batch {batch!r} is not a share between 0 % (excluded) and 100 %",
            tip='a wave holds at most the whole fleet: "100%"',
        )


def batch_size(batch: Batch, fleet_size: int) -> int:
    """Hosts in a wave of ``batch``: a count as is, a percentage of the fleet rounded up, >= 1."""
    _check_batch(batch)
    if isinstance(batch, int):
        return batch
    share = Fraction(batch.strip()[:-1])
    return max(1, math.ceil(share * fleet_size / 100))


# --- planning ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Wave:
    number: int  # 1-based
    hosts: tuple[str, ...]
    bake_seconds: float
    approval: str | None  # environment to approve before this wave starts


def plan_waves(hosts: Sequence[str], policy: FleetPolicy) -> list[Wave]:
    """The waves, in order: every host in exactly one, sizes by the batch list."""
    names = _checked_hosts(hosts)
    waves: list[Wave] = []
    start = 0
    while start < len(names):
        index = len(waves)
        size = batch_size(_nth(policy.batches, index), len(names))
        waves.append(
            Wave(
                number=index + 1,
                hosts=tuple(names[start : start + size]),
                bake_seconds=policy.bake_for(index),
                approval=policy.approval_for(index),
            )
        )
        start += size
    return waves


def _checked_hosts(hosts: Sequence[str]) -> list[str]:
    if isinstance(hosts, str):
        raise BadInput(
            f"fleet: hosts {hosts!r} is one string, not a list of hosts",
            tip='give a list, e.g. ["web-1", "web-2"]',
        )
    names = list(hosts)
    if not names:
        raise BadInput("fleet: no hosts to deploy to", tip="list the fleet's hosts")
    bad = [h for h in names if not isinstance(h, str) or not h.strip() or h.strip() != h]
    if bad:
        raise BadInput(
            f"fleet: host names {bad!r} are empty or have surrounding spaces",
            tip="give each host its name, without spaces around it",
        )
    repeated = sorted(h for h, count in Counter(names).items() if count > 1)
    if repeated:
        raise BadInput(
            f"fleet: hosts listed more than once: {', '.join(repeated)}",
            tip="list each host once; a host deployed twice in one rollout is a mistake",
        )
    return names


# --- judging a wave ------------------------------------------------------------------------------
@dataclass(frozen=True)
class WaveVerdict:
    wave: int
    status: Literal["pass", "stop"]
    action: Literal["continue", "halt", "rollback-fleet"]
    failed: tuple[str, ...]  # reported failed or not reported, in wave order
    unreported: tuple[str, ...]  # the failed hosts that reported nothing
    failed_percent: float
    max_fail_percent: float
    reason: str

    @property
    def stops(self) -> bool:
        return self.status == "stop"


def judge_wave(wave: Wave, results: Mapping[str, HostOutcome], policy: FleetPolicy) -> WaveVerdict:
    """Whether the rollout goes on after ``wave``, from each host's outcome."""
    _check_results(results, set(wave.hosts), f"wave {wave.number}")
    unreported = tuple(h for h in wave.hosts if h not in results)
    failed = tuple(h for h in wave.hosts if results.get(h, "failed") == "failed")
    size = len(wave.hosts)
    limit = _percent(policy.max_fail_percent)
    exceeded = Fraction(100 * len(failed), size) > limit
    everyone = len(failed) == size
    share = f"{len(failed)} of {size} hosts failed ({100 * len(failed) / size:.4g} %)"
    names = ""
    if failed:
        names = ": " + ", ".join(f"{h} (no result)" if h in unreported else h for h in failed)
    if exceeded or everyone:
        why = (
            f"more than max_fail_percent {policy.max_fail_percent:g} %"
            if exceeded
            else "every host of the wave"
        )
        then = {
            "halt": "the rollout halts",
            "rollback-fleet": "every host on the new release rolls back",
        }[policy.on_failure]
        reason = f"wave {wave.number}: {share}{names}; {why}: {then}"
        return WaveVerdict(
            wave.number,
            "stop",
            policy.on_failure,
            failed,
            unreported,
            100 * len(failed) / size,
            policy.max_fail_percent,
            reason,
        )
    reason = (
        f"wave {wave.number}: {share}{names}; not more than max_fail_percent "
        f"{policy.max_fail_percent:g} %: the rollout continues"
    )
    return WaveVerdict(
        wave.number,
        "pass",
        "continue",
        failed,
        unreported,
        100 * len(failed) / size,
        policy.max_fail_percent,
        reason,
    )


def _check_results(results: Mapping[str, str], allowed: set[str], where: str) -> None:
    strangers = sorted(h for h in results if h not in allowed)
    if strangers:
        raise BadInput(
            f"fleet: results for hosts not in {where}: {', '.join(strangers)}",
            tip="pass the outcomes of this plan's hosts only",
        )
    odd = sorted(f"{h}={v!r}" for h, v in results.items() if v not in HOST_OUTCOMES)
    if odd:
        raise BadInput(
            f"fleet: outcomes {', '.join(odd)} are not one of {', '.join(HOST_OUTCOMES)}",
            tip='report each host as "ok" or "failed"',
        )


def rollback_targets(plan: Sequence[Wave], results_so_far: Mapping[str, HostOutcome]) -> list[str]:
    """The hosts already on the new release, in plan order: every host with an outcome.

    Failed hosts are included (the rollback of a host the monitor already rolled
    back restores the same backup again). A host without an outcome is left out:
    it may never have received the release, and rolling it back would restore an
    older backup; ``judge_wave`` names it as unreported for the operator.
    """
    _check_results(results_so_far, {h for wave in plan for h in wave.hosts}, "the plan")
    return [h for wave in plan for h in wave.hosts if h in results_so_far]


# --- for GitHub Actions --------------------------------------------------------------------------
def matrix(waves: Sequence[Wave]) -> dict[str, list[dict[str, str | int]]]:
    """``{"include": [{"host": …, "wave": …}, …]}`` for ``strategy.matrix`` (one wave or all)."""
    include: list[dict[str, str | int]] = [
        {"host": host, "wave": wave.number} for wave in waves for host in wave.hosts
    ]
    if len(include) > GITHUB_MATRIX_LIMIT:
        raise BadInput(
            f"fleet: {len(include)} hosts in one matrix; GitHub Actions runs at most "
            f"{GITHUB_MATRIX_LIMIT} jobs per matrix",
            tip="give each wave its own matrix, with waves of at most 256 hosts",
        )
    return {"include": include}


def plan_as_json(plan: Sequence[Wave], policy: FleetPolicy) -> dict[str, Any]:
    """The plan as JSON-friendly data, for a workflow's outputs and the operator's log."""
    return {
        "hosts": sum(len(wave.hosts) for wave in plan),
        "max_fail_percent": policy.max_fail_percent,
        "on_failure": policy.on_failure,
        "waves": [
            {
                "wave": wave.number,
                "hosts": list(wave.hosts),
                "bake_seconds": wave.bake_seconds,
                "approval": wave.approval,
            }
            for wave in plan
        ],
    }
