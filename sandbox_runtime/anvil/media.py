"""`anvil.media`, as in Anvil: Media to and from files in the run's own temporary space."""

import contextlib
import mimetypes
import os
import tempfile

from ._media import BlobMedia, Media


@contextlib.contextmanager
def TempFile(media: Media | None = None, file_name: str | None = None):  # noqa: N802 (Anvil's name)
    """A temporary file holding `media`'s bytes (or empty), removed when the block ends."""
    suffix = os.path.splitext(file_name or (media.name if media else "") or "")[1]
    descriptor, path = tempfile.mkstemp(suffix=suffix)
    try:
        with os.fdopen(descriptor, "wb") as file:
            if media is not None:
                file.write(media.get_bytes())
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)


def from_file(file_name: str, mime_type: str | None = None, name: str | None = None) -> BlobMedia:
    """A BlobMedia holding the file's bytes (type guessed from its name unless given)."""
    with open(file_name, "rb") as file:
        content = file.read()
    content_type = mime_type or mimetypes.guess_type(file_name)[0] or "application/octet-stream"
    return BlobMedia(content_type, content, name=name or os.path.basename(file_name))


def write_to_file(media: Media, file_name: str) -> None:
    """Write `media`'s bytes to `file_name`."""
    with open(file_name, "wb") as file:
        file.write(media.get_bytes())
