"""Client code (the browser's `anvil` package) can't use anvil.tables: it says what to do."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "statement",
    [
        "import anvil.tables",
        "import anvil.tables.query as q",
        "from anvil.tables import app_tables",
        "import anvil; anvil.tables.app_tables",
    ],
)
def test_client_anvil_tables_refuses_and_points_to_a_server_function(statement):
    # Plain CPython stands in for Pyodide: the refusal needs nothing browser-specific.
    result = subprocess.run(
        [sys.executable, "-c", statement],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT / "static" / "gui-runtime",
        timeout=30,
    )
    assert result.returncode == 1
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith(
        "anvil.TablesUnavailableError: Data tables are only available in server code."
    )
    assert "anvil.server.call()" in last_line
