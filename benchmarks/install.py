"""How long the composite actions' install step takes: pip against uv.

Each run creates a fresh virtual environment and installs this checkout into
it, as ``actions/install_dhash_gha.py`` does on a runner:

  pip: python -m venv DIR && DIR/python -m pip install .
  uv:  uv venv DIR && uv pip install --python DIR/python .

Both use their download caches (warm after the first run, as on a runner with a
cache, or a self-hosted one); the first, cold run of each is reported apart.

    python benchmarks/install.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1]


def _bin(venv: Path) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin")


def _python(venv: Path) -> Path:
    return _bin(venv) / ("python.exe" if os.name == "nt" else "python")


def _run(argv: list[str]) -> None:
    subprocess.run(argv, check=True, capture_output=True, timeout=900)


def install_with_pip(venv: Path) -> None:
    _run([sys.executable, "-m", "venv", str(venv)])
    _run(
        [
            str(_python(venv)),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            str(SOURCE),
        ]
    )


def install_with_uv(venv: Path, uv: str) -> None:
    _run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)])
    _run([uv, "pip", "install", "--quiet", "--python", str(_python(venv)), str(SOURCE)])


def _time(install: Callable[[Path], None]) -> float:
    with tempfile.TemporaryDirectory(prefix="dhash-install-bench-") as tmp:
        venv = Path(tmp) / "venv"
        started = time.perf_counter()
        install(venv)
        elapsed = time.perf_counter() - started
        assert (_bin(venv) / ("dhash-gha.exe" if os.name == "nt" else "dhash-gha")).exists()
        return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="warm runs of each (default 3)")
    args = parser.parse_args()
    uv = shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))
    contenders: dict[str, Callable[[Path], None]] = {"pip": install_with_pip}
    if uv:
        contenders["uv"] = lambda venv: install_with_uv(venv, uv)
    else:
        print("uv not found: only pip is measured (pip install uv to compare)")
    first: dict[str, float] = {}
    warm: dict[str, list[float]] = {}
    for name, install in contenders.items():
        first[name] = _time(install)
        warm[name] = [_time(install) for _ in range(args.runs)]
    print("| installer | first run | warm median | warm runs |")
    print("|---|---|---|---|")
    for name in contenders:
        runs = ", ".join(f"{t:.1f}" for t in warm[name])
        print(f"| {name} | {first[name]:.1f} s | {statistics.median(warm[name]):.1f} s | {runs} |")
    if "uv" in warm:
        ratio = statistics.median(warm["pip"]) / statistics.median(warm["uv"])
        print(f"\nuv is {ratio:.1f}× faster than pip (warm medians)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
