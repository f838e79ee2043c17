"""Account administration shared by the `flask users` commands and the admin pages."""

from ..extensions import db
from ..models import User


def find_user(username: str) -> User | None:
    """The account called `username` (any case), or None."""
    return db.session.scalar(db.select(User).filter_by(username=User.normalize_username(username)))


def all_users() -> list[User]:
    """Every account, alphabetically."""
    return list(db.session.scalars(db.select(User).order_by(User.username)))


def set_disabled(user: User, disabled: bool) -> None:
    """Disable or re-enable `user`. Disabling ends every session and remember-me cookie of the
    account for good (enabling it again brings none back), and it can't log in again."""
    user.is_disabled = disabled
    if disabled:
        user.end_all_sessions()
    db.session.commit()
