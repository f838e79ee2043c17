"""py.space's `anvil` package for client code: runs in the viewer's browser, under Pyodide.

`anvil.server.call` reaches this widget's server functions; `anvil.users.get_user()` names the
viewer (username only). Secrets exist only in server code, so `anvil.secrets` refuses to load
here (see anvil/secrets.py). `anvil.tables` loads, for the rows and searches server functions
return (read-only here), but its `app_tables` refuses: a widget's data is read by its server
functions. Media (`anvil.BlobMedia`, ...) is the same class as in server code.
"""

from . import app  # noqa: F401 (anvil.app, as in Anvil)
from ._media import BlobMedia, Media, URLMedia

__all__ = ["BlobMedia", "Media", "URLMedia"]

SECRETS_IN_CLIENT_MESSAGE = (
    "Secrets are only available in server code. For security reasons, secrets aren't available "
    "to client code, which runs in the viewer's browser: read the secret in a server function "
    "(anvil.secrets.get_secret there) and call it with anvil.server.call(). Encryption keys "
    "(encrypt_with_key, decrypt_with_key) work in server code only, for the same reason."
)


TABLES_IN_CLIENT_MESSAGE = (
    "Data tables are only available in server code. Client code runs in the viewer's browser "
    "and can't reach the widget's tables: read or change them in a server function "
    "(@anvil.server.callable, using anvil.tables there) and call it with anvil.server.call()."
)


class SecretsUnavailableError(ImportError):
    """Raised when client code imports anvil.secrets: secrets never reach the browser."""


class TablesUnavailableError(ImportError):
    """Raised when client code imports anvil.tables: tables are reached through server code."""


def is_server_side() -> bool:
    """False: this is client code (in server code it is True)."""
    return False


def __getattr__(name):
    # `import anvil` then `anvil.secrets.get_secret(...)` gets the same explanation as an import.
    if name == "secrets":
        raise SecretsUnavailableError(SECRETS_IN_CLIENT_MESSAGE)
    if name == "tables":
        import importlib

        return importlib.import_module("anvil.tables")
    raise AttributeError(f"module 'anvil' has no attribute {name!r}")
