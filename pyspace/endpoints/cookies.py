"""`anvil.server.cookies.local` and `.shared` for HTTP endpoints: cookies the site signs and
the widget's code reads and sets as dicts of portable values.

- `local` is one cookie per widget, sent by browsers only to that widget's endpoints
  (`Path=/_/api/<widget id>`); `shared` is one per owner (`Path=/_/api`), handed to the code of
  that owner's widgets only. Each is signed with SECRET_KEY, salted for its widget or owner, so
  neither the browser nor another widget's cookie can stand in for it.
- Signed, not encrypted: a visitor can read what the code stored (base64 JSON). An answer
  whose cookies hold a secret value the run read is withheld whole, as any answer holding one.
- The site's own cookies (the session, remember-me) never reach widget code: the request's
  Cookie header is dropped, and only these cookies' values, checked, are passed on.
- Size: at most ENDPOINT_COOKIE_MAX_BYTES signed (browsers keep about 4 KiB a cookie);
  `expiry_days` (default 30) becomes Max-Age, at most COOKIE_MAX_DAYS. HttpOnly, SameSite=Lax,
  Secure on https.
"""

import json
import time

from flask import Request, Response, current_app
from itsdangerous import BadSignature, URLSafeSerializer

from ..models import Widget

LOCAL_COOKIE = "pyspace_widget"
SHARED_COOKIE_PREFIX = "pyspace_owner_"
COOKIE_MAX_DAYS = 400  # browsers cap a cookie's life at about 400 days


class CookieRefusedError(Exception):
    """A cookie the code set can't be sent; the message says why (for the endpoint's caller)."""


def _where(widget: Widget, kind: str) -> tuple[str, str, URLSafeSerializer]:
    """(cookie name, path, signer) of `widget`'s cookie `kind` ("local" or "shared")."""
    secret = current_app.config["SECRET_KEY"]
    if kind == "local":
        salt = f"pyspace.widget-cookie.local.{widget.id}"
        return LOCAL_COOKIE, f"/_/api/{widget.id}", URLSafeSerializer(secret, salt=salt)
    salt = f"pyspace.widget-cookie.shared.{widget.owner_id}"
    name = f"{SHARED_COOKIE_PREFIX}{widget.owner_id}"
    return name, "/_/api", URLSafeSerializer(secret, salt=salt)


def cookies_for_runtime(widget: Widget, request: Request) -> dict:
    """The values (tagged JSON) of the widget's cookies this request carries, unexpired and
    correctly signed; {} for any that is missing or not."""
    found = {}
    for kind in ("local", "shared"):
        name, _path, signer = _where(widget, kind)
        raw = request.cookies.get(name)
        if not raw:
            continue
        try:
            data = signer.loads(raw)
        except BadSignature:
            continue
        if (
            isinstance(data, dict)
            and isinstance(data.get("v"), dict)
            and isinstance(data.get("x"), int | float)
            and data["x"] > time.time()
        ):
            found[kind] = data["v"]
    return found


def set_cookies(response: Response, widget: Widget, changed: object, secure: bool) -> None:
    """Add Set-Cookie to `response` for each cookie the code changed (`changed` is what the
    runtime returned); CookieRefusedError if one is malformed or too large."""
    if not isinstance(changed, dict):
        raise CookieRefusedError("The endpoint's cookies could not be read.")
    cap = int(current_app.config["ENDPOINT_COOKIE_MAX_BYTES"])
    headers = []
    for kind in ("local", "shared"):
        cookie = changed.get(kind)
        if cookie is None:
            continue
        values = cookie.get("values") if isinstance(cookie, dict) else None
        days = cookie.get("expiry_days") if isinstance(cookie, dict) else None
        if not isinstance(values, dict) or not isinstance(days, int | float) or days <= 0:
            raise CookieRefusedError("The endpoint's cookies could not be read.")
        name, path, signer = _where(widget, kind)
        if not values:
            headers.append((name, "", path, 0))
            continue
        seconds = int(min(float(days), COOKIE_MAX_DAYS) * 86400)
        signed = signer.dumps({"v": values, "x": int(time.time()) + seconds})
        if len(signed) > cap:
            size = len(json.dumps(values))
            raise CookieRefusedError(
                f"anvil.server.cookies.{kind} holds {size:,} bytes as JSON, {len(signed):,} "
                f"signed; the most a cookie may hold here is {cap:,} bytes signed. Keep large "
                "data in a data table and its id in the cookie."
            )
        headers.append((name, signed, path, seconds))
    for name, value, path, seconds in headers:
        response.set_cookie(
            name,
            value,
            max_age=seconds,
            path=path,
            secure=secure,
            httponly=True,
            samesite="Lax",
        )
