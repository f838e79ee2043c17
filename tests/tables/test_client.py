"""Client code (the browser's `anvil` package) can't reach tables itself (it gets rows and
searches from server functions): app_tables and anvil.tables.query say what to do."""

from pathlib import Path

import pytest

from tests.gui.client_runtime import client_error

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "statement",
    [
        "import anvil.tables; anvil.tables.app_tables.tasks",
        "import anvil.tables.query as q",
        "from anvil.tables import app_tables; app_tables['tasks']",
        "import anvil; anvil.tables.app_tables.tasks",
    ],
)
def test_client_anvil_tables_refuses_and_points_to_a_server_function(statement):
    last_line = client_error(statement)
    assert last_line.startswith(
        "anvil.TablesUnavailableError: Data tables are only available in server code."
    )
    assert "anvil.server.call()" in last_line
