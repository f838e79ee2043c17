"""Join codes: while SIGNUP_MODE is "invite", signing up needs a code an admin made in /admin.

Each code has an expiry and a number of uses (a class of 30 pupils: one code, 30 uses). A
class's code (pyspace/classes/) also makes whoever signs up with it a pupil of that class, in
any sign-up mode. Used by the register view, the admin pages and the class pages.
"""

from datetime import timedelta
from typing import cast

from sqlalchemy.engine import CursorResult

from ..extensions import db
from ..models import JoinCode, utcnow

MAX_USES_LIMIT = 1000
MAX_DAYS_LIMIT = 365


def create_join_code(max_uses: int, days: int, note: str, created_by_id: int) -> JoinCode:
    """A new code usable `max_uses` times for `days` days; commit and return it."""
    code = JoinCode(
        max_uses=max_uses,
        expires_at=utcnow() + timedelta(days=days),
        note=(note or "").strip(),
        created_by_id=created_by_id,
    )
    db.session.add(code)
    db.session.commit()
    return code


def all_join_codes() -> list[JoinCode]:
    """Every code, newest first."""
    return list(db.session.scalars(db.select(JoinCode).order_by(JoinCode.id.desc())))


def delete_join_code(code: JoinCode) -> None:
    db.session.delete(code)
    db.session.commit()


def use_join_code(code: str) -> bool:
    """Count one use of `code` if it is valid, unexpired and not used up (caller commits, so a
    sign-up that fails after this gives the use back with its rollback). One UPDATE, so two
    pupils taking the last use at once can't both get it."""
    result = cast(
        CursorResult,
        db.session.execute(
            db.update(JoinCode)
            .where(
                JoinCode.code == JoinCode.normalize(code),
                JoinCode.uses < JoinCode.max_uses,
                JoinCode.expires_at > utcnow(),
            )
            .values(uses=JoinCode.uses + 1)
        ),
    )
    return result.rowcount == 1


def classroom_of_code(code: str) -> int | None:
    """The class a join code belongs to (its users become that class's pupils), or None."""
    return db.session.scalar(
        db.select(JoinCode.classroom_id).where(JoinCode.code == JoinCode.normalize(code))
    )
