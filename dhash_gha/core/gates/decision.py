"""What the monitor does about one poll's verdicts. Pure: the effects live in ``responses``.

* A failing gate with action ``rollback`` rolls back at once — unless the monitor
  runs with ``--no-rollback``, when it is notified like an alert.
* A gate with action ``alert`` is notified when it starts failing, not at every
  poll it keeps failing; it is notified again if it recovers and fails again.
* A gate with action ``dry-run`` is logged "would have rolled back" on the same
  transitions, and changes nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from dhash_gha.core.gates.engine import GateVerdict


@dataclass(frozen=True)
class Decision:
    rollback: tuple[GateVerdict, ...]
    notify: tuple[GateVerdict, ...]
    would_roll_back: tuple[GateVerdict, ...]
    failing: tuple[str, ...]  # every gate failing after this poll, in gate order

    @property
    def rolls_back(self) -> bool:
        return bool(self.rollback)


def decide(
    verdicts: Sequence[GateVerdict], already_failing: Collection[str], *, no_rollback: bool
) -> Decision:
    rollback: list[GateVerdict] = []
    notify: list[GateVerdict] = []
    would: list[GateVerdict] = []
    failing = tuple(v.name for v in verdicts if v.status == "fail")
    for verdict in verdicts:
        if verdict.status != "fail":
            continue
        new = verdict.name not in already_failing
        if verdict.action == "rollback" and not no_rollback:
            rollback.append(verdict)
        elif verdict.action in ("rollback", "alert"):
            if new:
                notify.append(verdict)
        elif new:
            would.append(verdict)
    return Decision(tuple(rollback), tuple(notify), tuple(would), failing)
