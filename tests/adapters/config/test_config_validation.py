"""The config schemas accept the shipped configs and reject each kind of mistake with its message."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from dhash_gha.adapters.config import (
    ENV_SCHEMA,
    GATES_SCHEMA,
    load_env_config,
    load_gates_config,
    load_schema,
    validate_workspace,
)
from dhash_gha.adapters.workspace import Workspace
from dhash_gha.errors import BadInput, ConfigError

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "dhash-app"


def tree_digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def edit_json(path: Path, change: Callable[[Any], None]) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


@pytest.mark.parametrize("schema", [ENV_SCHEMA, GATES_SCHEMA])
def test_schemas_are_valid_and_identify_themselves(schema: str) -> None:
    loaded = load_schema(schema)
    jsonschema.Draft202012Validator.check_schema(loaded)
    assert loaded["$id"].endswith(schema)
    assert loaded["$schema"].startswith("https://json-schema.org/")


def test_shipped_configs_are_valid() -> None:
    ws = Workspace.at(EXAMPLE)
    assert ws.environments() == ["production", "staging"]
    assert validate_workspace(ws) == []
    for env in ws.environments():
        assert load_env_config(ws, env)["environment"] == env
        data = json.loads(ws.env_config(env).read_text(encoding="utf-8"))
        assert data["$schema"] == load_schema(ENV_SCHEMA)["$id"]


def test_production_gates_are_the_runbooks_exactly() -> None:
    section = load_gates_config(Workspace.at(EXAMPLE), "production")
    assert section["schedule"] == {
        "duration_minutes": 60,
        "phases": [
            {"until_minute": 5, "interval_seconds": 30},
            {"until_minute": 60, "interval_seconds": 120},
        ],
    }
    gates = {g["name"]: g for g in section["gates"]}
    expected = {
        "health_failures": (2, "checks", 300),
        "extraction_failure_rate": (5, "percent", 600),
        "p95_hash_time": (2000, "ms", 900),
        "low_confidence_queue": (1000, "items", 0),
    }
    assert set(gates) == set(expected)
    for name, (threshold, unit, window) in expected.items():
        gate = gates[name]
        assert (gate["threshold"], gate["unit"], gate["window_seconds"]) == (
            threshold,
            unit,
            window,
        )
        assert gate["action"] == "rollback"
        assert gate["min_samples"] >= 1 and gate["no_data"] in {"inconclusive", "breach", "ignore"}
    assert gates["p95_hash_time"]["quantile"] == 0.95


def test_staging_variant_exists_with_every_action_kind() -> None:
    section = load_gates_config(Workspace.at(EXAMPLE), "staging")
    assert {g["action"] for g in section["gates"]} == {"rollback", "alert", "dry-run"}


ENV_MISTAKES: list[tuple[str, Callable[[Any], None], list[str]]] = [
    (
        "wrong type",
        lambda d: d["component"].__setitem__("port", "8780"),
        ["$.component.port", 'expected type "integer"', '"8780"'],
    ),
    ("missing key", lambda d: d.pop("health"), ["$", "'health' is required but missing"]),
    (
        "misspelt key",
        lambda d: d["backup"].__setitem__("exlcude", d["backup"].pop("exclude")),
        ["$.backup.exlcude", "unknown key 'exlcude'", "did you mean 'exclude'?"],
    ),
    (
        "literal webhook url",
        lambda d: d["notifications"]["channels"][0].__setitem__(
            "url", "https://hooks.slack.com/services/T000/B000/XXXX"
        ),
        ["$.notifications.channels[0].url", "literal secret", "url_env"],
    ),
    (
        "secret value in an _env field",
        lambda d: d["notifications"]["channels"][1].__setitem__("secret_env", "s3cr3t-value"),
        ["$.notifications.channels[1].secret_env", "not an environment variable name"],
    ),
    (
        "literal token",
        lambda d: d["notifications"]["channels"][2].__setitem__("token", "ghp_x"),
        ["$.notifications.channels[2].token", "literal secret", "token_env"],
    ),
    (
        "bad enum",
        lambda d: d["component"]["process"].__setitem__("manager", "systemd"),
        ["$.component.process.manager", "expected enum"],
    ),
    (
        "environment mismatch",
        lambda d: d.__setitem__("environment", "staging"),
        ["$.environment", "config/production/", 'set "environment": "production"'],
    ),
    (
        "escaping include",
        lambda d: d["backup"].__setitem__("include", ["../etc"]),
        ["$.backup.include[0]"],
    ),
    (
        "ambiguous band below match",
        lambda d: d["component"]["matching"].__setitem__("ambiguous_distance", 2),
        ["$.component.matching", "ambiguous_distance"],
    ),
]


@pytest.mark.parametrize(
    ("label", "change", "expected"), ENV_MISTAKES, ids=[m[0] for m in ENV_MISTAKES]
)
def test_env_config_mistakes_are_named(
    example_workspace: Path,
    run_cli,
    label: str,
    change: Callable[[Any], None],  # type: ignore[no-untyped-def]
    expected: list[str],
) -> None:
    edit_json(example_workspace / "config" / "production" / "dhash.json", change)
    before = tree_digest(example_workspace)
    code, _out, err = run_cli("--root", str(example_workspace), "config", "validate")
    assert code == 2
    assert "config/production/dhash.json" in err
    for fragment in expected:
        assert fragment in err, f"{fragment!r} not in {err!r}"
    assert tree_digest(example_workspace) == before
    assert not (example_workspace / "logs").exists()
    with pytest.raises(ConfigError):
        load_env_config(Workspace.at(example_workspace), "production")


GATE_MISTAKES: list[tuple[str, Callable[[Any], None], list[str]]] = [
    (
        "threshold as string",
        lambda d: d["environments"]["production"]["gates"][0].__setitem__("threshold", "2"),
        ["$.environments.production.gates[0].threshold"],
    ),
    (
        "unknown action",
        lambda d: d["environments"]["production"]["gates"][1].__setitem__("action", "page"),
        ["$.environments.production.gates[1].action", "expected enum"],
    ),
    (
        "misspelt window",
        lambda d: d["environments"]["production"]["gates"][2].__setitem__("window_secs", 1),
        ["unknown key 'window_secs'", "did you mean 'window_seconds'?"],
    ),
    (
        "ratio without numerator",
        lambda d: d["environments"]["production"]["gates"][1].pop("numerator"),
        ["'numerator' is required but missing"],
    ),
    (
        "phases out of order",
        lambda d: d["environments"]["production"]["schedule"].__setitem__(
            "phases",
            [
                {"until_minute": 60, "interval_seconds": 120},
                {"until_minute": 5, "interval_seconds": 30},
            ],
        ),
        ["increasing until_minute"],
    ),
    (
        "schedule shorter than duration",
        lambda d: d["environments"]["production"]["schedule"]["phases"].__setitem__(
            1, {"until_minute": 30, "interval_seconds": 120}
        ),
        ["ends at minute 30"],
    ),
    (
        "duplicate gate",
        lambda d: d["environments"]["production"]["gates"].append(
            dict(d["environments"]["production"]["gates"][0])
        ),
        ["'health_failures' is used twice"],
    ),
    (
        "bad no-data policy",
        lambda d: d["environments"]["production"]["gates"][0].__setitem__("no_data", "skip"),
        ["no_data", "expected enum"],
    ),
]


@pytest.mark.parametrize(
    ("label", "change", "expected"), GATE_MISTAKES, ids=[m[0] for m in GATE_MISTAKES]
)
def test_gates_config_mistakes_are_named(
    example_workspace: Path,
    run_cli,
    label: str,
    change: Callable[[Any], None],  # type: ignore[no-untyped-def]
    expected: list[str],
) -> None:
    edit_json(example_workspace / "quality-gates-config.json", change)
    code, _out, err = run_cli("--root", str(example_workspace), "config", "validate")
    assert code == 2
    assert "quality-gates-config.json" in err
    for fragment in expected:
        assert fragment in err, f"{fragment!r} not in {err!r}"


def test_malformed_json_names_line_and_column(example_workspace: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    target = example_workspace / "config" / "staging" / "dhash.json"
    target.write_text('{\n  "environment": "staging",\n}\n', encoding="utf-8")
    code, _out, err = run_cli(
        "--root", str(example_workspace), "config", "validate", "--env", "staging"
    )
    assert code == 2
    assert "line 3 column 1" in err and "malformed JSON" in err
    assert "trailing comma" in err


def test_unknown_environment_lists_known_ones(example_workspace: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    code, _out, err = run_cli(
        "--root", str(example_workspace), "config", "validate", "--env", "prod"
    )
    assert code == 2
    assert "unknown environment 'prod'" in err
    assert "production, staging" in err
    assert "did you mean 'production'?" in err


def test_hostile_environment_name_is_refused(example_workspace: Path) -> None:
    with pytest.raises(BadInput, match="invalid environment name"):
        load_env_config(Workspace.at(example_workspace), "../../etc")


def test_missing_gates_file(example_workspace: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    (example_workspace / "quality-gates-config.json").unlink()
    code, _out, err = run_cli("--root", str(example_workspace), "config", "validate")
    assert code == 2
    assert "quality gates configuration not found" in err


def test_environment_without_gates(example_workspace: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    edit_json(
        example_workspace / "quality-gates-config.json", lambda d: d["environments"].pop("staging")
    )
    code, _out, err = run_cli(
        "--root", str(example_workspace), "config", "validate", "--env", "staging"
    )
    assert code == 2
    assert "no gates for environment 'staging'" in err


def test_root_without_config(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    code, _out, err = run_cli("--root", str(tmp_path), "config", "validate")
    assert code == 2
    assert "no environments under" in err
