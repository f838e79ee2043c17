"""`/_/api/<widget id>/<path>`: a widget's HTTP endpoints; and the editor's Endpoints panel.

A request is answered in this order: the widget must exist and be public (else 404, as for any
page of a private widget); the path must match an endpoint the code declares (404); OPTIONS is
a CORS preflight (answered here, from the declaration); the method must be allowed (405); the
body must fit ENDPOINT_MAX_BYTES (413); `authenticate_users` needs HTTP Basic with a site
account's username and password, checked through the log-in throttle (401, 429). Only then
does the code run, in a sandbox, anonymously or as that account. No cookie logs a request in,
so CSRF does not apply. Rate limits: per client address and per widget (429).

The widget's own cookies (`anvil.server.cookies`, cookies.py) are read from the request and
set on the answer; the site's cookies never reach the code. With `cross_site_session=True` a
request carrying the site's session cookie shares that browser's anvil.server.session of the
widget with its GUI calls (the session only: the request stays anonymous).
"""

from functools import lru_cache

from flask import Response, current_app, g, request, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user

from ..auth.throttle import forget_failures, record_failure, reserve_attempt
from ..extensions import db, limiter
from ..gui.visitors import existing_visitor_session_id
from ..htmx import respond
from ..models import User, Widget
from ..runs.execution import endpoint_call_and_record
from . import bp, owner_bp
from .cookies import CookieRefusedError, cookies_for_runtime, set_cookies
from .discovery import Endpoint, endpoints_in, match
from .requests import (
    answer_from,
    basic_credentials,
    cors_headers,
    http_for_runtime,
    plain,
)

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
BASIC_CHALLENGE = {"WWW-Authenticate": 'Basic realm="py.space widget API", charset="UTF-8"'}


def _declared(widget: Widget) -> tuple[Endpoint, ...]:
    """The endpoints every server module of `widget` declares, in module order."""
    return tuple(endpoint for _name, code in widget.module_sources() for endpoint in _parsed(code))


@lru_cache(maxsize=256)
def _parsed(code: str) -> tuple[Endpoint, ...]:
    # Parsing once per version of the code: every request of a flood would parse it again.
    return tuple(endpoints_in(code))


def _per_address() -> str:
    return current_app.config["ENDPOINT_RATE_LIMIT_PER_ADDRESS"]


def _per_widget() -> str:
    return current_app.config["ENDPOINT_RATE_LIMIT_PER_WIDGET"]


def _widget_key() -> str:
    return "endpoint-widget:" + str((request.view_args or {}).get("widget_id", ""))


def _logged_in_user(credentials: tuple[str, str] | None):
    """The account HTTP Basic names, a response refusing, or None when it can't log in."""
    if credentials is None:
        return plain(401, "This endpoint needs a py.space username and password.", BASIC_CHALLENGE)
    username = User.normalize_username(credentials[0])
    user = db.session.scalar(db.select(User).filter_by(username=username))
    # Counted before the password is checked, atomically with the check of the wait.
    keys, wait = reserve_attempt(username, get_remote_address(), None)
    if wait:
        return plain(429, "Too many failed log-ins: try again later.", {"Retry-After": str(wait)})
    if not User.password_matches(user, credentials[1]) or user is None or user.is_disabled:
        record_failure(keys)
        return plain(401, "Wrong username or password.", BASIC_CHALLENGE)
    forget_failures(keys)
    return user


