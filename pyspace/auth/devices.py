"""Device cookies: a browser that logged in to an account before is recognised when it tries again.

The cookie maps user ids to a random nonce per (browser, account), signed with SECRET_KEY so it
can't be forged. It grants nothing by itself — the password is still needed — it only puts the
browser's log-in attempts under a throttle key of its own (see throttle.py). It outlives logout on
purpose, and holds the last few accounts used in the browser (a shared classroom computer).
"""

import secrets

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.wrappers import Response

DEVICE_COOKIE = "pyspace_device"
DEVICE_COOKIE_MAX_AGE = 365 * 24 * 60 * 60
ACCOUNTS_PER_DEVICE = 20
_SALT = "pyspace.auth.device"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def _devices() -> dict[str, str]:
    raw = request.cookies.get(DEVICE_COOKIE, "")
    if not raw:
        return {}
    try:
        devices = _serializer().loads(raw)
    except BadSignature:
        return {}
    if not isinstance(devices, dict):
        return {}
    return {str(k): v for k, v in devices.items() if isinstance(v, str)}


def device_for(user_id: int | None) -> str | None:
    """This browser's device nonce for the account `user_id`, if it logged in to it before."""
    if user_id is None:
        return None
    return _devices().get(str(user_id))


def remember_device(response: Response, user_id: int) -> None:
    """Set (or refresh) this browser's device cookie for `user_id` on `response`."""
    devices = _devices()
    nonce = devices.pop(str(user_id), None) or secrets.token_urlsafe(16)
    devices[str(user_id)] = nonce  # newest last; the oldest fall off
    devices = dict(list(devices.items())[-ACCOUNTS_PER_DEVICE:])
    response.set_cookie(
        DEVICE_COOKIE,
        _serializer().dumps(devices),
        max_age=DEVICE_COOKIE_MAX_AGE,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
