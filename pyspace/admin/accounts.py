"""Account administration shared by the `flask users` commands and the admin pages."""

from typing import NamedTuple

from sqlalchemy import func

from ..extensions import db
from ..models import User, Widget


def find_user(username: str) -> User | None:
    """The account called `username` (any case), or None."""
    return db.session.scalar(db.select(User).filter_by(username=User.normalize_username(username)))


def all_users() -> list[User]:
    """Every account, alphabetically."""
    return list(db.session.scalars(db.select(User).order_by(User.username)))


class UserRow(NamedTuple):
    """An account as the admin list shows it: the user and how many widgets they have."""

    user: User
    widget_count: int


def _widget_counts():
    return (
        db.select(Widget.owner_id, func.count(Widget.id).label("widget_count"))
        .group_by(Widget.owner_id)
        .subquery()
    )


def users_with_widget_counts() -> list[UserRow]:
    """Every account, alphabetically, with its number of widgets counted by the database
    (one query: no widget, and none of their code, is loaded to count them)."""
    counts = _widget_counts()
    rows = db.session.execute(
        db.select(User, func.coalesce(counts.c.widget_count, 0))
        .outerjoin(counts, counts.c.owner_id == User.id)
        .order_by(User.username)
    )
    return [UserRow(user, count) for user, count in rows]


def widget_count(user: User) -> int:
    """How many widgets `user` has (counted in the database)."""
    return db.session.scalar(db.select(func.count(Widget.id)).filter_by(owner_id=user.id))


def set_disabled(user: User, disabled: bool) -> None:
    """Disable or re-enable `user`. Disabling ends every session and remember-me cookie of the
    account for good (enabling it again brings none back), and it can't log in again."""
    user.is_disabled = disabled
    if disabled:
        user.end_all_sessions()
    db.session.commit()


def set_teacher(user: User, teacher: bool) -> None:
    """Grant or take away the teacher role (their classes stay; they just can't open them)."""
    user.is_teacher = teacher
    db.session.commit()
