"""dHash is bit-identical to imagehash.dhash on a varied corpus; fast mode stays close."""

from __future__ import annotations

import io
import random
import struct
import zlib

import imagehash
import pytest
from component_service import encode, flip_bits, image_with_hash
from dhash_app.hashing import (
    ExtractionError,
    dhash_pixels,
    from_hex,
    hamming,
    hash_bytes,
    to_hex,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image


def _noise(size: tuple[int, int], mode: str = "RGB", seed: int = 0) -> Image.Image:
    rng = random.Random(seed)
    bands = len(Image.new(mode, (1, 1)).getbands())
    raw = bytes(rng.randrange(256) for _ in range(size[0] * size[1] * bands))
    return Image.frombytes(mode, size, raw)


def _photo_like(size: tuple[int, int], seed: int) -> Image.Image:
    """Smooth structure (what photos have) rather than pure noise."""
    small = _noise((8, 6), "RGB", seed)
    return small.resize(size, Image.Resampling.BICUBIC)


def _exif_rotated_jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° CW to display
    return encode(_photo_like((320, 200), 5), "JPEG", exif=exif.tobytes(), quality=90)


def _sixteen_bit(size: tuple[int, int]) -> Image.Image:
    raw = b"".join(
        ((x * 131 + y * 71) % 400).to_bytes(2, "little")
        for y in range(size[1])
        for x in range(size[0])
    )
    return Image.frombytes("I;16", size, raw)


CORPUS = {
    "rgb_png_small": lambda: encode(_noise((40, 30), seed=1)),
    "rgb_png_odd_size": lambda: encode(_photo_like((257, 131), 2)),
    "rgb_tiny_1x1": lambda: encode(_noise((1, 1), seed=3)),
    "rgb_wide_1000x20": lambda: encode(_photo_like((1000, 20), 4)),
    "rgb_tall_20x700": lambda: encode(_photo_like((20, 700), 6)),
    "rgba_png": lambda: encode(_noise((64, 64), "RGBA", seed=7)),
    "la_png": lambda: encode(_noise((50, 40), "LA", seed=8)),
    "l_png": lambda: encode(_photo_like((120, 90), 9).convert("L")),
    "palette_png": lambda: encode(_photo_like((200, 150), 10).convert("P")),
    "palette_gif": lambda: encode(_photo_like((90, 70), 11).convert("P"), "GIF"),
    "bilevel_png": lambda: encode(_photo_like((100, 80), 12).convert("1")),
    "sixteen_bit_png": lambda: encode(_sixteen_bit((77, 55))),
    "jpeg_q95": lambda: encode(_photo_like((640, 480), 13), "JPEG", quality=95),
    "jpeg_q40": lambda: encode(_photo_like((800, 600), 14), "JPEG", quality=40),
    "jpeg_progressive": lambda: encode(_photo_like((700, 500), 22), "JPEG", progressive=True),
    "jpeg_grayscale": lambda: encode(_photo_like((300, 200), 15).convert("L"), "JPEG"),
    "jpeg_cmyk": lambda: encode(_photo_like((200, 160), 16).convert("CMYK"), "JPEG"),
    "jpeg_exif_rotated": _exif_rotated_jpeg,
    "webp": lambda: encode(_photo_like((160, 120), 17), "WEBP", quality=80),
    "bmp": lambda: encode(_photo_like((64, 48), 18), "BMP"),
    "tiff": lambda: encode(_photo_like((64, 48), 19), "TIFF"),
}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_exact_mode_is_bit_identical_to_imagehash(name: str) -> None:
    data = CORPUS[name]()
    ours, info = hash_bytes(data, mode="exact")
    reference = str(imagehash.dhash(Image.open(io.BytesIO(data))))
    assert to_hex(ours) == reference, f"{name} ({info.mode} {info.width}x{info.height})"


def test_exif_orientation_is_not_applied_like_imagehash() -> None:
    data = _exif_rotated_jpeg()
    upright = Image.open(io.BytesIO(data))
    from PIL import ImageOps

    rotated = ImageOps.exif_transpose(upright)
    assert rotated is not None and rotated.size != upright.size
    ours, _ = hash_bytes(data)
    assert to_hex(ours) == str(imagehash.dhash(Image.open(io.BytesIO(data))))
    assert to_hex(ours) != str(imagehash.dhash(rotated))


@pytest.mark.parametrize("name", ["rgb_png_small", "palette_png", "sixteen_bit_png", "jpeg_q95"])
def test_fast_mode_equals_exact_on_small_images(name: str) -> None:
    data = CORPUS[name]()
    assert hash_bytes(data, mode="fast")[0] == hash_bytes(data, mode="exact")[0]


def test_fast_mode_on_a_large_jpeg_stays_within_a_few_bits() -> None:
    data = encode(_photo_like((2400, 1800), 21), "JPEG", quality=90)
    exact, _ = hash_bytes(data, mode="exact")
    fast, _ = hash_bytes(data, mode="fast")
    assert to_hex(exact) == str(imagehash.dhash(Image.open(io.BytesIO(data))))
    assert hamming(exact, fast) <= 6


def test_dhash_pixels_sets_a_bit_where_the_right_pixel_is_brighter() -> None:
    row_up = bytes(range(0, 90, 10))  # strictly increasing: 8 ones
    row_flat = bytes([50] * 9)  # equal neighbours: zeros (strictly greater only)
    assert dhash_pixels(row_up + row_flat * 7) == 0xFF << 56
    with pytest.raises(ValueError, match="72 pixels"):
        dhash_pixels(b"\x00" * 71)


def test_crafted_images_have_the_hash_they_were_built_for() -> None:
    for value in (0, 0xFFFFFFFFFFFFFFFF, 0x8000000000000001, 0x0123456789ABCDEF):
        assert hash_bytes(image_with_hash(value))[0] == value
        assert str(imagehash.dhash(Image.open(io.BytesIO(image_with_hash(value))))) == to_hex(value)
    assert hamming(0x0123456789ABCDEF, flip_bits(0x0123456789ABCDEF, 9)) == 9


def test_hex_round_trip_and_validation() -> None:
    assert to_hex(0xF) == "000000000000000f"
    assert from_hex("ffffffffffffffff") == 2**64 - 1
    with pytest.raises(ValueError, match="16 hex digits"):
        from_hex("abc")


def _png_with_header_size(width: int, height: int) -> bytes:
    """A real 1×1 PNG whose IHDR claims ``width``×``height`` (a decompression bomb's header)."""
    data = bytearray(encode(Image.new("L", (1, 1))))
    ihdr = data.index(b"IHDR")
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr : ihdr + 17]))
    data[ihdr + 17 : ihdr + 21] = struct.pack(">I", crc)
    return bytes(data)


