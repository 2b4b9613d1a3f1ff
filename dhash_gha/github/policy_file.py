"""Read a ``--policy`` file (JSON or YAML) into a :class:`~dhash_gha.github.policy.Policy`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dhash_gha.errors import BadInput
from dhash_gha.github.policy import Policy, policy_from_mapping


def load_policy(path: Path | None) -> Policy:
    if path is None:
        return Policy()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BadInput(
            f"cannot read the policy file {path}: {exc.strerror or exc}",
            tip="pass an existing JSON or YAML file to --policy (see docs/github.md)",
        ) from exc
    data: Any
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise BadInput(f"policy file {path} is not valid JSON: {exc}") from exc
    else:
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise BadInput(f"policy file {path} is not valid YAML: {exc}") from exc
    return policy_from_mapping(data, source=str(path))
