"""Backup benchmark: dhash-gha create / verify / restore against zip, sha256sum, unzip and tar.

Generates a tree of about ``--size-mb`` MiB (20 000 small text files per GiB
plus large incompressible media files) under ``benchmarks/.work/backup``,
then times, in one run:

    floor     tar cf - src config deployments | sha256sum   (read and hash everything)
    zip       zip -qr base.zip ... && sha256sum base.zip > base.zip.sha256
    sha256sum sha256sum -c base.zip.sha256
    unzip     unzip -q base.zip -d <dir>
    create    dhash_gha.adapters.archive.create_backup
    verify    dhash_gha.adapters.archive.verify_backup
    restore   dhash_gha.adapters.archive.restore_backup into a workspace without src/
              (and once over the full tree, which adds the pre-rollback archive)

Each dhash-gha step runs in a fresh child process so its peak memory (max
RSS) is measured on its own. Results are printed as a Markdown table with
ratios to the tool an operator would otherwise use and to the floor.

    python benchmarks/backup.py               # about 1 GiB (takes a few minutes)
    python benchmarks/backup.py --size-mb 128 # a quick run
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_CONFIG = REPO / "examples" / "dhash-app" / "config"
FILES_PER_GIB = 20_000
MEDIA_FILE_MB = 48
ITEMS = ("src", "config", "deployments")


def generate(root: Path, size_mb: int, seed: int = 7) -> tuple[int, int]:
    """The tree: small text files (about 4 KiB each) plus media files of random bytes."""
    rng = random.Random(seed)
    shutil.copytree(EXAMPLE_CONFIG, root / "config")
    (root / "deployments" / "production").mkdir(parents=True)
    (root / "deployments" / "production" / "release.json").write_text('{"release_id": "bench"}')
    words = [
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
        for _ in range(4000)
    ]
    corpus = " ".join(rng.choice(words) for _ in range(300_000)).encode()
    count = max(200, FILES_PER_GIB * size_mb // 1024)
    total = 0
    for index in range(count):
        folder = root / "src" / "text" / f"d{index // 500:03d}"
        if index % 500 == 0:
            folder.mkdir(parents=True)
        size = rng.randint(1024, 7 * 1024)
        start = rng.randrange(0, len(corpus) - size)
        (folder / f"file_{index:05d}.txt").write_bytes(corpus[start : start + size])
        total += size
    media = root / "src" / "media"
    media.mkdir(parents=True)
    remaining = size_mb * 1024 * 1024 - total
    index = 0
    while remaining > 0:
        size = min(MEDIA_FILE_MB * 1024 * 1024, remaining)
        suffix = (".jpg", ".mp4", ".png", ".mov")[index % 4]
        with (media / f"clip_{index:03d}{suffix}").open("wb") as handle:
            left = size
            while left:
                chunk = min(left, 8 * 1024 * 1024)
                handle.write(rng.randbytes(chunk))
                left -= chunk
        remaining -= size
        total += size
        index += 1
    return count + index, total


def settle() -> None:
    """Flush dirty pages first, so one step's write-back is not billed to the next."""
    if hasattr(os, "sync"):
        os.sync()


def shell(command: str, cwd: Path) -> float:
    settle()
    started = time.perf_counter()
    subprocess.run(
        ["bash", "-o", "pipefail", "-c", command], cwd=cwd, check=True, stdout=subprocess.DEVNULL
    )
    return time.perf_counter() - started


_CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    from pathlib import Path
    from dhash_gha.adapters.archive import create_backup, restore_backup, verify_backup
    from dhash_gha.adapters.clock import SystemClock
    from dhash_gha.adapters.reporter import Reporter
    from dhash_gha.adapters.workspace import Workspace

    action, root, path = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    reporter = Reporter({}, quiet=True)
    started = time.perf_counter()
    if action == "create":
        path = str(create_backup(Workspace.at(root), "production", clock=SystemClock(),
                                 reporter=reporter).path)
    elif action == "verify":
        verify_backup(Path(path))
    else:
        restore_backup(Workspace.at(root), "production", Path(path), clock=SystemClock(),
                       reporter=reporter)
    seconds = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "max_rss_kb": rss, "path": path}))
    """
)


def ours(action: str, root: Path, path: str = "") -> dict[str, object]:
    settle()
    run = subprocess.run(
        [sys.executable, "-c", _CHILD, action, str(root), path],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, object] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="tree size in MiB (default 1024)")
    parser.add_argument("--workdir", type=Path, default=REPO / "benchmarks" / ".work" / "backup")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each step but zip (best)")
    parser.add_argument("--keep", action="store_true", help="keep the generated tree afterwards")
    args = parser.parse_args(argv)
    for tool in ("zip", "unzip", "sha256sum", "tar", "bash"):
        if not shutil.which(tool):
            print(f"error: {tool} is not installed; it is the baseline", file=sys.stderr)
            return 2
    work = args.workdir
    if work.exists():
        shutil.rmtree(work)
    ws = work / "ws"
    ws.mkdir(parents=True)
    print(f"generating about {args.size_mb} MiB under {ws} ...", file=sys.stderr)
    files, total = generate(ws, args.size_mb)
    items = " ".join(ITEMS)
    repeat = max(1, args.repeat)
    times: dict[str, float] = {}
    shell(f"tar cf - {items} | sha256sum", ws)  # warm the page cache
    times["zip"] = shell(
        f"zip -qr ../base.zip {items} && (cd .. && sha256sum base.zip > base.zip.sha256)", ws
    )
    measured: dict[str, dict[str, object]] = {}

    def best(name: str, result: dict[str, object]) -> None:
        seconds = float(str(result["seconds"]))
        if name not in times or seconds < times[name]:
            times[name] = seconds
        old = measured.get(name, {"max_rss_kb": 0})
        rss = max(int(str(old["max_rss_kb"])), int(str(result["max_rss_kb"])))
        measured[name] = {**result, "max_rss_kb": rss}

    backup = Path()

    def baselines() -> None:
        best("floor", {"seconds": shell(f"tar cf - {items} | sha256sum", ws), "max_rss_kb": 0})
        best("sha256sum", {"seconds": shell("sha256sum -c base.zip.sha256", work), "max_rss_kb": 0})
        best("unzip", {"seconds": shell("unzip -q base.zip -d unzipped", work), "max_rss_kb": 0})
        shutil.rmtree(work / "unzipped")

    def dhash_gha() -> Path:
        created = ours("create", ws)
        best("create", created)
        made = Path(str(created["path"]))
        best("verify", ours("verify", ws, str(made)))
        target = work / "target"
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(ws / "config", target / "config")
        (target / "backups").mkdir()
        for path in (made, made.with_name(made.name + ".sha256")):
            os.link(path, target / "backups" / path.name)
        best("restore", ours("restore", target, str(target / "backups" / made.name)))
        return made

    # Best of N, alternating which side goes first: the machine is shared, noise is real.
    for run in range(repeat):
        if run % 2 == 0:
            baselines()
            backup = dhash_gha()
        else:
            backup = dhash_gha()
            baselines()
    # A rollback restores over a full tree: that adds the pre-rollback archive of it.
    over = ours("restore", ws, str(backup))
    times["restore_over"] = float(str(over["seconds"]))
    zip_size = (work / "base.zip").stat().st_size
    print(
        f"\ntree: {files} files, {total / 2**20:.0f} MiB; zip -qr archive {zip_size / 2**20:.0f} MiB, "
        f"dhash-gha backup {backup.stat().st_size / 2**20:.0f} MiB; {os.cpu_count()} cores\n"
    )
    print("| step | seconds | baseline | ratio (aim) | × floor | peak RSS |")
    print("|---|---:|---|---:|---:|---:|")
    print(f"| floor: tar cf - \\| sha256sum | {times['floor']:.2f} | | | 1.00 | |")
    rows = [
        ("create", "zip", "zip -qr + sha256sum", "≤ 0.25", measured["create"]),
        ("verify", "sha256sum", "sha256sum -c", "≤ 0.5", measured["verify"]),
        ("restore", "unzip", "unzip -q", "≤ 1.0", measured["restore"]),
    ]
    for step, base, label, aim, measured in rows:
        rss = int(str(measured["max_rss_kb"])) / 1024
        print(f"| {label} | {times[base]:.2f} | | | {times[base] / times['floor']:.2f} | |")
        print(
            f"| dhash-gha {step} | {times[step]:.2f} | {label} | "
            f"{times[step] / times[base]:.2f} ({aim}) | {times[step] / times['floor']:.2f} | "
            f"{rss:.0f} MiB |"
        )
    print(
        f"| dhash-gha restore over the full tree (+ pre-rollback .tar.gz of it) | "
        f"{times['restore_over']:.2f} | | | {times['restore_over'] / times['floor']:.2f} | "
        f"{int(str(over['max_rss_kb'])) / 1024:.0f} MiB |"
    )
    if not args.keep:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
