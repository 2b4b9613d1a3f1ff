"""Entry safety rules (pure): every hostile name class, Windows rules, duplicates, bombs."""

from __future__ import annotations

import ntpath
import posixpath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dhash_gha.core.archive.entries import (
    Entry,
    Limits,
    check_entries,
    entry_problems,
    name_problem,
    windows_path_too_long,
)
from dhash_gha.errors import BadInput

INCLUDE = ["src", "config", "deployments"]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("/etc/passwd", "absolute"),
        ("../evil.py", ".."),
        ("src/../../evil.py", ".."),
        ("C:evil.py", "drive letter"),
        ("c:/windows/evil", "drive letter"),
        ("src\\evil.py", "backslash"),
        ("src//x", "empty"),
        ("src/./x", "'.'"),
        ("src/CON", "reserved"),
        ("src/con.txt", "reserved"),
        ("src/Lpt1.log", "reserved"),
        ("src/COM9", "reserved"),
        ("src/nul ", "space"),
        ("src/a:stream", "Windows"),
        ("src/what?", "Windows"),
        ("src/trailing.", "dot"),
        ("src/" + "x" * 256, "255"),
        ("src/" + "/".join(["d"] * 600), "longer than"),
        ("", "empty"),
        ("src/a\x00b", "NUL"),
    ],
)
def test_unsafe_names_are_named(name: str, reason: str) -> None:
    problem = name_problem(name)
    assert problem is not None and reason in problem


@pytest.mark.parametrize(
    "name", ["src/dhash_app/x.py", "src/ünïcødé ñame.txt", "src/CONSOLE.txt", "src/com10", "src/a/"]
)
def test_ordinary_names_pass(name: str) -> None:
    assert name_problem(name) is None


def problems(*entries: Entry, limits: Limits | None = None) -> list[str]:
    return entry_problems(list(entries), INCLUDE, limits or Limits(), allowed_extra=["m.json"])


def test_links_devices_and_other_kinds_are_refused() -> None:
    assert "symlink" in problems(Entry("src/link", "symlink"))[0]
    assert "device" in problems(Entry("src/dev", "device"))[0]
    assert "other" in problems(Entry("src/odd", "other"))[0]


def test_outside_the_include_set() -> None:
    assert "outside" in problems(Entry("migrations/0001.py", "file"))[0]
    assert "outside" in problems(Entry("srcx/a", "file"))[0]
    assert problems(Entry("m.json", "file")) == []


def test_duplicates_exact_and_file_vs_dir() -> None:
    assert "duplicate" in problems(Entry("src/a", "file"), Entry("src/a", "file"))[0]
    assert "duplicate" in problems(Entry("src/a", "file"), Entry("src/a/", "dir"))[0]


def test_case_insensitive_collisions_including_parents_and_unicode_forms() -> None:
    assert (
        "case-insensitive" in problems(Entry("src/Readme", "file"), Entry("src/README", "file"))[0]
    )
    found = problems(Entry("src/Dir/a", "file"), Entry("src/dir/b", "file"))
    assert found and "'src/dir'" in found[0]
    nfc, nfd = "src/caf\u00e9", "src/cafe\u0301"
    assert problems(Entry(nfc, "file"), Entry(nfd, "file"))


def test_a_file_cannot_be_a_parent() -> None:
    assert "parent" in problems(Entry("src/a", "file"), Entry("src/a/b", "file"))[0]


def test_size_bomb_by_total() -> None:
    limits = Limits(max_total_bytes=1000, max_ratio=200)
    found = problems(
        Entry("src/a", "file", 600, 600), Entry("src/b", "file", 600, 600), limits=limits
    )
    assert "over the limit" in found[0]


def test_ratio_bomb_per_entry_and_small_files_exempt() -> None:
    big = 10 * 1024 * 1024
    assert "bomb" in problems(Entry("src/zeros", "file", big, big // 1000))[0]
    assert problems(Entry("src/small", "file", 4096, 4)) == []


def test_check_entries_raises_bad_input_naming_entries() -> None:
    with pytest.raises(BadInput) as caught:
        check_entries([Entry("../x", "file")], INCLUDE, Limits(), source="b.zip")
    assert "b.zip" in caught.value.message and "'../x'" in caught.value.message


def test_windows_long_paths() -> None:
    root = "C:\\Users\\operator\\dhash"
    assert not windows_path_too_long(root, "src/app.py")
    assert windows_path_too_long(root, "src/" + "/".join(["directory"] * 30))


_ALPHABET = st.sampled_from([*"ab./\\:C.~ \x00", "..", "CON", "é", "e\u0301"])


@settings(max_examples=400, deadline=None)
@given(st.lists(_ALPHABET, min_size=1, max_size=12).map("".join))
def test_accepted_names_stay_inside_on_posix_and_windows(name: str) -> None:
    if name_problem(name) is not None:
        return
    bare = name.rstrip("/")
    posix = posixpath.normpath(posixpath.join("/staging", bare))
    assert posix.startswith("/staging/"), name
    windows = ntpath.normpath(ntpath.join("C:\\staging", *bare.split("/")))
    assert windows.lower().startswith("c:\\staging\\"), name
    assert ".." not in bare.split("/")
