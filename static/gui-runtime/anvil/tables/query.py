"""anvil.tables.query in client code: searches run in server code, so it refuses to load."""

from .. import TABLES_IN_CLIENT_MESSAGE, TablesUnavailableError

raise TablesUnavailableError(TABLES_IN_CLIENT_MESSAGE)
