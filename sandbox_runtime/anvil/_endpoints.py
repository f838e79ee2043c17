"""HTTP endpoints in server code: `@anvil.server.http_endpoint` / `@anvil.server.route`,
`anvil.server.request`, `HttpResponse`, `get_api_origin()` and `get_app_origin()`, as Anvil's.

A request to `/_/api/<widget id>/<path>` runs the widget's server code in a fresh sandbox,
like a call: the web app has already matched the path against the endpoints it found in the
code (path, methods and options must be written as literals), checked the method and any
log-in, and sends the request; `dispatch` calls the function registered for that path with the
path's `:name` parts (and the form and query parameters) as keyword arguments, and turns what
it returns into the HTTP answer: an HttpResponse as given, a str as text, a dict or list as
JSON, a Media object as its bytes and type, None as an empty 200. `anvil.server.cookies` hold
the values the request's cookies carried; the ones the code changed go back with the answer.
With `cross_site_session=True`, `anvil.server.session` is the browser's session of the widget
(the web app passes it) and is saved when the function returns.
"""

import base64
import json
import re

from . import _session
from ._cookies import cookies
from ._media import BlobMedia, Media

_endpoints: dict[str, dict] = {}


class _Origins:
    api: str | None = None
    app: str | None = None


_ORIGINS = _Origins()


def path_pattern(path: str) -> str:
    """The regular expression a path such as "/users/:id" matches requests with (as Anvil's)."""
    parts = re.split(r"(:[^/]*)", path)
    return "".join("([^/]*)" if part.startswith(":") else re.escape(part) for part in parts)


def http_endpoint(
    path,
    require_credentials=False,
    authenticate_users=False,
    authenticate_user=False,
    methods=("GET", "POST"),
    enable_cors=False,
    cross_site_session=False,
):
    """Publish the decorated function at `<api origin><path>` ("/items/:id" passes `id=`)."""
    if not isinstance(path, str) or not path.startswith("/"):
        raise ValueError("An endpoint's path is a string starting with '/', like '/items/:id'")

    def register(fn):
        _endpoints[path] = {
            "function": fn,
            "names": re.findall(r":([^/]*)", path),
            "pattern": re.compile(path_pattern(path)),
        }
        return fn

    return register


route = http_endpoint


class HttpResponse:
    """What an endpoint returns to choose the status and headers: `HttpResponse(status=200,
    body="", headers=None)`; `body` is a str, bytes or Media."""

    def __init__(self, status=200, body="", headers=None):
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


class HttpRequest:
    """`anvil.server.request` inside an endpoint: path, method, headers (lower-case names),
    query_params, form_params, body (Media or None), body_json, remote_address, origin, user
    (with authenticate_users), username and password (with require_credentials)."""

    def __init__(self, http: dict):
        self.path = http.get("path", "/")
        self.method = http.get("method", "GET")
        self.headers = dict(http.get("headers") or {})
        self.query_params = dict(http.get("query_params") or {})
        self.form_params = dict(http.get("form_params") or {})
        self.remote_address = http.get("remote_address")
        self.origin = _ORIGINS.api
        self.username = http.get("username")
        self.password = http.get("password")
        self.user = http.get("user")
        body = http.get("body_b64")
        content_type = self.headers.get("content-type", "application/octet-stream")
        self.body = (
            BlobMedia(content_type, base64.b64decode(body), name=None) if body is not None else None
        )

    @property
    def body_json(self):
        """The body parsed as JSON, when its Content-Type says it is JSON (else None)."""
        if self.body is None or "json" not in self.headers.get("content-type", ""):
            return None
        return json.loads(self.body.get_bytes().decode("utf-8"))


class _RequestProxy:
    """`anvil.server.request`: the request being answered (only inside an endpoint)."""

    current: HttpRequest | None = None

    def __getattr__(self, name):
        if _RequestProxy.current is None:
            raise RuntimeError(
                "anvil.server.request is only available in an HTTP endpoint "
                "(@anvil.server.http_endpoint), while it answers a request."
            )
        return getattr(_RequestProxy.current, name)


request = _RequestProxy()


def get_api_origin(environment_type=None, **kwargs):
    """The root URL of this widget's HTTP endpoints: `https://<site>/_/api/<widget id>`."""
    if _ORIGINS.api is None:
        raise RuntimeError(
            "The site's address is known in runs started from the web (a Run press, a call, "
            "an HTTP request), not in background or scheduled tasks."
        )
    return _ORIGINS.api


def get_app_origin(environment_type=None, **kwargs):
    """The widget's page on the site."""
    if _ORIGINS.app is None:
        get_api_origin()
    return _ORIGINS.app


def set_origins(api_origin, app_origin) -> None:
    """Called by the bootstrap with where the site is (None when the run has no web request)."""
    _ORIGINS.api, _ORIGINS.app = api_origin, app_origin


def _body(body) -> tuple[bytes, str | None]:
    """The bytes of a returned body and the Content-Type it implies (None: the caller's)."""
    if body is None:
        return b"", None
    if isinstance(body, Media):
        return body.get_bytes(), body.get_content_type() or "application/octet-stream"
    if isinstance(body, bytes | bytearray):
        return bytes(body), "application/octet-stream"
    if isinstance(body, str):
        return body.encode("utf-8"), "text/plain; charset=utf-8"
    return json.dumps(body).encode("utf-8"), "application/json"


def _answer(status, body, headers: dict) -> dict:
    content, content_type = _body(body)
    headers = {str(name): str(value) for name, value in headers.items()}
    if content_type and not any(name.lower() == "content-type" for name in headers):
        headers["Content-Type"] = content_type
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    answer = {"status": int(status), "headers": headers}
    # Text stays text so that the web app can find (and mask) secret values in it.
    if text is not None:
        answer["body"] = text
    else:
        answer["body_b64"] = base64.b64encode(content).decode("ascii")
    return answer


def dispatch(http: dict) -> dict:
    """Answer the request `http` with the endpoint registered for its path (a 404 if none)."""
    if http.get("api_origin"):
        set_origins(http["api_origin"], http.get("app_origin"))
    endpoint = _endpoints.get(http.get("endpoint", ""))
    match = endpoint["pattern"].fullmatch(http.get("path", "")) if endpoint else None
    if endpoint is None or match is None:
        return _answer(404, "No endpoint at this path", {})
    _RequestProxy.current = HttpRequest(http)
    cookies._start(http.get("cookies"))
    kwargs = dict(_RequestProxy.current.form_params)
    kwargs.update(_RequestProxy.current.query_params)
    kwargs.update(zip(endpoint["names"], match.groups(), strict=True))
    response = endpoint["function"](**kwargs)
    _session.session._save()  # nothing to save without a session (cross_site_session)
    if isinstance(response, HttpResponse):
        answer = _answer(response.status, response.body, response.headers)
    else:
        answer = _answer(200, response, {})
    changed = cookies._outcome()
    if changed:
        answer["cookies"] = changed
    return answer
