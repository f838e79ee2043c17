"""One-time log-in links: a teacher hands one to a pupil (a forgotten password, or a new
account's first log-in); the pupil opens it, chooses a password and is logged in. Each link
works once and expires; only a SHA-256 of its token is stored, so the database alone can't
log anyone in."""

import hashlib
from datetime import timedelta
from secrets import token_urlsafe
from typing import cast

from flask import current_app
from sqlalchemy.engine import CursorResult

from ..extensions import db
from ..models import LoginLink, User, utcnow


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_login_link(user: User, created_by: User) -> str:
    """Make a link for `user` and return its token (shown once; caller commits)."""
    token = token_urlsafe(24)
    hours = current_app.config["LOGIN_LINK_HOURS"]
    db.session.add(
        LoginLink(
            user_id=user.id,
            token_hash=_hash(token),
            created_by_id=created_by.id,
            expires_at=utcnow() + timedelta(hours=hours),
        )
    )
    return token


def usable_link(token: str) -> LoginLink | None:
    """The unused, unexpired link `token` names, or None."""
    if not token or len(token) > 100:
        return None
    link = db.session.scalar(db.select(LoginLink).filter_by(token_hash=_hash(token)))
    if link is None or link.used_at is not None or link.expires_at <= utcnow():
        return None
    if link.user.is_disabled:
        return None
    return link


def redeem(token: str, new_password: str) -> User | None:
    """Use the link once: set the account's password and end its other sessions; commit and
    return the account, or None if the link was used, expired or never existed. One UPDATE
    claims the link, so two tabs pressing at once can't both use it."""
    link = usable_link(token)
    if link is None:
        return None
    claimed = cast(
        CursorResult,
        db.session.execute(
            db.update(LoginLink)
            .where(LoginLink.id == link.id, LoginLink.used_at.is_(None))
            .values(used_at=utcnow())
        ),
    )
    if claimed.rowcount != 1:
        db.session.rollback()
        return None
    user = link.user
    user.set_password(new_password)
    user.end_all_sessions()
    db.session.commit()
    return user
