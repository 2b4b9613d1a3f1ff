"""Run a composite action's steps on this machine the way the Actions runner would.

`uses:` steps of other repositories are not run (their outputs can be faked);
`run:` steps run for real through bash with GITHUB_OUTPUT, GITHUB_STEP_SUMMARY,
GITHUB_PATH, GITHUB_ACTION_PATH and RUNNER_TEMP set, each step's ``env:``
evaluated from the inputs and earlier steps' outputs. A small evaluator covers
the expression syntax our actions use.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||!|\(|\)|,|\[|\])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_*][A-Za-z0-9_-]*)*))"
)


class Expression:
    def __init__(self, text: str, contexts: Mapping[str, Any], status: str) -> None:
        self.tokens = self._tokenize(text)
        self.pos = 0
        self.contexts = contexts
        self.status = status

    @staticmethod
    def _tokenize(text: str) -> list[tuple[str, str]]:
        tokens: list[tuple[str, str]] = []
        pos = 0
        text = text.strip()
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if not match or match.end() == pos:
                raise ValueError(f"cannot parse expression at {text[pos:]!r}")
            kind = match.lastgroup or ""
            tokens.append((kind, match.group(kind)))
            pos = match.end()
        return tokens

    def _peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def _next(self) -> tuple[str, str]:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def evaluate(self) -> Any:
        value = self._or()
        if self.pos != len(self.tokens):
            raise ValueError(f"trailing tokens: {self.tokens[self.pos :]}")
        return value

    def _or(self) -> Any:
        value = self._and()
        while self._peek() == "||":
            self._next()
            right = self._and()
            value = value if truthy(value) else right
        return value

    def _and(self) -> Any:
        value = self._not()
        while self._peek() == "&&":
            self._next()
            right = self._not()
            value = right if truthy(value) else value
        return value

    def _not(self) -> Any:
        if self._peek() == "!":
            self._next()
            return not truthy(self._not())
        return self._cmp()

    def _cmp(self) -> Any:
        left = self._primary()
        if self._peek() in ("==", "!="):
            op = self._next()[1]
            right = self._primary()
            equal = _norm(left) == _norm(right)
            return equal if op == "==" else not equal
        return left

    def _primary(self) -> Any:
        kind, text = self._next()
        if text == "(":
            value = self._or()
            assert self._next()[1] == ")"
            return value
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return float(text) if "." in text else int(text)
        if text in ("true", "false"):
            return text == "true"
        if text == "null":
            return None
        if self._peek() == "(":
            self._next()
            args: list[Any] = []
            while self._peek() != ")":
                args.append(self._or())
                if self._peek() == ",":
                    self._next()
            self._next()
            return self._call(text, args)
        value = self._lookup(text)
        while self._peek() == "[":
            self._next()
            index = self._or()
            assert self._next()[1] == "]"
            value = value[index] if isinstance(value, list) else (value or {}).get(str(index))
        return value

    def _call(self, name: str, args: list[Any]) -> Any:
        lowered = name.lower()
        if lowered == "always":
            return True
        if lowered == "success":
            return self.status == "success"
        if lowered == "failure":
            return self.status == "failure"
        if lowered == "cancelled":
            return False
        if lowered == "format":
            text = str(args[0])
            for index, arg in enumerate(args[1:]):
                text = text.replace("{" + str(index) + "}", "" if arg is None else str(arg))
            return text
        if lowered == "fromjson":
            return json.loads(args[0])
        if lowered == "tojson":
            return json.dumps(args[0])
        raise ValueError(f"unsupported function {name}")

    def _lookup(self, dotted: str) -> Any:
        parts = dotted.split(".")
        value: Any = self.contexts
        for part in parts:
            if not isinstance(value, Mapping):
                return None
            value = value.get(part)
        return value


def _norm(value: Any) -> Any:
    if isinstance(value, str):
        return value.lower()
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return value


def truthy(value: Any) -> bool:
    return value not in (None, "", 0, False)


def to_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def interpolate(text: str, contexts: Mapping[str, Any], status: str = "success") -> str:
    return re.sub(
        r"\$\{\{(.*?)\}\}",
        lambda m: to_text(Expression(m.group(1), contexts, status).evaluate()),
        text,
    )


def condition(text: str, contexts: Mapping[str, Any], status: str) -> bool:
    text = text.strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    if not re.search(r"\b(always|success|failure|cancelled)\(", text):
        text = f"success() && ({text})"
    return truthy(Expression(text, contexts, status).evaluate())


def parse_output_file(path: Path) -> dict[str, str]:
    """GITHUB_OUTPUT syntax: name=value lines and name<<DELIM heredocs."""
    outputs: dict[str, str] = {}
    if not path.exists():
        return outputs
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body: list[str] = []
            while lines[index] != delimiter:
                body.append(lines[index])
                index += 1
            index += 1
            outputs[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            outputs[name] = value
    return outputs


@dataclass
class StepRun:
    id: str | None
    name: str
    outcome: str
    conclusion: str
    outputs: dict[str, str]
    stdout: str = ""
    stderr: str = ""
    returncode: int | None = None


@dataclass
class ActionRun:
    steps: list[StepRun] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    summary: str = ""
    status: str = "success"

    def step(self, name_or_id: str) -> StepRun:
        for step in self.steps:
            if name_or_id in (step.id, step.name):
                return step
        raise KeyError(name_or_id)


def run_composite(
    action_file: Path,
    inputs: Mapping[str, str],
    *,
    workdir: Path,
    runner_temp: Path,
    base_env: Mapping[str, str],
    github: Mapping[str, Any] | None = None,
    fake_uses: Mapping[str, Mapping[str, str]] | None = None,
    timeout: float = 300,
) -> ActionRun:
    action = yaml.safe_load(action_file.read_text(encoding="utf-8"))
    resolved_inputs: dict[str, str] = {}
    for name, spec in (action.get("inputs") or {}).items():
        if name in inputs:
            resolved_inputs[name] = inputs[name]
        elif spec.get("required") and "default" not in spec:
            raise ValueError(f"required input {name} not given")
        else:
            resolved_inputs[name] = str(spec.get("default", ""))
    runner_temp.mkdir(parents=True, exist_ok=True)
    summary_file = runner_temp / "step_summary.md"
    path_file = runner_temp / "github_path.txt"
    summary_file.touch()
    path_file.touch()
    github_ctx = {"action_path": str(action_file.parent), **(github or {})}
    steps_ctx: dict[str, Any] = {}
    run = ActionRun()
    for index, step in enumerate(action["runs"]["steps"]):
        contexts = {
            "inputs": resolved_inputs,
            "steps": steps_ctx,
            "github": github_ctx,
            "runner": {"temp": str(runner_temp)},
            "env": dict(base_env),
        }
        step_id = step.get("id")
        name = step.get("name", f"step {index}")
        if not condition(str(step.get("if", "success()")), contexts, run.status):
            result = StepRun(step_id, name, "skipped", "skipped", {})
        elif "uses" in step:
            uses = step["uses"].split("@")[0]
            outputs = dict((fake_uses or {}).get(uses, {}))
            result = StepRun(step_id, name, "success", "success", outputs)
        else:
            result = _run_step(
                step,
                contexts,
                workdir,
                runner_temp,
                base_env,
                action_file,
                summary_file,
                path_file,
                index,
                timeout,
            )
            if result.outcome == "failure" and not step.get("continue-on-error"):
                run.status = "failure"
        if step_id:
            steps_ctx[step_id] = {
                "outputs": result.outputs,
                "outcome": result.outcome,
                "conclusion": result.conclusion,
            }
        run.steps.append(result)
    contexts = {"inputs": resolved_inputs, "steps": steps_ctx, "github": github_ctx}
    for name, spec in (action.get("outputs") or {}).items():
        run.outputs[name] = interpolate(str(spec["value"]), contexts)
    run.summary = summary_file.read_text(encoding="utf-8")
    return run


def _run_step(
    step: Mapping[str, Any],
    contexts: Mapping[str, Any],
    workdir: Path,
    runner_temp: Path,
    base_env: Mapping[str, str],
    action_file: Path,
    summary_file: Path,
    path_file: Path,
    index: int,
    timeout: float,
) -> StepRun:
    assert step.get("shell") == "bash", f"step {step.get('name')} must set shell: bash"
    script_text = str(step["run"])
    assert "${{" not in script_text, f"expression inside run: of {step.get('name')}"
    output_file = runner_temp / f"output_{index}.txt"
    output_file.write_text("", encoding="utf-8")
    env = dict(base_env)
    extra_path = [line for line in path_file.read_text(encoding="utf-8").splitlines() if line]
    if extra_path:
        env["PATH"] = os.pathsep.join([*reversed(extra_path), env.get("PATH", "")])
    env.update(
        {
            "GITHUB_OUTPUT": str(output_file),
            "GITHUB_STEP_SUMMARY": str(summary_file),
            "GITHUB_PATH": str(path_file),
            "GITHUB_ACTION_PATH": str(action_file.parent),
            "RUNNER_TEMP": str(runner_temp),
            "GITHUB_ACTIONS": "true",
        }
    )
    for key, value in (step.get("env") or {}).items():
        env[key] = interpolate(str(value), contexts)
    script = runner_temp / f"step_{index}.sh"
    script.write_text(script_text, encoding="utf-8")
    completed = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    outcome = "success" if completed.returncode == 0 else "failure"
    conclusion = "success" if step.get("continue-on-error") else outcome
    return StepRun(
        step.get("id"),
        step.get("name", ""),
        outcome,
        conclusion,
        parse_output_file(output_file),
        completed.stdout,
        completed.stderr,
        completed.returncode,
    )
