"""Prometheus counters bumped where things happen, by shared code and areas alike: sandbox
starts (pyspace/sandbox), database busy waits (errors.py, database.py), how long queued runs
waited (runs/history.py) and mail outcomes (mail/sending.py; sent, kept and failed messages are
counted from their rows by operations/metrics.py). `/metrics` (pyspace/operations) shows them.
Only prometheus_client is imported up front: the sandbox layer imports this module without the
database's.

Labels are small fixed sets (an account's class, never an account; an outcome, never an address
or a title), so the number of series stays bounded however many accounts and widgets there are.
"""

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from prometheus_client import Counter, Histogram

if TYPE_CHECKING:
    from .models import User

log = logging.getLogger(__name__)

SANDBOX_STARTS = Counter(
    "pyspace_sandbox_starts", "Sandboxes started (Python started: warm-pool fills and cold starts)"
)
SANDBOXES_TAKEN = Counter(
    "pyspace_sandboxes_taken",
    "Sandboxes runs were given, by source: warm from the pool, or cold (started for the run)",
    ["source"],
)
DATABASE_BUSY = Counter(
    "pyspace_database_busy",
    "Writes that found the database busy: answered 503 (request) or tried again (bookkeeping)",
    ["where"],
)
QUEUE_WAIT_SECONDS = Histogram(
    "pyspace_queue_wait_seconds",
    "How long a queued run waited before a consumer started it, by the owner's account class",
    ["account_class"],
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600),
)
MAIL = Counter(
    "pyspace_mail_messages",
    "Mail by outcome: sent, kept in the outbox, failed at the mail server, refused by a limit",
    ["outcome"],
)


def account_class(user: "User") -> str:
    """`user`'s class for metric labels: admin, teacher, pupil (in a class) or other."""
    from sqlalchemy import exists, select

    from .extensions import db
    from .models import ClassroomMember

    if user.is_admin:
        return "admin"
    if user.is_teacher:
        return "teacher"
    in_a_class = db.session.scalar(select(exists().where(ClassroomMember.user_id == user.id)))
    return "pupil" if in_a_class else "other"


def observe_queue_wait(run_id: int) -> None:
    """Count how long the run `run_id`, just claimed (committed), waited since it was queued.
    Ends the session's read transaction; a database error here is logged, never raised: the
    claimed run goes ahead uncounted."""
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from .extensions import db
    from .models import Run, User, Widget, utcnow

    try:
        found = db.session.execute(
            select(Run.created_at, User)
            .join(Widget, Widget.id == Run.widget_id)
            .join(User, User.id == Widget.owner_id)
            .where(Run.id == run_id)
        ).first()
        if found is not None:
            queued_at: datetime = found[0]
            waited = max(0.0, (utcnow() - queued_at).total_seconds())
            QUEUE_WAIT_SECONDS.labels(account_class(found[1])).observe(waited)
    except SQLAlchemyError as error:
        log.warning("could not count run %s's queue wait: %s", run_id, error)
    finally:
        db.session.rollback()  # end the read: what the caller does next sees fresh data
