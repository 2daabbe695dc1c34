"""The layout rules of docs/conventions.md that import-linter cannot see.

- An import of a hackops module inside a function carries a one-line `# lazy: <reason>` comment
  on the line above it (import-linter checks the module-level graph only; an unexplained lazy
  import is how a cycle hides).
- No module grows past 500 lines: a service that does is split into modules named after what
  they hold.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "hackops"
MAX_LINES = 500


def _modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def _imported(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:  # relative: inside the package by definition
        return ["hackops."]
    return [node.module or ""]


def _function_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every hackops import nested in a function of `path`."""
    found: list[tuple[int, str]] = []

    def walk(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if in_function and isinstance(child, ast.Import | ast.ImportFrom):
                found.extend(
                    (child.lineno, name)
                    for name in _imported(child)
                    if name == "hackops" or name.startswith("hackops.")
                )
            walk(child, nested)

    walk(ast.parse(path.read_text(encoding="utf-8")), False)
    return found


def test_the_source_tree_is_where_the_rules_look() -> None:
    assert (SRC / "main.py").is_file()
    assert len(_modules()) > 100


def test_every_import_inside_a_function_says_why() -> None:
    unexplained = []
    for path in _modules():
        lines = path.read_text(encoding="utf-8").splitlines()
        for line, module in _function_imports(path):
            above = lines[line - 2].strip() if line >= 2 else ""
            if not (above.startswith("# lazy:") and len(above) > len("# lazy: ") + 10):
                unexplained.append(f"{path.relative_to(SRC.parent)}:{line} imports {module}")
    assert unexplained == [], (
        "an import inside a function needs a '# lazy: <reason>' line above it, or belongs at "
        "the top of the module:\n" + "\n".join(unexplained)
    )


def test_the_lazy_import_check_finds_an_unexplained_one(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "def f():\n    from hackops.db import db_now\n\n"
        "def g():\n    # lazy: loaded only by the command that needs it\n    import hackops.demo\n"
    )
    assert _function_imports(module) == [(2, "hackops.db"), (6, "hackops.demo")]


def test_no_module_is_longer_than_the_limit() -> None:
    long = {
        str(path.relative_to(SRC.parent)): count
        for path in _modules()
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}, f"split these by what they hold (limit {MAX_LINES} lines): {long}"


def test_no_file_holds_a_merge_conflict_marker() -> None:
    """A conflict left unresolved in a template or a stylesheet breaks no import, so nothing
    else would catch it before a person sees the markers on a page."""
    import subprocess

    root = SRC.parents[1]
    found = subprocess.run(
        ["git", "grep", "-n", "-E", "^(<<<<<<<|>>>>>>>) ", "--", "src", "tests", "docs"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if found.returncode == 128:  # not a git checkout: nothing to check against
        return
    assert found.stdout == "", f"merge conflict markers:\n{found.stdout}"
