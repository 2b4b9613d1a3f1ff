"""Output survives a console or pipe whose encoding cannot show every character.

On Windows runners a piped ``sys.stdout`` is cp1252: "✅", "❌" and "→" cannot be
encoded there. Nothing the tool prints may be lost (or crash) because of that.
PYTHONIOENCODING=cp1252 reproduces that stream on any platform.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from dhash_gha.cli import lossless_stdio


def test_piped_stream_becomes_utf8() -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="cp1252")
    lossless_stdio([stream])
    stream.write("✅ valid → next\n")
    stream.flush()
    assert raw.getvalue() == "✅ valid → next\n".encode()


def test_unencodable_text_is_replaced_not_raised() -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="utf-8")
    lossless_stdio([stream])
    stream.write("name \udcff end\n")  # an undecodable file name (surrogateescape)
    stream.flush()
    assert raw.getvalue() == b"name ? end\n"


def test_streams_without_reconfigure_are_left_alone() -> None:
    stream = io.StringIO()
    lossless_stdio([stream])
    stream.write("✅")
    assert stream.getvalue() == "✅"


def test_cli_message_survives_a_cp1252_pipe(example_workspace: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    env.update(PYTHONIOENCODING="cp1252", PYTHONUTF8="0")
    done = subprocess.run(
        [sys.executable, "-m", "dhash_gha", "--root", str(example_workspace), "config", "validate"],
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "✅ configuration valid" in done.stdout.decode("utf-8")
