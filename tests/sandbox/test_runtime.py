"""The runtime widget code imports is a package of its own: nothing of the web app inside."""

import ast
import subprocess
from pathlib import Path

from pyspace.sandbox.bwrap import PYTHON, RUNTIME_DIR


def test_runtime_imports_nothing_from_the_web_app():
    for path in Path(RUNTIME_DIR).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                continue
            assert not any(module.split(".")[0] in ("pyspace", "flask") for module in modules), path


def test_runtime_outside_a_sandbox_says_where_it_works():
    code = (
        f"import sys; sys.path.insert(0, {RUNTIME_DIR!r})\nimport anvil.secrets\n"
        "try:\n    anvil.secrets.get_secret('api_key')\n"
        "except RuntimeError as error:\n    print(error)\n"
    )
    completed = subprocess.run(
        [PYTHON, "-I", "-S", "-c", code], check=False, capture_output=True, text=True, timeout=10
    )
    assert completed.stdout == "anvil is only available in py.space's sandbox\n"
