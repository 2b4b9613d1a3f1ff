"""Deciding what a hash is, given its nearest known neighbour (pure logic).

``distance <= match_distance`` → match; ``distance <= ambiguous_distance`` →
low-confidence (queued for human review); otherwise (or with an empty
library) the media is new and is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Verdict = Literal["match", "low_confidence", "new"]


@dataclass(frozen=True)
class Thresholds:
    match_distance: int = 8
    ambiguous_distance: int = 16

    def __post_init__(self) -> None:
        if not 0 <= self.match_distance <= self.ambiguous_distance <= 64:
            raise ValueError(
                "matching thresholds need 0 <= match_distance <= ambiguous_distance <= 64, got "
                f"match_distance={self.match_distance}, ambiguous_distance={self.ambiguous_distance}"
            )


def classify(distance: int | None, thresholds: Thresholds) -> Verdict:
    """The verdict for the nearest distance (None: the library is empty)."""
    if distance is None:
        return "new"
    if distance <= thresholds.match_distance:
        return "match"
    if distance <= thresholds.ambiguous_distance:
        return "low_confidence"
    return "new"
