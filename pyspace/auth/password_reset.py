"""Password-reset links: signed, expiring, single-use.

The link carries the account id and a fingerprint of the account's password hash and session
generation, signed with the site's SECRET_KEY (itsdangerous, salted for this use alone). Setting
a password changes the hash, and "log out everywhere" raises the generation: either makes every
link issued before it worthless, so a link works once. It expires after PASSWORD_RESET_MINUTES.
"""

import hashlib
import logging

from flask import Flask, current_app, request, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..extensions import db
from ..mail.site_mail import send_site_mail
from ..models import User

log = logging.getLogger(__name__)

SALT = "pyspace.password-reset"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _fingerprint(user: User) -> str:
    material = f"{user.password_hash}:{user.session_generation}".encode()
    return hashlib.sha256(material).hexdigest()[:32]


def make_token(user: User) -> str:
    return _serializer().dumps({"u": user.id, "f": _fingerprint(user)})


def user_for_token(token: str) -> User | None:
    """The enabled account `token` resets, or None: forged, expired, or already used."""
    max_age = int(current_app.config["PASSWORD_RESET_MINUTES"]) * 60
    try:
        data = _serializer().loads(token, max_age=max_age)
    except BadSignature:  # SignatureExpired is one
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = db.session.get(User, data["u"])
    if user is None or user.is_disabled or data.get("f") != _fingerprint(user):
        return None
    return user


def link_base() -> str:
    """Where the links in the site's mail point: SITE_URL when set, so a forged Host header
    can't make the site mail someone a link to another server; else this request's site."""
    return (current_app.config["SITE_URL"] or request.host_url).rstrip("/") + "/"


def send_reset_link_later(app: Flask, base: str, email: str) -> None:
    """`send_reset_link` after the response has gone (Werkzeug's call_on_close), in a request
    context of its own on `base` so that url_for builds the link there."""
    try:
        with app.test_request_context(base_url=base):
            send_reset_link(email)
    except Exception:
        log.exception("sending a password-reset link failed")


def send_reset_link(email: str) -> None:
    """Mail a reset link to the enabled account with address `email` (normalized), if any;
    nothing otherwise. The caller answers the same either way."""
    user = db.session.scalar(db.select(User).filter_by(email=email))
    if user is None or user.is_disabled:
        return
    minutes = int(current_app.config["PASSWORD_RESET_MINUTES"])
    text = (
        f"Someone (we hope you) asked to reset the password of the py.space account "
        f"{user.username!r}.\n\n"
        f"To choose a new password, open this link within {minutes} minutes:\n\n"
        f"{url_for('auth.reset_password', token=make_token(user), _external=True)}\n\n"
        "It works once. Setting a new password logs the account out everywhere.\n"
        "If you did not ask for this, ignore this e-mail: your password stays as it is.\n"
    )
    send_site_mail(email, "Reset your py.space password", text)