@bp.route("/_/api/<widget_id>", defaults={"subpath": ""}, methods=METHODS)
@bp.route("/_/api/<widget_id>/", defaults={"subpath": ""}, methods=METHODS)
@bp.route("/_/api/<widget_id>/<path:subpath>", methods=METHODS)
@limiter.limit(_per_address)
@limiter.limit(_per_widget, key_func=_widget_key)
def api(widget_id: str, subpath: str):
    """Answer a request to one of the widget's HTTP endpoints (see the module docstring)."""
    path = "/" + subpath
    routed = _routed(widget_id, path)
    if isinstance(routed, Response):
        return routed
    widget, endpoint = routed
    cors = cors_headers(endpoint, request)
    admitted = _admitted(endpoint, cors)
    if isinstance(admitted, Response):
        return admitted
    actor_id, user, credentials = admitted
    root = request.host_url.rstrip("/")
    http = http_for_runtime(
        request,
        endpoint,
        path,
        api_origin=f"{root}/_/api/{widget.id}",
        app_origin=f"{root}/widgets/{widget.id}",
        user=user,
        credentials=credentials,
    )
    cap = int(current_app.config["ENDPOINT_MAX_BYTES"])
    if http["body_b64"] is not None and len(http["body_b64"]) * 3 // 4 > cap:
        return plain(413, f"The request body is larger than {cap:,} bytes.", cors)
    http["cookies"] = cookies_for_runtime(widget, request)
    session_id = None
    if endpoint.cross_site_session:
        viewer = current_user._get_current_object() if current_user.is_authenticated else None
        session_id = existing_visitor_session_id(viewer)
    result = endpoint_call_and_record(widget, http, actor_id, session_id)
    response = answer_from(result, cors)
    changed = result.result.get("cookies") if isinstance(result.result, dict) else None
    if result.ok and changed and response.status_code != 500:
        try:
            set_cookies(response, widget, changed, request.is_secure)
        except CookieRefusedError as error:
            return plain(500, str(error), cors)
    return response


def _routed(widget_id: str, path: str) -> Response | tuple[Widget, Endpoint]:
    """The public widget and its endpoint `path` reaches with this method, or the refusal
    (404, 405) or CORS preflight answer."""
    widget = db.session.get(Widget, widget_id)
    if widget is None or not widget.is_public:
        return plain(404, "Not found")
    found = match(list(_declared(widget)), path)
    if found is None:
        return plain(404, "No endpoint at this path")
    endpoint, _ = found
    cors = cors_headers(endpoint, request)
    allow = {"Allow": ", ".join(endpoint.methods), **cors}
    if request.method == "OPTIONS":
        return plain(200, "", cors) if endpoint.enable_cors else plain(405, "Not allowed", allow)
    method = "GET" if request.method == "HEAD" else request.method
    if method not in endpoint.methods:
        return plain(405, "Method not allowed", allow)
    return widget, endpoint


def _admitted(
    endpoint: Endpoint, cors: dict
) -> Response | tuple[int | None, dict | None, tuple[str, str] | None]:
    """(account id, user, Basic credentials) for a request that may run, or the refusal
    (413 for a body over the cap, 401/429 for a log-in that failed or is throttled)."""
    cap = int(current_app.config["ENDPOINT_MAX_BYTES"])
    if (request.content_length or 0) > cap:
        return plain(413, f"The request body is larger than {cap:,} bytes.", cors)
    credentials = basic_credentials(request)
    if endpoint.authenticate_users:
        account = _logged_in_user(credentials)
        if not isinstance(account, User):
            return account
        return account.id, {"username": account.username}, credentials
    if endpoint.require_credentials and credentials is None:
        return plain(401, "This endpoint needs a username and password.", BASIC_CHALLENGE)
    return None, None, credentials


@owner_bp.get("/endpoints")
def endpoints_panel():
    """The Endpoints panel: the widget's HTTP endpoints with their URLs and a curl line."""
    widget = g.widget
    root = url_for("endpoints.api", widget_id=widget.id, _external=True).rstrip("/")
    listed = []
    for endpoint in _declared(widget):
        example = endpoint.path
        for name in endpoint.names:
            example = example.replace(f":{name}", f"<{name}>", 1)
        url = root + example
        method = endpoint.methods[0] if endpoint.methods else "GET"
        curl = "curl " + ("" if method == "GET" else f"-X {method} ")
        if endpoint.authenticate_users or endpoint.require_credentials:
            curl += "-u USERNAME:PASSWORD "
        listed.append({"endpoint": endpoint, "url": url, "curl": curl + f"'{url}'"})
    return respond(
        "endpoints/_panel.html",
        "endpoints/panel_page.html",
        {"widget": widget, "endpoints": listed},
    )
