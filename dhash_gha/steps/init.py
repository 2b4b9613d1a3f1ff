"""``dhash-gha init``: adopt the system in an existing repository.

Writes config/{env}/dhash.json, quality-gates-config.json, the scripts/ shims
and three workflows that use the actions at a pinned version. All targets are
checked first: without ``force`` nothing is written when any of them exists.
Then it tells the operator what must still be set in GitHub.
"""

from __future__ import annotations

import copy
import json
import os
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from dhash_gha import __version__
from dhash_gha.adapters.scratch import example_source
from dhash_gha.adapters.workspace import Workspace, check_env_name
from dhash_gha.errors import BadInput

DEFAULT_ACTION_REPO = "dhash-gha/dhash-gha"
WORKFLOWS = ("dhash-premerge.yml", "dhash-deploy.yml", "dhash-rollback.yml")
_SHA = re.compile(r"^[0-9a-f]{40}$")
_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class AdoptOptions:
    environments: tuple[str, ...] = ("production", "staging")
    force: bool = False
    action_repo: str | None = None
    action_sha: str | None = None


@dataclass
class AdoptResult:
    written: list[Path] = field(default_factory=list)
    next_steps: str = ""


def example_root() -> Path:
    """The example workspace: shipped inside the package, or the checkout's examples/."""
    return example_source()


def action_ref(options: AdoptOptions) -> str:
    if options.action_sha is None:
        return f"v{__version__}"
    sha = options.action_sha.strip().lower()
    if not _SHA.match(sha):
        raise BadInput(
            f"--action-sha {options.action_sha!r} is not a 40-hex commit SHA",
            tip="copy the full commit SHA of the dhash-gha release you adopt",
        )
    return f"{sha} # v{__version__}"


# --- pure rendering ----------------------------------------------------------------------------
def env_config(template: dict[str, Any], env: str, port: int) -> dict[str, Any]:
    data = copy.deepcopy(template)
    data["environment"] = env
    component = data.setdefault("component", {})
    component["port"] = port
    host = component.get("host", "127.0.0.1")
    data.setdefault("health", {})["url"] = f"http://{host}:{port}/healthz"
    data.setdefault("metrics", {})["url"] = f"http://{host}:{port}/metrics"
    return data


def gates_config(template: dict[str, Any], environments: tuple[str, ...]) -> dict[str, Any]:
    """Gates for each environment: its own section when the example has one, else staging's."""
    known: dict[str, Any] = template["environments"]
    fallback = known.get("staging") or next(iter(known.values()))
    out = {k: v for k, v in template.items() if k != "environments"}
    out["environments"] = {env: copy.deepcopy(known.get(env, fallback)) for env in environments}
    return out


def render_workflow(text: str, repo: str, ref: str, environments: tuple[str, ...]) -> str:
    return (
        text.replace("@@ACTION_REPO@@", repo)
        .replace("@@ACTION_REF@@", ref)
        .replace("@@ENVIRONMENTS@@", ", ".join(environments))
    )


def next_steps(repo_hint: str, environments: tuple[str, ...]) -> str:
    envs = ", ".join(environments)
    first = environments[0]
    return f"""\
Still to set in GitHub (dhash-gha cannot do it for you):
  1. Environments ({envs}): Settings → Environments → required reviewers including your Ops/SRE
     team, "Prevent self-review" on, "Allow administrators to bypass" off, deployment branches
     limited to protected branches.
  2. Branch protection (or a ruleset) for main: required status checks premerge-validation and
     cross-platform-check; at least 2 approvals; code-owner review (add the Ops/SRE team to
     .github/CODEOWNERS for config/, deployments/, migrations/ and .github/workflows/); dismiss
     stale approvals; no bypass, administrators included; block force pushes and deletions.
  3. Secrets per environment: DHASH_SLACK_WEBHOOK_URL, DHASH_WEBHOOK_URL, DHASH_WEBHOOK_SECRET
     (and DHASH_PROMETHEUS_URL for fleet-wide gates); DHASH_PROTECTION_TOKEN (administration:
     read) for the pre-merge protection check.
  4. A self-hosted runner on each host, labelled as the workflows' runner-labels input says.
Then check it:
  dhash-gha protection verify --repo {repo_hint} --branch main
  dhash-gha environment verify --repo {repo_hint} --env {first}"""


# --- writing -----------------------------------------------------------------------------------
def plan_files(ws: Workspace, options: AdoptOptions) -> dict[Path, tuple[str, bool]]:
    """Every file init writes: path → (content, executable)."""
    environments = tuple(dict.fromkeys(check_env_name(e) for e in options.environments))
    if not environments:
        raise BadInput("no environment given", tip="pass --env NAME (repeatable)")
    repo = options.action_repo or DEFAULT_ACTION_REPO
    if not _REPO.match(repo):
        raise BadInput(f"--action-repo {repo!r} is not OWNER/NAME", tip="e.g. acme/dhash-gha")
    ref = action_ref(options)
    example = example_root()
    env_template_path = example / "config" / "staging" / "dhash.json"
    files: dict[Path, tuple[str, bool]] = {}
    for index, env in enumerate(environments):
        source = example / "config" / env / "dhash.json"
        template = json.loads(
            (source if source.is_file() else env_template_path).read_text(encoding="utf-8")
        )
        data = env_config(template, env, 8780 + index)
        files[ws.env_config(env)] = (json.dumps(data, indent=2) + "\n", False)
    gates = json.loads((example / "quality-gates-config.json").read_text(encoding="utf-8"))
    files[ws.gates_config] = (json.dumps(gates_config(gates, environments), indent=2) + "\n", False)
    for shim in sorted((example / "scripts").glob("*.sh")):
        files[ws.root / "scripts" / shim.name] = (shim.read_text(encoding="utf-8"), True)
    templates = resources.files("dhash_gha.templates")
    for name in WORKFLOWS:
        text = templates.joinpath(name).read_text(encoding="utf-8")
        rendered = render_workflow(text, repo, ref, environments)
        files[ws.root / ".github" / "workflows" / name] = (rendered, False)
    return files


def adopt(ws: Workspace, options: AdoptOptions) -> AdoptResult:
    files = plan_files(ws, options)
    existing = [p for p in files if p.exists()]
    if existing and not options.force:
        listing = ", ".join(p.relative_to(ws.root).as_posix() for p in existing)
        raise BadInput(
            f"init would overwrite {len(existing)} existing file(s): {listing}; nothing was written",
            tip="move them aside, or pass --force to overwrite them",
        )
    result = AdoptResult()
    for path, (content, executable) in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        tmp.write_text(content, encoding="utf-8", newline="\n")
        if executable:
            tmp.chmod(0o755)
        os.replace(tmp, path)
        result.written.append(path)
    result.next_steps = next_steps("OWNER/NAME", tuple(options.environments))
    return result
