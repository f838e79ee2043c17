"""Client code of a GUI widget can't launch background tasks: a clear error says what to do."""

import pytest

from tests.gui.client_runtime import client_error

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
    last_line = client_error(STUBS + statement)
    assert last_line.startswith("RuntimeError: anvil.server.")
    assert "can't be used in client code" in last_line
    assert "anvil.server.call" in last_line
