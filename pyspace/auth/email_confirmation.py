"""Confirming an account's e-mail address: a signed, expiring, single-use link mailed to it.

The link carries the account id and the address, signed with the site's SECRET_KEY
(itsdangerous, salted for this use alone). It confirms that address only while the account
still has it unconfirmed: once opened it is spent, and changing the address spends it too. It
expires after EMAIL_CONFIRM_HOURS. Without a mail server the message waits in the admin's
outbox, as every message of the site's does.
"""

from flask import current_app, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..extensions import db
from ..mail.site_mail import send_site_mail
from ..models import User, utcnow
from .password_reset import link_base

SALT = "pyspace.email-confirmation"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def make_token(user: User) -> str:
    return _serializer().dumps({"u": user.id, "e": user.email})


def user_for_token(token: str) -> User | None:
    """The enabled account whose unconfirmed address `token` confirms, or None: forged,
    expired, already used, or the account's address is another one now."""
    max_age = int(current_app.config["EMAIL_CONFIRM_HOURS"]) * 3600
    try:
        data = _serializer().loads(token, max_age=max_age)
    except BadSignature:  # SignatureExpired is one
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = db.session.get(User, data["u"])
    if (
        user is None
        or user.is_disabled
        or user.email is None
        or user.email != data.get("e")
        or user.email_confirmed_at is not None
    ):
        return None
    return user


def confirm_email(user: User) -> None:
    """Mark `user`'s address confirmed now (spending its link). Commits."""
    user.email_confirmed_at = utcnow()
    db.session.commit()


def send_confirmation_link(user: User) -> str:
    """Mail a confirmation link to `user`'s (unconfirmed) address, from within a request.
    Returns where the message went ("sent", "outbox" or "failed"; see send_site_mail)."""
    assert user.email is not None, "an account without an address has nothing to confirm"
    hours = int(current_app.config["EMAIL_CONFIRM_HOURS"])
    # Built on SITE_URL when set: a forged Host header can't point the link at another server.
    link = link_base() + url_for("auth.confirm_email", token=make_token(user)).lstrip("/")
    text = (
        f"Someone (we hope you) gave this address to the py.space account {user.username!r}.\n\n"
        f"To confirm that it is yours, open this link within {hours} hours:\n\n"
        f"{link}\n\n"
        "It works once. If this was not you, ignore this e-mail: the address stays "
        "unconfirmed.\n"
    )
    return send_site_mail(user.email, "Confirm your e-mail address for py.space", text)
