"""Media objects, as Anvil defines them: a blob of bytes with a content type and a name.

`anvil.Media` is the base class; `anvil.BlobMedia(content_type, content, name=None)` holds bytes
in memory and `anvil.URLMedia(url)` fetches them on first use. `anvil.media` (the module) adds
`TempFile`, `from_file` and `write_to_file`. Everything here is plain Python: the same file is
used by server code in the sandbox and by client code in the browser.
"""

import mimetypes

# The largest Media a run may build or receive; the host enforces its own cap on what crosses.
MAX_MEDIA_BYTES = 50 * 1024 * 1024


class _ObjectURLs:
    """In the browser, the client runtime sets `make` to turn a Media's bytes into a blob: URL
    (`<img src=...>`); in the sandbox it stays None."""

    make = None


class Media:
    """A named blob of bytes with a content type (Anvil's `anvil.Media`)."""

    content_type: str = "application/octet-stream"
    name: str | None = None

    def get_bytes(self) -> bytes:
        raise NotImplementedError

    @property
    def length(self) -> int:
        return len(self.get_bytes())

    def get_length(self) -> int:
        return self.length

    def get_content_type(self) -> str:
        return self.content_type

    def get_name(self) -> str | None:
        return self.name

    def get_url(self, download: bool = True) -> str | None:
        # Media made in code has no URL of its own (as in Anvil, until it is sent somewhere).
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.content_type!r} name={self.name!r}>"


def _as_bytes(content) -> bytes:
    if isinstance(content, bytes):
        return content
    if isinstance(content, (bytearray, memoryview)):
        return bytes(content)
    if isinstance(content, str):
        # Anvil accepts text and stores it as UTF-8.
        return content.encode("utf-8")
    raise TypeError(f"BlobMedia content must be bytes or str, not {type(content).__name__}")


class BlobMedia(Media):
    """Bytes held in memory: `BlobMedia("text/plain", b"hello", name="hello.txt")`."""

    def __init__(self, content_type: str = "", content: bytes | str = b"", name: str | None = None):
        data = _as_bytes(content)
        if len(data) > MAX_MEDIA_BYTES:
            raise ValueError(
                f"Media is limited to {MAX_MEDIA_BYTES // (1024 * 1024)} MB; "
                f"this one is {len(data) / (1024 * 1024):.1f} MB."
            )
        self.content_type = str(content_type or "application/octet-stream")
        self.name = None if name is None else str(name)
        self._bytes = data
        self._url: str | None = None

    def get_bytes(self) -> bytes:
        return self._bytes

    @property
    def length(self) -> int:
        return len(self._bytes)

    @property
    def url(self) -> str | None:
        return self.get_url()

    def get_url(self, download: bool = True) -> str | None:
        # In client code: a blob: URL of the bytes, made once (as Anvil gives Media a URL).
        if _ObjectURLs.make is None:
            return None
        if self._url is None:
            self._url = _ObjectURLs.make(self)
        return self._url

    def __eq__(self, other) -> bool:
        return isinstance(other, BlobMedia) and (self.content_type, self.name, self._bytes) == (
            other.content_type,
            other.name,
            other._bytes,
        )

    __hash__ = None  # type: ignore[assignment]


class URLMedia(Media):
    """Media fetched from a URL the first time its bytes are asked for."""

    def __init__(self, url: str):
        self.url = str(url)
        self.name = self.url.rstrip("/").rsplit("/", 1)[-1] or None
        self.content_type = mimetypes.guess_type(self.url)[0] or "application/octet-stream"
        self._bytes: bytes | None = None

    def get_bytes(self) -> bytes:
        if self._bytes is None:
            import anvil.http

            fetched = anvil.http.request(self.url)
            self._bytes = fetched.get_bytes() if isinstance(fetched, Media) else _as_bytes(fetched)
        return self._bytes

    def get_url(self, download: bool = True) -> str:
        return self.url
