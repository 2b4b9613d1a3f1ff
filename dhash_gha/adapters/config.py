"""Loading and validating the workspace's configuration files.

Each error names the file, the JSON path, what was expected, and — for a
misspelt key — the key that was probably meant. jsonschema is imported only
when validating, so commands that never read config stay fast.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from dhash_gha.adapters.reporter import Reporter
from dhash_gha.adapters.workspace import Workspace, check_env_name
from dhash_gha.core.strict_json import StrictJsonError, loads_strict
from dhash_gha.errors import ConfigError

ENV_SCHEMA = "dhash-config.schema.json"
GATES_SCHEMA = "quality-gates-config.schema.json"
# Keys that would hold a literal secret: point the operator at the *_env form instead.
_SECRET_KEYS = {
    "url": "url_env",
    "webhook_url": "url_env",
    "webhook": "url_env",
    "secret": "secret_env",
    "token": "token_env",
    "password": "secret_env",
}


def _strict_json_tip(problem: str) -> str:
    """The fix for a value strict JSON refused (see dhash_gha.core.strict_json)."""
    if "duplicate key" in problem:
        return "remove the duplicate key: JSON keeps only the last one, silently"
    if "nested deeper" in problem:
        return "flatten the file: no configuration is nested that deeply"
    return "write a finite number: NaN, Infinity and out-of-range numbers are not JSON"


@dataclass(frozen=True)
class ConfigIssue:
    file: str
    path: str
    message: str
    tip: str | None = None

    def __str__(self) -> str:
        text = f"{self.file}: {self.path}: {self.message}"
        return f"{text} ({self.tip})" if self.tip else text


@cache
def load_schema(name: str) -> dict[str, Any]:
    text = resources.files("dhash_gha.schemas").joinpath(name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def read_json(path: Path, what: str) -> Any:
    """Parse a JSON file; a missing or malformed file is a ConfigError naming line and column."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{what} not found: {path}", tip=f"create {path.name} (see README)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc}") from None
    try:
        return loads_strict(text, source=str(path))
    except StrictJsonError as exc:
        if not exc.problem.startswith("is not JSON"):
            # NaN, Infinity or 1e400 would pass every `<` check and switch a gate off; a second
            # key of the same name would silently replace the first section.
            raise ConfigError(
                f"{path}: {exc.path}: {exc.problem.removeprefix('holds ')}",
                tip=_strict_json_tip(exc.problem),
            ) from None
    try:
        json.loads(text)  # only to name the syntax error's line and column
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path}: line {exc.lineno} column {exc.colno}: malformed JSON: {exc.msg}",
            tip="fix the JSON syntax (a trailing comma or a missing quote is the usual cause)",
        ) from None
    raise ConfigError(f"{path}: malformed JSON", tip="fix the JSON syntax")


def _json_path(parts: Any) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _known_properties(schema: dict[str, Any]) -> list[str]:
    names = list(schema.get("properties", {}))
    for sub in schema.get("allOf", []):
        names += list(sub.get("then", {}).get("properties", {}))
    return names


