"""anvil.tables in client code: it refuses to load, saying to call a server function instead.

`import anvil.tables.query as q` and `from anvil.tables import app_tables` stop here too.
"""

from .. import TABLES_IN_CLIENT_MESSAGE, TablesUnavailableError

raise TablesUnavailableError(TABLES_IN_CLIENT_MESSAGE)
