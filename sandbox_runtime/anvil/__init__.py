"""The `anvil` package that widget server code imports, inside the sandbox.

It knows one thing about the outside world: the channel the sandbox was started with
(see `anvil._channel`). It imports nothing from the web app.
"""

from . import app
from ._media import BlobMedia, Media, URLMedia

__all__ = ["BlobMedia", "Media", "URLMedia", "app", "is_server_side"]


def is_server_side() -> bool:
    """True: this is server code (in client code it is False)."""
    return True
