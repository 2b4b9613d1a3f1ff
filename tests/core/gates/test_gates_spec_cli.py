"""Gate specs from config (and their semantic checks); `gates validate` and `gates show`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dhash_gha.core.gates.spec import GateSpec, gates_sha256, load_gate_specs
from dhash_gha.errors import ConfigError

CliRunner = Callable[..., tuple[int, str, str]]

QUEUE: dict[str, Any] = {
    "name": "low_confidence_queue",
    "kind": "gauge",
    "source": "queue_files",
    "threshold": 1000,
    "unit": "items",
    "window_seconds": 0,
    "action": "rollback",
    "min_samples": 1,
    "no_data": "inconclusive",
}


def test_from_config_reads_every_field() -> None:
    spec = GateSpec.from_config({**QUEUE, "baseline": "relative", "description": "d"})
    assert spec.threshold == 1000.0 and spec.window_seconds == 0.0
    assert spec.relative_to_baseline and spec.value_key == "queue_items"
    assert spec.describe_threshold() == "> 1000 items"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"source": "health"}, "source 'health' cannot feed a gauge gate"),
        ({"window_seconds": 0, "min_samples": 3}, "min_samples 3 can never be met"),
        ({"source": "metrics"}, "needs 'metric'"),
        ({"source": "prometheus"}, "needs a 'promql' expression"),
        (
            {
                "kind": "counter_ratio",
                "source": "metrics",
                "unit": "percent",
                "window_seconds": 600,
                "min_samples": 2,
            },
            "needs 'numerator' and 'denominator'",
        ),
        (
            {
                "kind": "counter_ratio",
                "source": "metrics",
                "unit": "percent",
                "window_seconds": 600,
                "numerator": "a",
                "denominator": "b",
                "min_samples": 1,
            },
            "at least 2 samples",
        ),
        (
            {
                "kind": "histogram_quantile",
                "source": "metrics",
                "unit": "items",
                "window_seconds": 60,
                "metric": "h",
                "quantile": 0.95,
            },
            "measured in 'ms'",
        ),
        ({"kind": "consecutive_failures", "source": "health", "unit": "checks"}, "needs a window"),
        ({"threshold": "lots"}, "could not convert"),
    ],
)
def test_semantic_problems_are_config_errors(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        GateSpec.from_config({**QUEUE, **changes})
    assert "low_confidence_queue" in caught.value.message


def test_missing_key_names_it() -> None:
    data = dict(QUEUE)
    del data["threshold"]
    with pytest.raises(ConfigError, match="'threshold' is missing"):
        GateSpec.from_config(data)


def test_load_gate_specs_refuses_duplicates_and_empty() -> None:
    with pytest.raises(ConfigError, match="used twice"):
        load_gate_specs({"gates": [QUEUE, QUEUE]})
    with pytest.raises(ConfigError, match="no 'gates' list"):
        load_gate_specs({"gates": []})


def test_gates_sha256_ignores_key_order() -> None:
    assert gates_sha256({"a": 1, "b": [1, 2]}) == gates_sha256({"b": [1, 2], "a": 1})
    assert gates_sha256({"a": 1}) != gates_sha256({"a": 2})


# --- the commands --------------------------------------------------------------------------
def edit_gates(ws: Path, change: Callable[[dict[str, Any]], None]) -> None:
    path = ws / "quality-gates-config.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")


def test_validate_example_workspace(example_workspace: Path, run_cli: CliRunner) -> None:
    code, out, _ = run_cli("--root", str(example_workspace), "gates", "validate")
    assert code == 0 and "is valid (every environment)" in out
    code, out, _ = run_cli(
        "--root", str(example_workspace), "gates", "validate", "--env", "staging"
    )
    assert code == 0 and "environment 'staging'" in out


def test_validate_reports_every_semantic_problem(
    example_workspace: Path, run_cli: CliRunner
) -> None:
    def break_it(data: dict[str, Any]) -> None:
        gates = data["environments"]["production"]["gates"]
        gates[3]["min_samples"] = 4  # window 0: never enough samples
        gates[0]["source"] = "queue_files"  # cannot feed consecutive_failures

    edit_gates(example_workspace, break_it)
    code, _, err = run_cli("--root", str(example_workspace), "gates", "validate")
    assert code == 2
    assert "$.environments.production.gates[3]" in err and "can never be met" in err
    assert "$.environments.production.gates[0]" in err and "cannot feed" in err
    assert "2 problem(s) in quality-gates-config.json" in err


def test_validate_schema_errors_with_did_you_mean(
    example_workspace: Path, run_cli: CliRunner
) -> None:
    edit_gates(
        example_workspace, lambda d: d["environments"]["production"]["gates"][0].update(treshold=3)
    )
    code, _, err = run_cli("--root", str(example_workspace), "gates", "validate")
    assert code == 2 and "did you mean 'threshold'" in err


def test_validate_environment_without_gates(example_workspace: Path, run_cli: CliRunner) -> None:
    edit_gates(example_workspace, lambda d: d["environments"].pop("staging"))
    code, _, err = run_cli("--root", str(example_workspace), "gates", "validate")
    assert code == 2 and "environment 'staging' (config/staging/) has no gates" in err


def test_validate_candidate_file(
    example_workspace: Path, tmp_path: Path, run_cli: CliRunner
) -> None:
    candidate = tmp_path / "candidate.json"
    candidate.write_text("{", encoding="utf-8")
    code, _, err = run_cli(
        "--root", str(example_workspace), "gates", "validate", "--config", str(candidate)
    )
    assert code == 2 and "malformed JSON" in err


def test_show_table(example_workspace: Path, run_cli: CliRunner) -> None:
    code, out, _ = run_cli("--root", str(example_workspace), "gates", "show", "--env", "production")
    assert code == 0
    row = next(line for line in out.splitlines() if line.startswith("p95_hash_time"))
    for cell in ("histogram_quantile", "> 2000 ms", "15 min", "rollback", "inconclusive"):
        assert cell in row
    assert "every 30 s from minute 0 to minute 5" in out and "39 polls" in out


def test_show_json(example_workspace: Path, run_cli: CliRunner) -> None:
    code, out, _ = run_cli(
        "--root", str(example_workspace), "gates", "show", "--env", "staging", "--json"
    )
    data = json.loads(out)
    assert code == 0 and data["environment"] == "staging"
    assert {g["name"]: g["action"] for g in data["gates"]}["low_confidence_queue"] == "dry-run"
    assert data["schedule"]["poll_times"][-1] == 1800


def test_show_unknown_environment(example_workspace: Path, run_cli: CliRunner) -> None:
    code, _, err = run_cli("--root", str(example_workspace), "gates", "show", "--env", "prod")
    assert code == 2 and "unknown environment 'prod'" in err and "did you mean 'production'" in err
    code, _, err = run_cli("--root", str(example_workspace), "gates", "replay", "--env", "stagin")
    assert code == 2 and "did you mean 'staging'" in err
    code, _, err = run_cli("--root", str(example_workspace), "gates", "show", "--env", "../x")
    assert code == 2 and "invalid environment name" in err


def test_show_environment_without_gates(example_workspace: Path, run_cli: CliRunner) -> None:
    edit_gates(example_workspace, lambda d: d["environments"].pop("staging"))
    code, _, err = run_cli("--root", str(example_workspace), "gates", "show", "--env", "staging")
    assert code == 2 and "no gates for environment 'staging'" in err


def test_validate_without_gates_file(example_workspace: Path, run_cli: CliRunner) -> None:
    (example_workspace / "quality-gates-config.json").unlink()
    code, _, err = run_cli("--root", str(example_workspace), "gates", "validate")
    assert code == 2 and "quality gates configuration not found" in err


def test_validate_one_environment_ignores_the_others(
    example_workspace: Path, run_cli: CliRunner
) -> None:
    edit_gates(
        example_workspace,
        lambda d: d["environments"]["staging"]["gates"][3].update(min_samples=5),
    )
    code, _, _ = run_cli(
        "--root", str(example_workspace), "gates", "validate", "--env", "production"
    )
    assert code == 0
    code, _, err = run_cli(
        "--root", str(example_workspace), "gates", "validate", "--env", "staging"
    )
    assert code == 2 and "$.environments.staging.gates[3]" in err
