"""Generate the golden images and their expected hashes, deterministically.

    python golden/generate.py [--out DIR] [--check]

Pixels are computed from integer formulas and a seeded ``random.Random``
(no drawing primitives, no JPEG), so the same script gives the same pixels
on every platform and Pillow version. PNG is lossless, so the hash depends on
those pixels only. Expected hashes are computed with ``imagehash.dhash`` (the
reference implementation, from the test extra). ``--check`` regenerates into
memory and exits 1 if the committed files differ in pixels or hashes.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
from collections.abc import Callable
from pathlib import Path

from PIL import Image

HERE = Path(__file__).resolve().parent


def _gradient(width: int, height: int) -> Image.Image:
    raw = bytes((x * 255 // (width - 1) + y * 3) % 256 for y in range(height) for x in range(width))
    return Image.frombytes("L", (width, height), raw)


def _checker_rgb(width: int, height: int) -> Image.Image:
    raw = bytearray()
    for y in range(height):
        for x in range(width):
            on = ((x // 8) + (y // 8)) % 2
            raw += bytes((200 if on else 30, (x * 4) % 256, (y * 5) % 256))
    return Image.frombytes("RGB", (width, height), bytes(raw))


def _noise_rgb(width: int, height: int, seed: int) -> Image.Image:
    rng = random.Random(seed)
    return Image.frombytes(
        "RGB", (width, height), bytes(rng.randrange(256) for _ in range(width * height * 3))
    )


def _rgba(width: int, height: int) -> Image.Image:
    raw = bytearray()
    for y in range(height):
        for x in range(width):
            raw += bytes(
                ((x * 7) % 256, (y * 11) % 256, ((x + y) * 3) % 256, (x * 255) // (width - 1))
            )
    return Image.frombytes("RGBA", (width, height), bytes(raw))


def _palette(width: int, height: int) -> Image.Image:
    image = Image.frombytes(
        "P",
        (width, height),
        bytes(((x // 6) * 7 + (y // 5) * 3) % 16 for y in range(height) for x in range(width)),
    )
    rng = random.Random(7)
    image.putpalette([rng.randrange(256) for _ in range(16 * 3)])
    return image


def _sixteen_bit(width: int, height: int) -> Image.Image:
    # Pillow maps I;16 to L by clipping at 255: keep most values in range so the hash has texture.
    values = [(x * 37 + y * 11) % 300 for y in range(height) for x in range(width)]
    raw = b"".join(v.to_bytes(2, "little") for v in values)
    return Image.frombytes("I;16", (width, height), raw)


def _stripes_tall(width: int, height: int) -> Image.Image:
    raw = bytes((x * 29 + (y // 4) * 70) % 256 for y in range(height) for x in range(width))
    return Image.frombytes("L", (width, height), raw)


GOLDEN: dict[str, Callable[[], Image.Image]] = {
    "gradient_l.png": lambda: _gradient(64, 48),
    "checker_rgb.png": lambda: _checker_rgb(80, 60),
    "noise_rgb.png": lambda: _noise_rgb(40, 30, seed=1234),
    "alpha_rgba.png": lambda: _rgba(50, 50),
    "palette_p.png": lambda: _palette(72, 40),
    "depth16_i16.png": lambda: _sixteen_bit(45, 33),
    "stripes_tall_l.png": lambda: _stripes_tall(20, 90),
    "tiny_rgb.png": lambda: _noise_rgb(9, 8, seed=99),
}


def reference_hash(image: Image.Image) -> str:
    import imagehash  # the reference implementation (test extra); never a runtime dependency

    return str(imagehash.dhash(image))


def encode(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def build() -> list[tuple[str, Image.Image, str]]:
    """(file name, image, expected hash) for each golden image."""
    out = []
    for name, make in GOLDEN.items():
        image = make()
        decoded = Image.open(io.BytesIO(encode(image)))  # hash what the service will receive
        out.append((name, image, reference_hash(decoded)))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--out", type=Path, default=HERE, help="where to write (default: this folder)"
    )
    parser.add_argument(
        "--check", action="store_true", help="compare with the committed files, write nothing"
    )
    args = parser.parse_args(argv)
    built = build()
    if args.check:
        expected = json.loads((args.out / "expected.json").read_text(encoding="utf-8"))
        committed = {entry["file"]: entry["dhash"] for entry in expected["images"]}
        problems = []
        for name, image, digest in built:
            on_disk = Image.open(args.out / name)
            if committed.get(name) != digest:
                problems.append(
                    f"{name}: expected.json has {committed.get(name)}, reference gives {digest}"
                )
            if on_disk.mode != image.mode or on_disk.tobytes() != image.tobytes():
                problems.append(f"{name}: committed pixels differ from the generator's")
        for line in problems:
            print(line, file=sys.stderr)
        print(
            "golden set is up to date"
            if not problems
            else "golden set differs: rerun golden/generate.py"
        )
        return 1 if problems else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, image, _digest in built:
        (args.out / name).write_bytes(encode(image))
    manifest = {
        "generator": "golden/generate.py",
        "algorithm": "dhash 8x8 (imagehash.dhash), hex",
        "images": [
            {"file": name, "mode": image.mode, "size": list(image.size), "dhash": digest}
            for name, image, digest in built
        ],
    }
    (args.out / "expected.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {len(built)} golden images and expected.json to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
