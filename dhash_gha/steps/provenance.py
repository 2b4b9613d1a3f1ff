"""Provenance: an in-toto Statement v1 carrying a SLSA v1 provenance predicate.

It says which files were produced (subjects, by sha256), by which workflow run
on which runner (builder and invocation, from the ``GITHUB_*`` variables), from
which commit, and with which tools (Python, ffmpeg when present, dhash-gha).
The cross-platform replacement for a ``capture_provenance`` shell script.

``build_statement`` is pure; the functions around it read files, the
environment and ``ffmpeg -version`` and are passed in what they need.
"""

from __future__ import annotations

import platform
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from dhash_gha import __version__
from dhash_gha.adapters import atomic
from dhash_gha.adapters.digest import file_sha256
from dhash_gha.adapters.gitinfo import git_commit as checkout_commit
from dhash_gha.core.clock import iso_utc
from dhash_gha.errors import BadInput

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "https://actions.github.io/buildtypes/workflow/v1"
LOCAL_BUILDER_ID = "urn:dhash-gha:builder:local"


@dataclass(frozen=True)
class Subject:
    name: str
    sha256: str

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "digest": {"sha256": self.sha256}}


@dataclass(frozen=True)
class Invocation:
    """Who ran the build: the workflow run on GitHub Actions, or a local run."""

    server_url: str = "https://github.com"
    repository: str | None = None
    workflow_ref: str | None = None
    ref: str | None = None
    run_id: str | None = None
    run_attempt: str | None = None
    event_name: str | None = None
    actor: str | None = None
    repository_id: str | None = None
    repository_owner_id: str | None = None
    runner_os: str = ""
    runner_arch: str = ""
    runner_environment: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Invocation:
        def get(name: str) -> str | None:
            value = environ.get(name, "").strip()
            return value or None

        return cls(
            server_url=get("GITHUB_SERVER_URL") or "https://github.com",
            repository=get("GITHUB_REPOSITORY"),
            workflow_ref=get("GITHUB_WORKFLOW_REF"),
            ref=get("GITHUB_REF"),
            run_id=get("GITHUB_RUN_ID"),
            run_attempt=get("GITHUB_RUN_ATTEMPT"),
            event_name=get("GITHUB_EVENT_NAME"),
            actor=get("GITHUB_ACTOR"),
            repository_id=get("GITHUB_REPOSITORY_ID"),
            repository_owner_id=get("GITHUB_REPOSITORY_OWNER_ID"),
            runner_os=get("RUNNER_OS") or platform.system(),
            runner_arch=get("RUNNER_ARCH") or platform.machine(),
            runner_environment=get("RUNNER_ENVIRONMENT"),
        )

    @property
    def on_github(self) -> bool:
        return bool(self.repository and self.run_id)

    @property
    def builder_id(self) -> str:
        if self.workflow_ref:
            return f"{self.server_url}/{self.workflow_ref}"
        return LOCAL_BUILDER_ID

    @property
    def invocation_id(self) -> str | None:
        if not self.on_github:
            return None
        attempt = self.run_attempt or "1"
        return f"{self.server_url}/{self.repository}/actions/runs/{self.run_id}/attempts/{attempt}"


def build_statement(
    subjects: Sequence[Subject],
    invocation: Invocation,
    *,
    git_commit: str | None,
    tools: Mapping[str, str],
    started: datetime,
    finished: datetime,
    parameters: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The in-toto statement (pure: everything it says is passed in)."""
    if not subjects:
        raise BadInput(
            "provenance needs at least one subject",
            tip="pass --subject PATH (a backup, an artifact, a directory) or --env ENV",
        )
    workflow: dict[str, Any] = {}
    if invocation.workflow_ref:
        path_part = invocation.workflow_ref.split("@", 1)[0]
        workflow = {
            "ref": invocation.workflow_ref.split("@", 1)[1]
            if "@" in invocation.workflow_ref
            else "",
            "repository": f"{invocation.server_url}/{invocation.repository}",
            "path": path_part.split("/", 2)[2] if path_part.count("/") >= 2 else path_part,
        }
    dependencies: list[dict[str, Any]] = []
    if git_commit:
        uri = (
            f"git+{invocation.server_url}/{invocation.repository}@{invocation.ref}"
            if invocation.repository and invocation.ref
            else "git+file:workspace"
        )
        dependencies.append({"uri": uri, "digest": {"gitCommit": git_commit}})
    github = {
        "event_name": invocation.event_name,
        "repository_id": invocation.repository_id,
        "repository_owner_id": invocation.repository_owner_id,
        "runner_environment": invocation.runner_environment,
        "run_id": invocation.run_id,
        "run_attempt": invocation.run_attempt,
        "actor": invocation.actor,
        "runner_os": invocation.runner_os,
        "runner_arch": invocation.runner_arch,
    }
    metadata: dict[str, Any] = {"startedOn": iso_utc(started), "finishedOn": iso_utc(finished)}
    if invocation.invocation_id:
        metadata["invocationId"] = invocation.invocation_id
    return {
        "_type": STATEMENT_TYPE,
        "subject": [s.as_json() for s in sorted(subjects, key=lambda s: s.name)],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {
                    "workflow": workflow,
                    **({"parameters": dict(parameters)} if parameters else {}),
                },
                "internalParameters": {
                    "github": {k: v for k, v in github.items() if v is not None},
                },
                "resolvedDependencies": dependencies,
            },
            "runDetails": {
                "builder": {"id": invocation.builder_id, "version": dict(tools)},
                "metadata": metadata,
            },
        },
    }


# --- adapters --------------------------------------------------------------------------------
def _subject_name(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.name


def collect_subjects(paths: Iterable[Path], root: Path) -> list[Subject]:
    """One subject per file; a directory contributes every file under it."""
    found: dict[str, Subject] = {}
    for path in paths:
        if not path.exists():
            raise BadInput(
                f"provenance subject {str(path)!r} does not exist",
                tip="pass an existing file or directory with --subject",
            )
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            name = _subject_name(file, root)
            found[name] = Subject(name, file_sha256(file))
    return list(found.values())


def ffmpeg_version(timeout: float = 10.0) -> str | None:
    """The first line of ``ffmpeg -version``, or None when ffmpeg is absent or hangs."""
    try:
        completed = subprocess.run(
            ["ffmpeg", "-version"],
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if completed.returncode != 0 or not completed.stdout:
        return None
    first = completed.stdout.splitlines()[0].strip()
    # "ffmpeg version 5.1.6-0+deb12u1 Copyright ..." -> "5.1.6-0+deb12u1"
    parts = first.split()
    return parts[2] if len(parts) >= 3 and parts[1] == "version" else first


def tool_versions(ffmpeg: str | None) -> dict[str, str]:
    tools = {"dhash-gha": __version__, "python": platform.python_version()}
    if ffmpeg:
        tools["ffmpeg"] = ffmpeg
    return tools


def git_commit(root: Path, environ: Mapping[str, str]) -> str | None:
    """GITHUB_SHA on Actions, else the commit the workspace's checkout is at, else None."""

    return environ.get("GITHUB_SHA", "").strip() or checkout_commit(root)


def write_json_atomic(path: Path, document: Mapping[str, Any]) -> Path:
    atomic.write_json_atomic(path, document)
    return path
