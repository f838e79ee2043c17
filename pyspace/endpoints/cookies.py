"""`anvil.server.cookies.local` and `.shared` for HTTP endpoints: cookies the site signs and
the widget's code reads and sets as dicts of portable values.

- `local` is one cookie per widget, sent by browsers only to that widget's endpoints
  (`Path=/_/api/<widget id>`); `shared` is one per owner (`Path=/_/api`), handed to the code of
  that owner's widgets only. Each is encrypted and authenticated (Fernet) with a key derived
  from SECRET_KEY for its widget or owner, as Anvil encrypts its cookies: the visitor can
  neither read nor change what the code stored, and another widget's cookie can't stand in for
  it. An answer whose cookies hold a secret value the run read is still withheld whole, as any
  answer holding one (encryption is no licence to hand the value to the browser).
- The site's own cookies (the session, remember-me) never reach widget code: the request's
  Cookie header is dropped, and only these cookies' values, checked, are passed on.
- Size: at most ENDPOINT_COOKIE_MAX_BYTES encrypted (browsers keep about 4 KiB a cookie);
  `expiry_days` (default 30) becomes Max-Age, at most COOKIE_MAX_DAYS. HttpOnly, SameSite=Lax,
  Secure on https.
"""

import base64
import json
import time

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Request, Response, current_app

from ..models import Widget

LOCAL_COOKIE = "pyspace_widget"
SHARED_COOKIE_PREFIX = "pyspace_owner_"
COOKIE_MAX_DAYS = 400  # browsers cap a cookie's life at about 400 days


class CookieRefusedError(Exception):
    """A cookie the code set can't be sent; the message says why (for the endpoint's caller)."""


class _Sealer:
    """Encrypts a JSON document into a cookie value and back, with one key of its own."""

    def __init__(self, secret: str | bytes, info: str) -> None:
        material = secret.encode() if isinstance(secret, str) else secret
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info.encode()).derive(
            material
        )
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def dumps(self, document: object) -> str:
        return self._fernet.encrypt(json.dumps(document).encode()).decode("ascii")

    def loads(self, token: str) -> object:
        """The document, or ValueError for a cookie this key did not seal (or one changed)."""
        try:
            return json.loads(self._fernet.decrypt(token.encode("ascii")))
        except (InvalidToken, UnicodeEncodeError, ValueError) as error:
            raise ValueError("not a cookie of this widget") from error


def _where(widget: Widget, kind: str) -> tuple[str, str, _Sealer]:
    """(cookie name, path, sealer) of `widget`'s cookie `kind` ("local" or "shared")."""
    secret = current_app.config["SECRET_KEY"]
    if kind == "local":
        info = f"pyspace.widget-cookie.local.{widget.id}"
        return LOCAL_COOKIE, f"/_/api/{widget.id}", _Sealer(secret, info)
    info = f"pyspace.widget-cookie.shared.{widget.owner_id}"
    name = f"{SHARED_COOKIE_PREFIX}{widget.owner_id}"
    return name, "/_/api", _Sealer(secret, info)


def cookies_for_runtime(widget: Widget, request: Request) -> dict:
    """The values (tagged JSON) of the widget's cookies this request carries, unexpired and
    sealed by this site for this widget (or owner); {} for any that is missing or not."""
    found = {}
    for kind in ("local", "shared"):
        name, _path, sealer = _where(widget, kind)
        raw = request.cookies.get(name)
        if not raw:
            continue
        try:
            data = sealer.loads(raw)
        except ValueError:
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
        name, path, sealer = _where(widget, kind)
        if not values:
            headers.append((name, "", path, 0))
            continue
        seconds = int(min(float(days), COOKIE_MAX_DAYS) * 86400)
        sealed = sealer.dumps({"v": values, "x": int(time.time()) + seconds})
        if len(sealed) > cap:
            size = len(json.dumps(values))
            raise CookieRefusedError(
                f"anvil.server.cookies.{kind} holds {size:,} bytes as JSON, {len(sealed):,} "
                f"encrypted; the most a cookie may hold here is {cap:,} bytes encrypted. Keep "
                "large data in a data table and its id in the cookie."
            )
        headers.append((name, sealed, path, seconds))
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