def schema_issues(instance: Any, schema_name: str, file_label: str) -> list[ConfigIssue]:
    """Validate ``instance`` against a bundled schema; one ConfigIssue per problem."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(load_schema(schema_name))
    issues: list[ConfigIssue] = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path)):
        path = _json_path(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = _known_properties(error.schema) or list(error.schema.get("properties", {}))
            for key in sorted(set(error.instance) - set(allowed)):
                issues.append(_unknown_key(file_label, path, key, allowed))
            continue
        issues.append(ConfigIssue(file_label, path, _describe(error)))
    return issues


def _unknown_key(file_label: str, path: str, key: str, allowed: list[str]) -> ConfigIssue:
    if key in _SECRET_KEYS and _SECRET_KEYS[key] in allowed:
        return ConfigIssue(
            file_label,
            f"{path}.{key}",
            "a literal secret (webhook URL or token) is not allowed in config",
            f"put the value in an environment variable and name it: "
            f'"{_SECRET_KEYS[key]}": "MY_VARIABLE"',
        )
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    tip = f"did you mean '{close[0]}'?" if close else f"allowed keys: {', '.join(sorted(allowed))}"
    return ConfigIssue(file_label, f"{path}.{key}", f"unknown key '{key}'", tip)


def _describe(error: Any) -> str:
    if error.validator == "required":
        return str(error.message).replace("is a required property", "is required but missing")
    if error.validator in ("type", "enum", "const"):
        expected = error.validator_value
        return (
            f"expected {error.validator} {json.dumps(expected)}, found {json.dumps(error.instance)}"
        )
    if error.validator == "pattern" and str(error.validator_value).startswith("^[A-Z_]"):
        return (
            f"{json.dumps(error.instance)} is not an environment variable name: give the NAME of "
            "the variable holding the secret (e.g. DHASH_SLACK_WEBHOOK_URL), never the secret"
        )
    return str(error.message)


def _unknown_environment(ws: Workspace, env: str, known: list[str]) -> ConfigError:
    close = difflib.get_close_matches(env, known, n=1, cutoff=0.5)
    hint = f"did you mean '{close[0]}'? " if close else ""
    listing = ", ".join(known) if known else "none (config/ has no environment directory)"
    return ConfigError(
        f"unknown environment '{env}': known environments are {listing}",
        tip=f"{hint}create config/{env}/dhash.json to add it",
    )


def _relative(ws: Workspace, path: Path) -> str:
    try:
        return path.relative_to(ws.root).as_posix()
    except ValueError:
        return str(path)


def env_config_issues(ws: Workspace, env: str) -> list[ConfigIssue]:
    path = ws.env_config(env)
    label = _relative(ws, path)
    data = read_json(path, f"configuration of environment '{env}'")
    issues = schema_issues(data, ENV_SCHEMA, label)
    if isinstance(data, dict) and data.get("environment") not in (None, env):
        issues.append(
            ConfigIssue(
                label,
                "$.environment",
                f"says {data.get('environment')!r} but the file is under config/{env}/",
                f'set "environment": "{env}"',
            )
        )
    matching = data.get("component", {}).get("matching", {}) if isinstance(data, dict) else {}
    if isinstance(matching, dict) and matching.get("ambiguous_distance", 64) < matching.get(
        "match_distance", 0
    ):
        issues.append(
            ConfigIssue(
                label,
                "$.component.matching",
                "ambiguous_distance is smaller than match_distance",
                "the ambiguous band lies above the match distance: raise ambiguous_distance",
            )
        )
    return issues


def gates_config_issues(path: Path, label: str, env: str | None) -> list[ConfigIssue]:
    data = read_json(path, "quality gates configuration")
    issues = schema_issues(data, GATES_SCHEMA, label)
    if issues or not isinstance(data, dict):
        return issues
    environments: dict[str, Any] = data["environments"]
    if env is not None and env not in environments:
        issues.append(
            ConfigIssue(
                label,
                "$.environments",
                f"no gates for environment '{env}' (has: {', '.join(sorted(environments))})",
                f'add "{env}" under "environments"',
            )
        )
    for name, section in environments.items():
        base = f"$.environments.{name}"
        phases = section["schedule"]["phases"]
        ends = [phase["until_minute"] for phase in phases]
        if ends != sorted(ends) or len(set(ends)) != len(ends):
            issues.append(
                ConfigIssue(
                    label,
                    f"{base}.schedule.phases",
                    "phases must be in increasing until_minute order",
                )
            )
        if ends[-1] < section["schedule"]["duration_minutes"]:
            issues.append(
                ConfigIssue(
                    label,
                    f"{base}.schedule.phases",
                    f"the last phase ends at minute {ends[-1]}, before duration_minutes "
                    f"{section['schedule']['duration_minutes']}",
                    "extend the last phase's until_minute to the duration",
                )
            )
        names = [gate["name"] for gate in section["gates"]]
        for dup in sorted({n for n in names if names.count(n) > 1}):
            issues.append(ConfigIssue(label, f"{base}.gates", f"gate name '{dup}' is used twice"))
    return issues


def validate_workspace(ws: Workspace, env: str | None = None) -> list[ConfigIssue]:
    """Every problem in the workspace's config (one environment, or all of them)."""
    known = ws.environments()
    if env is not None:
        check_env_name(env)
        if env not in known:
            raise _unknown_environment(ws, env, known)
        targets = [env]
    else:
        if not known:
            raise ConfigError(
                f"no environments under {ws.config_dir}",
                tip="is --root the workspace root? It must hold config/{env}/dhash.json",
            )
        targets = known
    issues: list[ConfigIssue] = []
    for name in targets:
        issues += env_config_issues(ws, name)
    issues += gates_config_issues(ws.gates_config, _relative(ws, ws.gates_config), env)
    return issues


def _raise_if(issues: list[ConfigIssue]) -> None:
    if issues:
        head = issues[0]
        more = (
            f" (and {len(issues) - 1} more problem(s): run 'dhash-gha config validate')"
            if len(issues) > 1
            else ""
        )
        raise ConfigError(f"{head.file}: {head.path}: {head.message}{more}", tip=head.tip)


def load_env_config(ws: Workspace, env: str) -> dict[str, Any]:
    """The validated ``config/{env}/dhash.json``; an unknown environment lists the known ones."""
    check_env_name(env)
    known = ws.environments()
    if env not in known:
        raise _unknown_environment(ws, env, known)
    _raise_if(env_config_issues(ws, env))
    data: dict[str, Any] = read_json(ws.env_config(env), "environment configuration")
    return data


def load_gates_config(ws: Workspace, env: str, path: Path | None = None) -> dict[str, Any]:
    """The validated gates section (``schedule`` and ``gates``) for ``env``."""
    source = path or ws.gates_config
    label = _relative(ws, source)
    _raise_if(gates_config_issues(source, label, env))
    data = read_json(source, "quality gates configuration")
    section: dict[str, Any] = data["environments"][env]
    return section


def secret_from_env(environ: Any, variable: str | None) -> str | None:
    """The value of the environment variable a config names for a secret, or None when unset."""
    if not variable:
        return None
    value = environ.get(variable)
    return value or None


def mask_configured_secrets(
    config: Mapping[str, Any], environ: Mapping[str, str], reporter: Reporter
) -> None:
    """Mask every secret the config names (webhook URLs, signing secrets, tokens) before any
    command's output is relayed: a build that echoes its environment must not leak them."""
    for channel in config.get("notifications", {}).get("channels", []):
        for key in ("url_env", "secret_env", "token_env"):
            value = environ.get(str(channel.get(key, "")), "")
            if value:
                reporter.mask(value)
