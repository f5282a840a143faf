"""How the API tests are put together: what test modules share comes from the support
package, never from another test module (importing one runs its module-level code and ties
the two together) nor from conftest.py (pytest's plugin, loaded by pytest itself). No server."""
import ast
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
TEST_MODULES = sorted(HERE.glob("test_*.py"))


def imported_modules(path):
    """(line, module) of every import in the file, at any depth (inside functions too)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.lineno, node.module))
        elif isinstance(node, ast.ImportFrom):
            out.append((node.lineno, "." * node.level + (node.module or "")))
    return out


def test_there_are_test_modules_to_check():
    assert len(TEST_MODULES) > 10, TEST_MODULES


@pytest.mark.parametrize("path", TEST_MODULES, ids=lambda p: p.name)
def test_no_test_module_imports_another_or_conftest(path):
    others = {p.stem for p in TEST_MODULES}
    bad = [(line, mod) for line, mod in imported_modules(path)
           if mod.split(".")[0] in others | {"conftest"} or mod.startswith(".")]
    assert not bad, f"{path.name} imports {bad}: shared helpers belong in tests/api/support/"


def test_the_check_sees_such_an_import(tmp_path):
    # The check above would pass on a parser that saw nothing: show it sees each form.
    probe = tmp_path / "test_probe.py"
    probe.write_text("import os\nfrom test_bulk import upload\nimport conftest\n"
                     "def f():\n    from test_jobs import start\n")
    mods = [m for _, m in imported_modules(probe)]
    assert mods == ["os", "test_bulk", "conftest", "test_jobs"], mods
