"""docs/OPERATIONS.md: every block marked safe runs, as written, against the example workspace."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "OPERATIONS.md"
FENCE = re.compile(r"^```(?P<info>[^\n`]*)\n(?P<body>.*?)^```\s*$", re.M | re.S)


def blocks(text: str) -> list[tuple[str, str]]:
    return [(m.group("info").strip(), m.group("body")) for m in FENCE.finditer(text)]


def safe_blocks() -> list[str]:
    return [
        body
        for info, body in blocks(DOC.read_text(encoding="utf-8"))
        if info == "sh non-destructive"
    ]


def test_the_runbook_has_safe_and_unsafe_blocks() -> None:
    infos = [info for info, _ in blocks(DOC.read_text(encoding="utf-8"))]
    assert infos.count("sh non-destructive") >= 8 and "sh" in infos
    assert set(infos) <= {"sh", "sh non-destructive"}


def test_every_dhash_gha_call_in_the_runbook_parses() -> None:
    from test_action_cli_calls import _check

    for _, body in blocks(DOC.read_text(encoding="utf-8")):
        for line in body.splitlines():
            line = line.strip()
            if not line.startswith("dhash-gha "):
                continue
            argv = shlex.split(line)[1:]
            argv = ["1" if a.startswith("<") else a for a in argv]
            _check(argv)


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("bash") is None or os.name == "nt", reason="the runbook's shell is POSIX"
)
def test_safe_blocks_run_as_written(
    example_workspace: Path, clean_environ: dict[str, str], tmp_path: Path
) -> None:
    env = dict(clean_environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.pop("DHASH_GHA", None)
    try:
        for index, body in enumerate(safe_blocks()):
            script = tmp_path / f"block_{index}.sh"
            script.write_text(body, encoding="utf-8")
            done = subprocess.run(
                ["bash", "-euo", "pipefail", str(script)],
                cwd=example_workspace,
                env=env,
                capture_output=True,
                text=True,
                timeout=240,
                check=False,
            )
            assert done.returncode == 0, (
                f"block {index}:\n{body}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
            )
    finally:
        for environment in ("staging", "production"):
            subprocess.run(
                [
                    str(Path(sys.executable).parent / "dhash-gha"),
                    "--root",
                    str(example_workspace),
                    "service",
                    "stop",
                    "--env",
                    environment,
                ],
                capture_output=True,
                timeout=60,
                check=False,
                env=env,
            )
    assert (example_workspace / "premerge_artifacts" / "summary.md").is_file()
    assert (example_workspace / "logs" / "provenance_production.json").is_file()
