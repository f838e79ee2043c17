"""py.space's `anvil` package for client code: runs in the viewer's browser, under Pyodide.

`anvil.server.call` reaches this widget's server functions; `anvil.users.get_user()` names the
viewer (username only). Secrets exist only in server code, so `anvil.secrets` refuses to load
here (see anvil/secrets.py). `anvil.tables` holds the rows and searches server functions return,
and its `app_tables` reaches the tables the owner opened to client code (the site checks each
table's access on every request). Media (`anvil.BlobMedia`, ...) is the same class as in server
code.
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


class SecretsUnavailableError(ImportError):
    """Raised when client code imports anvil.secrets: secrets never reach the browser."""


def is_server_side() -> bool:
    """False: this is client code (in server code it is True)."""
    return False


def __getattr__(name):
    # `import anvil` then `anvil.secrets.get_secret(...)` gets the same explanation as an import.
    if name == "secrets":
        raise SecretsUnavailableError(SECRETS_IN_CLIENT_MESSAGE)
    # A submodule not imported yet (`anvil.tables` after `import anvil`) is imported here.
    # MicroPython also comes here for `from . import _serialise` in the package's own modules:
    # it asks this hook before it looks for a submodule, and stops at its AttributeError.
    if not name.startswith("__"):
        try:
            __import__("anvil." + name)
        except ImportError as error:
            # No such submodule: the AttributeError below. A submodule that failed to import
            # something of its own says so (MicroPython's ImportError names nothing).
            if getattr(error, "name", None) not in (None, "anvil." + name):
                raise
        else:
            return globals()[name]
    raise AttributeError(f"module 'anvil' has no attribute {name!r}")
