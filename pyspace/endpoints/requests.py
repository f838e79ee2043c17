"""Turning an HTTP request into what the runtime's dispatcher takes, and its answer back.

What never reaches widget code: the site's cookies (the visitor's session), and the password
of a site account that logged in with HTTP Basic (`authenticate_users`). What never leaves in
an answer: Set-Cookie (widget code can't set the site's cookies) and hop-by-hop headers. Every
answer is served with `Content-Security-Policy: sandbox`, so an HTML answer is shown with an
opaque origin and runs no script on the site's origin.
"""

import base64
import binascii
from urllib.parse import urlencode

from flask import Request, Response

from ..sandbox.redaction import WITHHELD
from ..sandbox.results import REFUSAL_STATUS, RunResult
from .discovery import Endpoint

ENDPOINT_CSP = "sandbox; default-src 'none'; frame-ancestors 'none'"
DROPPED_REQUEST_HEADERS = {"cookie"}
DROPPED_RESPONSE_HEADERS = {
    "set-cookie",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "content-security-policy",
    "upgrade",
}
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """The (username, password) of an `Authorization: Basic` header, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, colon, password = decoded.partition(":")
    return (username, password) if colon else None


def http_for_runtime(
    request: Request,
    endpoint: Endpoint,
    path: str,
    api_origin: str,
    app_origin: str,
    user: dict | None,
    credentials: tuple[str, str] | None,
) -> dict:
    """The request as `anvil._endpoints.dispatch` takes it."""
    headers = {
        name.lower(): value
        for name, value in request.headers.items()
        if name.lower() not in DROPPED_REQUEST_HEADERS
    }
    if endpoint.authenticate_users:
        headers.pop("authorization", None)  # a site account's password stays here
    form: dict[str, str] = {}
    body: bytes | None
    if request.mimetype in FORM_TYPES:
        form = request.form.to_dict()
        body = urlencode(form).encode("utf-8")
    else:
        body = request.get_data(cache=False) or None
    passed = (
        credentials if endpoint.require_credentials and not endpoint.authenticate_users else None
    )
    return {
        "endpoint": endpoint.path,
        "path": path,
        "method": request.method,
        "headers": headers,
        "query_params": request.args.to_dict(),
        "form_params": form,
        "body_b64": base64.b64encode(body).decode("ascii") if body is not None else None,
        "remote_address": request.remote_addr,
        "api_origin": api_origin,
        "app_origin": app_origin,
        "user": user,
        "username": passed[0] if passed else (user or {}).get("username"),
        "password": passed[1] if passed else None,
    }


def cors_headers(endpoint: Endpoint, request: Request) -> dict[str, str]:
    """The CORS headers of an endpoint with `enable_cors` (none otherwise)."""
    if not endpoint.enable_cors:
        return {}
    allowed = ["content-type"]
    asked = request.headers.get("Access-Control-Request-Headers", "")
    allowed += [h.strip().lower() for h in asked.split(",") if h.strip() and h.strip() != "cookie"]
    return {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Methods": ", ".join(endpoint.methods),
        "Access-Control-Allow-Headers": ", ".join(dict.fromkeys(allowed)),
        "Access-Control-Max-Age": "600",
    }


def plain(status: int, text: str, headers: dict | None = None) -> Response:
    """A short text answer from the site itself (404, 405, 401, 413, 429, …)."""
    response = Response(text + "\n", status=status, mimetype="text/plain")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return secured(response)


def secured(response: Response) -> Response:
    """`response` served so that it can't act on the site's origin (see the docstring)."""
    response.headers["Content-Security-Policy"] = ENDPOINT_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def answer_from(result: RunResult, extra_headers: dict[str, str]) -> Response:
    """The HTTP answer for the run `result` of an endpoint."""
    if not result.ok:
        error = result.error or {}
        if "result" in result.withheld or error.get("type") == "OutputHidden":
            return plain(500, WITHHELD, extra_headers)
        status = REFUSAL_STATUS.get(str(error.get("type")), 500)
        return plain(status, f"{error.get('type')}: {error.get('message')}", extra_headers)
    answer = result.result if isinstance(result.result, dict) else {}
    try:
        status = int(answer.get("status", 500))
    except (TypeError, ValueError):
        status = 500
    if not 200 <= status <= 599:
        status = 500
    if "body_b64" in answer:
        try:
            body = base64.b64decode(str(answer["body_b64"]), validate=True)
        except (binascii.Error, ValueError):
            return plain(500, "The endpoint's answer could not be read.", extra_headers)
    else:
        body = str(answer.get("body", "")).encode("utf-8")
    response = Response(body, status=status)
    response.headers.pop("Content-Type", None)
    headers = answer.get("headers") if isinstance(answer.get("headers"), dict) else {}
    for raw_name, raw_value in (headers or {}).items():
        name, value = str(raw_name), str(raw_value)
        if name.lower() in DROPPED_RESPONSE_HEADERS or any(c in name + value for c in "\r\n\0"):
            continue
        response.headers[name] = value
    response.headers.setdefault("Content-Type", "application/octet-stream")
    for name, value in extra_headers.items():
        response.headers[name] = value
    return secured(response)
