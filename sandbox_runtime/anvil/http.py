"""Call web APIs the Anvil way: `anvil.http.request(url, json=True)`.

Built on the sandbox's `requests` (imported on first use, so runs that never call a web API
don't pay for it). Requests leave from the sandbox like any other network use by widget code:
the run's network rules apply, and whatever the answer holds is redacted like all output.
As in Anvil, the answer is a Media object (its bytes exactly as sent, with the response's
content type) unless the request asked for `json=True`.
"""

import json as json_module
import re
from urllib.parse import quote, unquote

from ._media import MAX_MEDIA_BYTES, BlobMedia

# Anvil's default when no timeout is given; the run's own wall time still applies.
DEFAULT_TIMEOUT_SECONDS = 60
_BAD_PERCENT_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


class HttpError(Exception):
    """The server answered with an error status: `.status` (e.g. 404) and `.content` (the body:
    parsed JSON when the request asked for `json=True` and the body is JSON, else Media)."""

    def __init__(self, status: int, content, message: str | None = None):
        self.status = status
        self.content = content
        super().__init__(message or f"HTTP error {status}")


# Anvil's older name for the same error.
HttpErrorStatus = HttpError


class HttpRequestFailed(Exception):  # noqa: N818 (Anvil's name)
    """The request could not be completed at all (no connection, a timeout, a bad URL)."""


class UrlEncodingError(Exception):
    """`url_decode` was given something that is not a valid URL-encoded string."""


def _has_body(method: str) -> bool:
    return method not in ("GET", "HEAD")


def request(
    url: str,
    method: str = "GET",
    data=None,
    json: bool = False,
    headers: dict | None = None,
    username: str | None = None,
    password: str | None = None,
    timeout: float | None = None,
):
    """Make an HTTP request and return the response body, as Media (`.get_bytes()`,
    `.content_type`, `.name` from the URL).

    With `json=True`, `data` is sent JSON-encoded (with `Content-Type: application/json`) and
    the answer is parsed from JSON. `username`/`password` use HTTP Basic authentication.
    A 4xx/5xx answer raises `HttpError`; a request that can't complete raises
    `HttpRequestFailed`.
    """
    import requests

    method = str(method).upper()
    headers = dict(headers or {})
    if json and data is not None and _has_body(method):
        data = json_module.dumps(data)
        headers["Content-Type"] = "application/json"
    if timeout is not None and not isinstance(timeout, (int, float)):
        raise TypeError("timeout must be a number of seconds")
    auth = (username or "", password or "") if username is not None or password else None
    try:
        response = requests.request(
            method,
            url,
            data=data,
            headers=headers,
            auth=auth,
            timeout=DEFAULT_TIMEOUT_SECONDS if timeout is None else timeout,
        )
    except requests.RequestException as error:
        raise HttpRequestFailed(f"The request to {url} failed: {error}") from None
    content = _body_as_media(response, url)
    if json:
        try:
            content = response.json()
        except ValueError:
            raise HttpError(response.status_code, content, "Invalid JSON in response") from None
    if not 200 <= response.status_code <= 299:
        raise HttpError(response.status_code, content)
    return content


def _body_as_media(response, url: str) -> BlobMedia:
    if len(response.content) > MAX_MEDIA_BYTES:
        raise HttpRequestFailed(
            f"The response from {url} is {len(response.content) / (1024 * 1024):.1f} MB; Media is "
            f"limited to {MAX_MEDIA_BYTES // (1024 * 1024)} MB."
        )
    content_type = response.headers.get("Content-Type") or "application/octet-stream"
    name = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] or None
    return BlobMedia(content_type, response.content, name=name)


def url_encode(string_to_encode: str) -> str:
    """Percent-encode everything but letters, digits and `_.-~` (spaces become `%20`)."""
    return quote(str(string_to_encode), safe="")


def url_decode(string_to_decode: str) -> str:
    """Undo `url_encode`; raises `UrlEncodingError` for a malformed string."""
    if _BAD_PERCENT_ESCAPE.search(string_to_decode):
        raise UrlEncodingError("This is not a valid URL-encoded string")
    try:
        return unquote(string_to_decode, errors="strict")
    except UnicodeDecodeError:
        raise UrlEncodingError("This is not a valid URL-encoded string") from None
