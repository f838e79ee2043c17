"""Noticing attempts to extract a secret one withheld answer at a time.

A run's field that held a secret value is withheld whole from anyone but the owner, so each
withheld answer still tells the caller one bit: "what I sent (or made the code do) matched".
Each such answer counts against (widget, caller) — the account, or the address of an anonymous
visitor. Past `EXTRACTION_BUDGET` in an hour, that caller's runs and calls of that widget are
refused for an hour, and the owner finds "possible extraction attempt" in the Secrets panel's
activity log and a banner in the editor, and is e-mailed an alert (`owner_alerts`).

Counters live in the database (not Flask-Limiter's storage): they must be shared by every web
process without Redis, outlive a restart, disappear with their widget, and the owner's alert
(an audit event) is written in the same transaction as the block that caused it.

Shared by the Run route (`runs/routes.py`) and the GUI call route (`gui/routes.py`), which count
and refuse, and the editor (`widgets/routes.py`), which shows the owner's alerts.
"""

from datetime import timedelta

from flask import current_app
from flask_limiter.util import get_remote_address
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from . import audit, owner_alerts
from .extensions import db
from .models import AuditEvent, ExtractionCounter, Widget, utcnow

WINDOW = timedelta(hours=1)
BLOCK = timedelta(hours=1)
# How long the editor's banner stays after a block started.
ALERT_SHOWN_FOR = timedelta(hours=24)


def caller_key(actor_id: int | None) -> str:
    """Who the budget counts against: the account, or the client's address when anonymous."""
    return f"user:{actor_id}" if actor_id is not None else f"address:{get_remote_address()}"


def refusal(widget: Widget, caller: str, actor_id: int | None) -> str | None:
    """Why `caller` (`actor_id` when logged in) may not run or call `widget` now (it is over
    its budget), or None."""
    if actor_id is not None and actor_id == widget.owner_id:
        # The owner's results are masked, never withheld, so the owner is never counted: no
        # query on the owner's every Run press.
        return None
    blocked_until = db.session.scalar(
        db.select(ExtractionCounter.blocked_until).filter_by(widget_id=widget.id, caller=caller)
    )
    if blocked_until is None or blocked_until <= utcnow():
        return None
    minutes = max(1, round((blocked_until - utcnow()).total_seconds() / 60))
    return (
        "Too many of your results from this widget were hidden because they contained a "
        f"secret value. Its owner has been told. Try again in {minutes} min."
    )


def count_withheld(widget: Widget, caller: str, actor_id: int | None) -> None:
    """Count one withheld answer for (widget, caller); block the caller and alert the owner
    when the hour's budget is used up. Commits."""
    now = utcnow()
    counter = _counter(widget.id, caller, now)
    if counter.window_started_at <= now - WINDOW:
        counter.window_started_at, counter.withheld = now, 0
    # Added in SQL, so two runs finishing at once both count.
    counter.withheld = ExtractionCounter.withheld + 1
    db.session.flush()
    db.session.refresh(counter)
    budget = current_app.config["EXTRACTION_BUDGET"]
    already_blocked = counter.blocked_until is not None and counter.blocked_until > now
    blocked_now = counter.withheld >= budget and not already_blocked
    withheld = counter.withheld
    if blocked_now:
        counter.blocked_until = now + BLOCK
        who = "an anonymous visitor" if actor_id is None else "this account"
        audit.record(
            widget.id,
            actor_id,
            "extraction",
            detail=f"{withheld} results withheld from {who} within an hour; "
            "its runs and calls are refused for an hour",
        )
    db.session.commit()
    if blocked_now:
        # After the commit: the block stands whether or not the e-mail can be sent.
        owner_alerts.raise_alert(
            widget.id,
            "extraction",
            [
                f"Caller: {'an anonymous visitor' if actor_id is None else 'a logged-in account'}",
                f"Results withheld within an hour: {withheld}",
            ],
        )


def _counter(widget_id: str, caller: str, now) -> ExtractionCounter:
    counter = db.session.scalar(
        db.select(ExtractionCounter).filter_by(widget_id=widget_id, caller=caller)
    )
    if counter is not None:
        return counter
    try:
        with db.session.begin_nested():
            counter = ExtractionCounter(
                widget_id=widget_id, caller=caller, window_started_at=now, withheld=0
            )
            db.session.add(counter)
        return counter
    except IntegrityError:
        # Another process created it first: count on theirs.
        return db.session.scalars(
            db.select(ExtractionCounter).filter_by(widget_id=widget_id, caller=caller)
        ).one()


# Built once (every editor page shows the alerts): see widgets/listing.py.
_RECENT_ALERTS = (
    select(AuditEvent)
    .where(
        AuditEvent.widget_id == bindparam("widget_id"),
        AuditEvent.action == "extraction",
        AuditEvent.created_at > bindparam("since"),
    )
    .order_by(AuditEvent.id.desc())
)


def recent_alerts(widget_id: str) -> list[AuditEvent]:
    """The widget's "possible extraction attempt" events of the last day, newest first."""
    since = utcnow() - ALERT_SHOWN_FOR
    return list(db.session.scalars(_RECENT_ALERTS, {"widget_id": widget_id, "since": since}))