@pytest.mark.parametrize(
    ("data", "code", "status"),
    [
        (b"", "empty", 422),
        (b"\x00" * 1000, "undecodable", 422),
        (encode(_photo_like((200, 200), 30), "JPEG")[:600], "undecodable", 422),
        (_png_with_header_size(30000, 30000), "too_many_pixels", 413),
        (_png_with_header_size(100000, 100000), "too_many_pixels", 413),
    ],
    ids=["empty", "garbage", "truncated-jpeg", "bomb-over-our-limit", "bomb-over-pillow-limit"],
)
def test_bad_media_raises_extraction_error(data: bytes, code: str, status: int) -> None:
    with pytest.raises(ExtractionError) as caught:
        hash_bytes(data)
    assert caught.value.code == code
    assert caught.value.status == status


@settings(max_examples=60, deadline=None)
@given(
    mode=st.sampled_from(["RGB", "RGBA", "L", "LA", "P", "I;16", "1", "CMYK"]),
    width=st.integers(1, 120),
    height=st.integers(1, 120),
    seed=st.integers(0, 2**32 - 1),
    fmt=st.sampled_from(["PNG", "TIFF"]),
)
def test_bit_identity_holds_for_arbitrary_images(
    mode: str, width: int, height: int, seed: int, fmt: str
) -> None:
    if mode == "I;16":
        rng = random.Random(seed)
        raw = b"".join(rng.randrange(1024).to_bytes(2, "little") for _ in range(width * height))
        image = Image.frombytes("I;16", (width, height), raw)
    elif mode in ("P", "1"):
        image = _noise((width, height), "RGB", seed).convert(mode)
    else:
        image = _noise((width, height), mode, seed)
    if fmt == "PNG" and mode == "CMYK":
        fmt = "TIFF"  # PNG has no CMYK
    data = encode(image, fmt)
    assert to_hex(hash_bytes(data)[0]) == str(imagehash.dhash(Image.open(io.BytesIO(data))))
