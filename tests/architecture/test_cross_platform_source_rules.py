"""Source rules that keep the tool correct on Windows and macOS, checked over the code.

- Text files are opened with an explicit encoding: Windows' default is cp1252.
- Subprocess output decoded as text names its encoding, for the same reason.
- POSIX-only modules (fcntl, pwd, grp, resource, termios) are never imported at
  module level, and POSIX-only os/signal names are used only behind a platform check.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SOURCES = sorted(
    [
        *(REPO / "dhash_gha").rglob("*.py"),
        *(REPO / "examples" / "dhash-app" / "src").rglob("*.py"),
    ]
)
NOT_FILE_OPENERS = {"tarfile", "os", "Image", "zipfile", "urllib", "request", "webbrowser"}
POSIX_ONLY_MODULES = {"fcntl", "pwd", "grp", "resource", "termios"}
POSIX_ONLY_NAMES = {"killpg", "getuid", "geteuid", "getpgid", "setsid", "fork", "SIGKILL"}


def _calls(tree: ast.AST) -> Iterator[ast.Call]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node


def _keywords(call: ast.Call) -> set[str]:
    return {k.arg for k in call.keywords if k.arg}


def _literal(node: ast.expr | None) -> object:
    return node.value if isinstance(node, ast.Constant) else None


def text_open_problem(call: ast.Call) -> str | None:
    """Why ``call`` opens or decodes text without naming an encoding (None when it is fine)."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    owner = func.value if isinstance(func, ast.Attribute) else None
    owner_name = owner.id if isinstance(owner, ast.Name) else ""
    keywords = _keywords(call)
    if name == "open" and owner_name not in NOT_FILE_OPENERS:
        mode_index = 1 if isinstance(func, ast.Name) else 0  # open(path, mode) / path.open(mode)
        mode = call.args[mode_index] if len(call.args) > mode_index else None
        mode_value = _literal(mode) if mode is not None else "r"
        for keyword in call.keywords:
            if keyword.arg == "mode":
                mode_value = _literal(keyword.value)
        if "fileobj" in keywords:
            return None
        if isinstance(mode_value, str) and "b" in mode_value:
            return None
        if "encoding" not in keywords:
            return f"open(mode={mode_value!r}) without encoding="
    if name == "read_text" and not call.args and "encoding" not in keywords:
        return "read_text() without encoding="
    if name == "write_text" and len(call.args) < 2 and "encoding" not in keywords:
        return "write_text() without encoding="
    if name in {"run", "Popen", "check_output"} and owner_name == "subprocess":
        texty = any(
            k.arg in {"text", "universal_newlines"} and _literal(k.value) is True
            for k in call.keywords
        )
        if texty and "encoding" not in keywords:
            return f"subprocess.{name}(text=True) without encoding="
    return None


def _problems(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for call in _calls(tree):
        problem = text_open_problem(call)
        if problem:
            yield f"{path.relative_to(REPO).as_posix()}:{call.lineno}: {problem}"


@pytest.mark.parametrize(
    ("source", "bad"),
    [
        ("open(p)", True),
        ("open(p, 'w')", True),
        ("open(p, 'rb')", False),
        ("open(p, 'a', encoding='utf-8')", False),
        ("p.open('a')", True),
        ("p.open(mode='wb')", False),
        ("p.read_text()", True),
        ("p.read_text(encoding='utf-8')", False),
        ("p.write_text(s)", True),
        ("p.write_text(s, 'utf-8')", False),
        ("subprocess.run(a, text=True)", True),
        ("subprocess.run(a, text=True, encoding='utf-8')", False),
        ("subprocess.run(a, capture_output=True)", False),
        ("tarfile.open(fileobj=f, mode='w')", False),
        ("os.open(p, flags)", False),
    ],
)
def test_the_rule_itself(source: str, bad: bool) -> None:
    call = ast.parse(source).body[0]
    assert isinstance(call, ast.Expr) and isinstance(call.value, ast.Call)
    assert (text_open_problem(call.value) is not None) is bad


def test_every_text_open_names_its_encoding() -> None:
    assert SOURCES
    problems = [problem for path in SOURCES for problem in _problems(path)]
    assert problems == []


def test_no_posix_only_module_at_module_level() -> None:
    found = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module.split(".")[0]]
            found += [f"{path.name}: {n}" for n in names if n in POSIX_ONLY_MODULES]
    assert found == []


def _guarded_lines(tree: ast.AST) -> set[int]:
    """Lines inside an ``if`` / conditional expression that tests sys.platform or os.name."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If | ast.IfExp):
            test = ast.unparse(node.test)
            if "sys.platform" in test or "os.name" in test:
                for child in ast.walk(node):
                    if hasattr(child, "lineno"):
                        lines.add(child.lineno)
    return lines


def test_posix_only_calls_sit_behind_a_platform_check() -> None:
    found = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        guarded = _guarded_lines(tree)
        # a function whose body starts with a platform check that returns early is guarded too
        for function in ast.walk(tree):
            if isinstance(function, ast.FunctionDef) and function.body:
                first = function.body[0]
                while isinstance(first, ast.Expr) and len(function.body) > 1:  # docstring
                    first = function.body[1]
                    break
                if isinstance(first, ast.If) and (
                    "sys.platform" in ast.unparse(first.test)
                    or "os.name" in ast.unparse(first.test)
                ):
                    end = function.end_lineno or function.lineno
                    guarded |= set(range(function.lineno, end + 1))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in {"os", "signal"}
                and node.attr in POSIX_ONLY_NAMES
                and node.lineno not in guarded
            ):
                found.append(f"{path.relative_to(REPO).as_posix()}:{node.lineno}: {node.attr}")
    assert found == []
