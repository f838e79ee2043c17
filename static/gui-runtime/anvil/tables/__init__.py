"""anvil.tables in client code: the rows and searches server functions return (read-only), and
an `app_tables` that refuses, saying to call a server function instead.

`import anvil.tables.query as q` stops with the same explanation.
"""

from .. import TABLES_IN_CLIENT_MESSAGE, TablesUnavailableError
from .._client_values import Row, RowReadOnlyError, SearchIterator

__all__ = ["Row", "RowReadOnlyError", "SearchIterator", "TableError", "app_tables"]


class TableError(Exception):
    """A table operation failed (Anvil's name)."""


class _AppTables:
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise TablesUnavailableError(TABLES_IN_CLIENT_MESSAGE)

    def __getitem__(self, name):
        raise TablesUnavailableError(TABLES_IN_CLIENT_MESSAGE)


app_tables = _AppTables()
