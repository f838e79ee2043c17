"""Client code of a GUI widget can't launch background tasks: a clear error says what to do."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Plain CPython stands in for Pyodide: the browser-only modules the runtime imports are stubbed.
STUBS = """
import sys, types
sys.modules['_pyspace_frame'] = types.ModuleType('_pyspace_frame')
ffi = types.ModuleType('pyodide.ffi')
ffi.can_run_sync = lambda: False
ffi.run_sync = lambda awaitable: None
sys.modules['pyodide'] = types.ModuleType('pyodide')
sys.modules['pyodide.ffi'] = ffi
import anvil.server
"""


@pytest.mark.parametrize(
    "statement",
    [
        "anvil.server.launch_background_task('refresh', 1)",
        "anvil.server.get_background_task('1')",
        "anvil.server.list_background_tasks()",
    ],
)
def test_client_code_cannot_launch_or_read_tasks_and_is_told_why(statement):
    result = subprocess.run(
        [sys.executable, "-c", STUBS + statement],
        capture_output=True,
        text=True,
        cwd=ROOT / "static" / "gui-runtime",
        timeout=30,
        check=False,
    )
    assert result.returncode == 1
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("RuntimeError: anvil.server.")
    assert "can't be used in client code" in last_line
    assert "anvil.server.call" in last_line
