"""Monitor progress for people: redrawn in place on a terminal, plain lines in CI logs.

``render`` is pure (a view in, lines out). ``Progress`` writes them: on a TTY it
redraws the block (phase, elapsed, next poll, each gate against its threshold)
while waiting; elsewhere — GitHub Actions, a file — it prints one plain line
per poll, so logs stay readable and greppable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from dhash_gha.adapters.reporter import Reporter
from dhash_gha.core.gates.engine import GateVerdict
from dhash_gha.core.gates.spec import UNIT_SYMBOLS, format_number

_CLEAR_BLOCK = "\x1b[{n}F\x1b[J"  # cursor up n lines to column 0, clear to the end


@dataclass(frozen=True)
class ProgressView:
    env: str
    run_id: str
    poll: int
    planned_polls: int
    elapsed: float
    duration: float
    phase: str
    next_poll_in: float | None
    verdicts: Sequence[GateVerdict] = ()
    errors: dict[str, str] = field(default_factory=dict)
    poll_at: float = 0.0  # when the latest poll was taken (seconds from the start)


def clock_text(seconds: float) -> str:
    total = max(0, round(seconds))
    return f"{total // 60:02d}:{total % 60:02d}"


def gate_text(verdict: GateVerdict) -> str:
    unit = UNIT_SYMBOLS.get(verdict.unit, verdict.unit)
    value = "no data" if verdict.value is None else f"{format_number(verdict.value)} {unit}"
    return f"{verdict.name} {verdict.status.upper()} {value} (limit > {format_number(verdict.threshold)} {unit})"


def render(view: ProgressView) -> list[str]:
    next_text = "done" if view.next_poll_in is None else f"in {clock_text(view.next_poll_in)}"
    lines = [
        f"monitor {view.env} run {view.run_id}: poll {view.poll}/{view.planned_polls}, "
        f"{view.phase}, elapsed {clock_text(view.elapsed)} of {clock_text(view.duration)}, "
        f"next poll {next_text}"
    ]
    for verdict in view.verdicts:
        marker = {"pass": "ok  ", "fail": "FAIL", "inconclusive": " ?  "}.get(verdict.status, "")
        lines.append(f"  [{marker}] {gate_text(verdict)}")
    for source, reason in sorted(view.errors.items()):
        lines.append(f"  no data from {source}: {reason}")
    return lines


def plain_line(view: ProgressView) -> str:
    gates = "; ".join(gate_text(verdict) for verdict in view.verdicts)
    errors = "".join(f"; {source}: no data" for source in sorted(view.errors))
    return (
        f"[monitor {view.env}] poll {view.poll}/{view.planned_polls} at "
        f"{clock_text(view.poll_at)} ({view.phase}): {gates}{errors}"
    )


class Progress:
    def __init__(self, reporter: Reporter, *, redraw: bool | None = None) -> None:
        self.reporter = reporter
        self.redraw = (
            reporter.is_terminal and not reporter.on_github_actions if redraw is None else redraw
        )
        self._drawn = 0

    def _write(self, text: str) -> None:
        if self.reporter.quiet:
            return
        try:
            self.reporter.stream.write(self.reporter.redact(text))
            self.reporter.stream.flush()
        except (OSError, ValueError):
            pass

    def _draw(self, view: ProgressView) -> None:
        lines = render(view)
        prefix = _CLEAR_BLOCK.format(n=self._drawn) if self._drawn else ""
        self._write(prefix + "\n".join(lines) + "\n")
        self._drawn = len(lines)

    def polled(self, view: ProgressView) -> None:
        if self.redraw:
            self._draw(view)
        else:
            self._write(plain_line(view) + "\n")

    def waiting(self, view: ProgressView) -> None:
        """Called while waiting for the next poll: only a terminal is redrawn."""
        if self.redraw:
            self._draw(view)

    def interrupt(self) -> None:
        """Something else is about to print: keep the drawn block, start below it."""
        self._drawn = 0
