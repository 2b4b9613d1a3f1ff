"""Install dhash-gha into a virtual environment under RUNNER_TEMP (the actions' first step).

Runs before dhash-gha exists, so it uses the standard library only. Settings come
from environment variables (the action passes its inputs through ``env:``):

  DHASH_PYTHON     interpreter to build the venv from (setup-python's python-path)
  DHASH_INSTALL    "true" (default) to install; "false" to use a dhash-gha already on PATH
  DHASH_INSTALLER  "auto" (uv when on PATH, else pip), "uv" or "pip"
  DHASH_SOURCE     what to install (default: the checkout this file is in)

The venv's bin directory is appended to GITHUB_PATH so the following steps call
``dhash-gha`` by name; outputs: python, bin-dir, installer, seconds.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1]


def _out(name: str, value: str) -> None:
    target = os.environ.get("GITHUB_OUTPUT")
    if not target:
        print(f"{name}={value}")
        return
    delimiter = f"ghadelimiter_{secrets.token_hex(8)}"
    with open(target, "a", encoding="utf-8") as handle:
        handle.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def _add_path(folder: Path) -> None:
    target = os.environ.get("GITHUB_PATH")
    if target:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(f"{folder}\n")


def _fail(message: str) -> int:
    print(f"::error title=dhash-gha install::{message}", flush=True)
    return 2


def _bin_dir(venv: Path) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin")


def _run(argv: list[str]) -> None:
    print("+ " + " ".join(argv), flush=True)
    subprocess.run(argv, check=True, timeout=900)


def main() -> int:
    install = os.environ.get("DHASH_INSTALL", "true").strip().lower()
    if install not in ("true", "false"):
        return _fail(f"install must be 'true' or 'false', not {install!r}")
    if install == "false":
        found = shutil.which("dhash-gha")
        if not found:
            return _fail("install is 'false' but no dhash-gha is on PATH")
        _out("python", sys.executable)
        _out("bin-dir", str(Path(found).parent))
        _out("installer", "preinstalled")
        _out("seconds", "0")
        return 0

    installer = os.environ.get("DHASH_INSTALLER", "auto").strip().lower() or "auto"
    if installer not in ("auto", "uv", "pip"):
        return _fail(f"installer must be auto, uv or pip, not {installer!r}")
    uv = shutil.which("uv")
    if installer == "uv" and not uv:
        return _fail("installer is 'uv' but uv is not on PATH")
    use_uv = uv is not None and installer != "pip"

    python = os.environ.get("DHASH_PYTHON", "").strip() or sys.executable
    source = Path(os.environ.get("DHASH_SOURCE", "").strip() or SOURCE)
    if not (source / "pyproject.toml").is_file():
        return _fail(f"{source} holds no pyproject.toml: cannot install dhash-gha from it")
    temp = Path(os.environ.get("RUNNER_TEMP", "").strip() or Path.home() / ".cache")
    key = hashlib.sha256(f"{python}|{source}".encode()).hexdigest()[:12]
    venv = temp / f"dhash-gha-venv-{key}"
    bin_dir = _bin_dir(venv)
    venv_python = bin_dir / ("python.exe" if os.name == "nt" else "python")

    started = time.monotonic()
    if (bin_dir / ("dhash-gha.exe" if os.name == "nt" else "dhash-gha")).exists():
        print(f"dhash-gha already installed in {venv} (an earlier step of this job)")
    elif use_uv:
        assert uv is not None
        _run([uv, "venv", "--quiet", "--python", python, str(venv)])
        _run([uv, "pip", "install", "--quiet", "--python", str(venv_python), str(source)])
    else:
        _run([python, "-m", "venv", str(venv)])
        _run(
            [
                str(venv_python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                str(source),
            ]
        )
    seconds = time.monotonic() - started
    _add_path(bin_dir)
    _out("python", str(venv_python))
    _out("bin-dir", str(bin_dir))
    _out("installer", "uv" if use_uv else "pip")
    _out("seconds", f"{seconds:.1f}")
    print(f"dhash-gha installed with {'uv' if use_uv else 'pip'} in {seconds:.1f} s ({venv})")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except subprocess.CalledProcessError as exc:
        sys.exit(_fail(f"install command failed with exit code {exc.returncode}: {exc.cmd}"))
    except subprocess.TimeoutExpired as exc:
        sys.exit(_fail(f"install command timed out after {exc.timeout:.0f} s"))
