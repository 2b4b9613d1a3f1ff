"""Terminal, GitHub Actions and event-log output."""

from __future__ import annotations

import io
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from dhash_gha.adapters.reporter import Reporter, logfmt_line
from dhash_gha.core.clock import FakeClock
from dhash_gha.core.gates.sample import Sample, decode_sample, encode_sample, parse_logfmt


def make(environ: dict[str, str]) -> tuple[Reporter, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return Reporter(environ, stream=out, err_stream=err, clock=FakeClock()), out, err


def test_plain_output_outside_actions() -> None:
    reporter, out, err = make({})
    with reporter.group("Backup"):
        reporter.info("made it")
    reporter.warning("careful")
    reporter.error("broken")
    assert out.getvalue() == "== Backup\nmade it\n"
    assert err.getvalue() == "warning: careful\nerror: broken\n"


def test_workflow_commands_on_actions(tmp_path: Path) -> None:
    summary, outputs = tmp_path / "summary.md", tmp_path / "out.txt"
    reporter, out, _err = make(
        {
            "GITHUB_ACTIONS": "true",
            "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_OUTPUT": str(outputs),
        }
    )
    with reporter.group("Deploy"):
        reporter.error("gate p95: 2500 > 2000\nsecond line", title="gate, failed")
    reporter.warning("50% done")
    reporter.summary("| a | b |\n|---|---|")
    reporter.set_output("backup", "line one\nline two")
    text = out.getvalue()
    assert text.startswith("::group::Deploy\n")
    assert "::error title=gate%2C failed::gate p95: 2500 > 2000%0Asecond line\n" in text
    assert "::endgroup::" in text
    assert "::warning::50%25 done" in text
    assert "| a | b |" in summary.read_text(encoding="utf-8")
    lines = outputs.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("backup<<ghadelimiter_")
    assert lines[1:3] == ["line one", "line two"]
    assert lines[3] == lines[0].split("<<", 1)[1]


def test_secrets_are_masked_everywhere(tmp_path: Path) -> None:
    reporter, out, err = make({"GITHUB_ACTIONS": "true"})
    log = reporter.attach_log(tmp_path / "logs" / "x.log")
    reporter.mask("https://hooks.example/T0/B0/s3cret")
    reporter.info("posting to https://hooks.example/T0/B0/s3cret now")
    reporter.error("failed: https://hooks.example/T0/B0/s3cret")
    assert err.getvalue().startswith("::add-mask::https://hooks.example/T0/B0/s3cret\n")
    rest = err.getvalue().split("\n", 1)[1]
    assert "s3cret" not in rest and "s3cret" not in out.getvalue()
    assert "s3cret" not in log.read_text(encoding="utf-8")


def test_event_log_lines_are_greppable_key_values(tmp_path: Path) -> None:
    reporter, _out, _err = make({})
    log = reporter.attach_log(tmp_path / "logs" / "deploy_production_20260101_000000.log")
    reporter.event("health", ok=True, hash_time=12.5, detail="HTTP 200 (ok)")
    line = log.read_text(encoding="utf-8").strip()
    assert line == (
        "ts=2026-01-01T00:00:00Z level=INFO event=health ok=true hash_time=12.5 "
        'detail="HTTP 200 (ok)"'
    )
    assert parse_logfmt(line)["detail"] == "HTTP 200 (ok)"


@given(
    st.dictionaries(
        st.from_regex(r"[a-z][a-z0-9_.:]{0,10}", fullmatch=True),
        st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30),
        max_size=6,
    )
)
def test_logfmt_round_trip(fields: dict[str, str]) -> None:
    assert parse_logfmt(logfmt_line(fields)) == fields


@given(
    st.floats(min_value=0, max_value=1e6, allow_nan=False),
    st.dictionaries(
        st.sampled_from(["health_ok", "queue_items", "x_bucket:0.5", "x_bucket:+Inf", "gate:p95"]),
        st.floats(allow_nan=False, allow_infinity=False),
        max_size=5,
    ),
    st.dictionaries(st.sampled_from(["metrics", "health"]), st.text(max_size=20), max_size=2),
)
def test_sample_round_trip_through_a_log_line(
    at: float, values: dict[str, float], errors: dict[str, str]
) -> None:
    sample = Sample(at=round(at, 3), values=values, errors=errors)
    line = logfmt_line({"event": "poll", **encode_sample(sample)})
    decoded = decode_sample(parse_logfmt(line))
    assert decoded == sample
