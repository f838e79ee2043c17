"""Running the browser's `anvil` package (static/gui-runtime/) under plain CPython.

Plain CPython stands in for Pyodide: the client runtime's refusals (secrets, keys, tables,
tasks) need nothing browser-specific, so tests of several areas check them this way.
"""

import subprocess
import sys
from pathlib import Path

GUI_RUNTIME = Path(__file__).resolve().parents[2] / "static" / "gui-runtime"


def client_error(code: str) -> str:
    """The last line of the error `code` ends with as client code (it must fail)."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        capture_output=True,
        text=True,
        cwd=GUI_RUNTIME,
        timeout=30,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    return result.stderr.strip().splitlines()[-1]
