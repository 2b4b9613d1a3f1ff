"""The 64-bit difference hash (dHash).

Exact mode is bit-identical to ``imagehash.dhash``: the image is converted to
grayscale ("L") first, then resized to 9×8 with Lanczos, and each bit says
whether a pixel is brighter than its left neighbour (row-major, most
significant bit first). Like imagehash, EXIF orientation is *not* applied: a
rotated photo hashes as stored, so hashes stay comparable with imagehash.

Fast mode lets the JPEG decoder scale down by up to 1/8 while decoding
(``Image.draft``) and box-reduces any image still much larger than needed
(``Image.reduce``) before the Lanczos step. It is much faster on large photos
and may differ from exact mode in a few bits (measured in benchmarks/README.md).
Images narrower than 576 or lower than 512 pixels hash identically in both modes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Literal

from PIL import Image, UnidentifiedImageError

HASH_WIDTH = 9  # 9 columns give 8 horizontal differences per row
HASH_HEIGHT = 8
HASH_BITS = 64
DEFAULT_MAX_PIXELS = 64_000_000  # a 12-MP photo is far below; a decompression bomb is above

# Below this size the JPEG decoder is never asked to scale: fast == exact for small images.
_FAST_DRAFT_TARGET = (HASH_WIDTH * 32, HASH_HEIGHT * 32)

HashMode = Literal["exact", "fast"]


class ExtractionError(Exception):
    """The media could not be turned into a hash (undecodable, truncated, too large)."""

    def __init__(self, message: str, *, code: str, status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


@dataclass(frozen=True)
class ImageInfo:
    format: str
    mode: str
    width: int
    height: int


def dhash_pixels(gray_9x8: bytes) -> int:
    """The hash of a 9×8 grayscale raster given row-major, one byte per pixel."""
    if len(gray_9x8) != HASH_WIDTH * HASH_HEIGHT:
        raise ValueError(f"expected {HASH_WIDTH * HASH_HEIGHT} pixels, got {len(gray_9x8)}")
    value = 0
    for row in range(HASH_HEIGHT):
        start = row * HASH_WIDTH
        for col in range(HASH_WIDTH - 1):
            left = gray_9x8[start + col]
            right = gray_9x8[start + col + 1]
            value = (value << 1) | (1 if right > left else 0)
    return value


def dhash_image(image: Image.Image) -> int:
    """Exact dHash of an opened image (same operations, same order as imagehash)."""
    small = image.convert("L").resize((HASH_WIDTH, HASH_HEIGHT), Image.Resampling.LANCZOS)
    return dhash_pixels(small.tobytes())


def _fast_dhash(image: Image.Image) -> int:
    """Decode JPEGs at up to 1/8 scale, box-reduce what is still large, then as exact mode."""
    if image.format == "JPEG":
        image.draft("L", _FAST_DRAFT_TARGET)
    gray = image.convert("L")
    factor = min(gray.width // _FAST_DRAFT_TARGET[0], gray.height // _FAST_DRAFT_TARGET[1])
    if factor >= 2:
        gray = gray.reduce(factor)
    small = gray.resize((HASH_WIDTH, HASH_HEIGHT), Image.Resampling.LANCZOS)
    return dhash_pixels(small.tobytes())


def to_hex(value: int) -> str:
    """16 lower-case hex digits, the same text as ``str(imagehash.dhash(...))``."""
    return f"{value:016x}"


def from_hex(text: str) -> int:
    if len(text) != HASH_BITS // 4:
        raise ValueError(f"a dHash is {HASH_BITS // 4} hex digits, got {text!r}")
    return int(text, 16)


def hamming(a: int, b: int) -> int:
    return bin(a ^ b).count("1")


def open_image(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Open image bytes lazily, refusing decompression bombs before decoding.

    The size check here reads only the header. (Pillow's own DecompressionBombWarning fires
    above its larger limit, which this check has already refused; the service silences it.)
    """
    if not data:
        raise ExtractionError("empty upload: no image bytes received", code="empty")
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise _bomb(str(exc)) from exc
    except UnidentifiedImageError as exc:
        raise ExtractionError(
            "not a decodable image (unknown or corrupt format)", code="undecodable"
        ) from exc
    except Exception as exc:  # untrusted bytes: any decoder error is bad media, never a crash
        raise ExtractionError(f"not a decodable image: {exc}", code="undecodable") from exc
    width, height = image.size
    if width * height > max_pixels:
        image.close()
        raise _bomb(f"{width}x{height} = {width * height} pixels exceeds the limit of {max_pixels}")
    return image


def _bomb(detail: str) -> ExtractionError:
    return ExtractionError(
        f"image refused as a possible decompression bomb: {detail}",
        code="too_many_pixels",
        status=413,
    )


def hash_bytes(
    data: bytes, *, mode: HashMode = "exact", max_pixels: int = DEFAULT_MAX_PIXELS
) -> tuple[int, ImageInfo]:
    """Decode image bytes and return (hash, info); raises ExtractionError on bad media."""
    image = open_image(data, max_pixels=max_pixels)
    info = ImageInfo(str(image.format), image.mode, image.size[0], image.size[1])
    try:
        if mode == "fast":
            return _fast_dhash(image), info
        return dhash_image(image), info
    except Image.DecompressionBombError as exc:
        raise _bomb(str(exc)) from exc
    except Exception as exc:  # untrusted bytes: any decoder error is bad media, never a crash
        raise ExtractionError(f"image could not be decoded: {exc}", code="undecodable") from exc
    finally:
        image.close()
