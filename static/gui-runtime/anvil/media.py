"""`anvil.media` in client code: offer Media a server function returned as a download."""

from pyodide.ffi import to_js

from ._media import Media


def download(media: Media) -> None:
    """Have the browser save `media` (named by `media.name`), as Anvil's `download` does."""
    # Imported when used: see anvil.server._ask.
    import _pyspace_frame

    _pyspace_frame.downloadMedia(to_js(media.get_bytes()), media.content_type, media.name)
