"""Command line: ``python -m dhash_app {serve,golden,load,hash} ...`` (run with cwd = src/).

Exit codes: 0 ok, 1 a check failed (golden mismatch, load errors over the limit),
2 bad input or configuration, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from dhash_app import __version__

EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dhash_app", description="the dhash media-hashing service"
    )
    parser.add_argument("--version", action="version", version=f"dhash_app {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP service until SIGTERM / CTRL_BREAK")
    serve.add_argument(
        "--root", required=True, type=Path, help="workspace root (holds config/, data/, logs/)"
    )
    serve.add_argument("--env", required=True, help="environment name (config/{env}/dhash.json)")
    serve.add_argument("--port", type=int, help="override component.port (0: any free port)")

    golden = commands.add_parser(
        "golden", help="send the golden images to a running service and compare"
    )
    golden.add_argument("--url", required=True, help="service base URL, e.g. http://127.0.0.1:8780")
    golden.add_argument(
        "--golden-dir",
        type=Path,
        help="folder with expected.json (default: the workspace's golden/)",
    )
    golden.add_argument(
        "--timeout", type=float, default=10.0, help="seconds per request (default 10)"
    )
    golden.add_argument("--json", action="store_true", help="print the result as JSON")

    load = commands.add_parser(
        "load", help="drive a local service with a known/near-duplicate/new image mix"
    )
    load.add_argument("--url", required=True, help="service base URL on 127.0.0.1")
    load.add_argument(
        "--rate", type=float, required=True, help="requests per second (0 < R <= 500)"
    )
    load.add_argument(
        "--duration", type=float, required=True, help="seconds to run (0 < S <= 3600)"
    )
    load.add_argument(
        "--mix", default="known=0.5,near=0.3,new=0.2", help="share of each kind of image"
    )
    load.add_argument(
        "--timeout", type=float, default=10.0, help="seconds per request (default 10)"
    )
    load.add_argument("--seed", type=int, default=1, help="random seed (same seed, same images)")
    load.add_argument(
        "--workers", type=int, default=8, help="concurrent requests at most (default 8)"
    )

    hash_cmd = commands.add_parser(
        "hash", help="print the dHash of image files (no service needed)"
    )
    hash_cmd.add_argument("files", nargs="+", type=Path)
    hash_cmd.add_argument("--mode", choices=["exact", "fast"], default="exact")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "golden":
            return _golden(args)
        if args.command == "load":
            return _load(args)
        return _hash(args)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def _serve(args: argparse.Namespace) -> int:
    import warnings

    from PIL import Image

    from dhash_app.logs import service_logger
    from dhash_app.server import DhashServer, run_until_stopped
    from dhash_app.service import HashService
    from dhash_app.settings import SettingsError, load_settings

    # Sizes are checked against our own, lower limit before decoding (hashing.open_image).
    warnings.simplefilter("ignore", Image.DecompressionBombWarning)
    root = args.root.resolve()
    try:
        settings = load_settings(root, args.env, os.environ)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.port is not None:
        settings = replace(settings, port=args.port)
    service = HashService(settings, logger=service_logger(settings.logs_dir, settings.env))
    try:
        server = DhashServer((settings.host, settings.port), service)
    except OSError as exc:
        print(f"error: cannot listen on {settings.host}:{settings.port}: {exc.strerror}; "
              "is another instance running? change component.port", file=sys.stderr)  # fmt: skip
        return EXIT_BAD_INPUT
    print(f"dhash {__version__} serving {args.env} on http://{settings.host}:{server.server_address[1]}",
          flush=True)  # fmt: skip
    stop_file = os.environ.get("DHASH_STOP_FILE")
    run_until_stopped(server, Path(stop_file) if stop_file else None)
    return EXIT_OK


def _golden(args: argparse.Namespace) -> int:
    from dhash_app.golden import GoldenError, default_golden_dir, validate

    try:
        result = validate(
            args.url, golden_dir=args.golden_dir or default_golden_dir(), timeout=args.timeout
        )
    except GoldenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, sort_keys=True))
    else:
        for line in result.lines():
            print(line)
    return EXIT_OK if result.ok else EXIT_CHECK_FAILED


def _load(args: argparse.Namespace) -> int:
    from dhash_app.load import LoadError, LoadPlan, parse_mix, run_load

    try:
        plan = LoadPlan(url=args.url, rate=args.rate, duration=args.duration, mix=parse_mix(args.mix),
                        seed=args.seed, workers=args.workers, timeout=args.timeout)  # fmt: skip
    except LoadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    stop = threading.Event()
    for name in ("SIGTERM", "SIGINT", "SIGBREAK"):
        number = getattr(signal, name, None)
        if number is not None:
            signal.signal(number, lambda _signum, _frame: stop.set())
    report = run_load(plan, stop=stop)
    print(json.dumps(report.to_dict(), indent=2, sort_keys=True))
    return EXIT_OK if report.sent > 0 and report.errors < report.sent else EXIT_CHECK_FAILED


def _hash(args: argparse.Namespace) -> int:
    from dhash_app.hashing import ExtractionError, hash_bytes, to_hex

    failed = False
    for path in args.files:
        try:
            value, _info = hash_bytes(path.read_bytes(), mode=args.mode)
            print(f"{to_hex(value)}  {path}")
        except (OSError, ExtractionError) as exc:
            print(f"error: {path}: {exc}", file=sys.stderr)
            failed = True
    return EXIT_BAD_INPUT if failed else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
