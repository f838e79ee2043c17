"""Alerts to a widget's owner by e-mail: a possible secret-extraction attempt on the widget
(`extraction.py`), a scheduled task that failed ALERT_SCHEDULE_FAILURES times in a row
(`runs/history.py`). Raised through `pyspace.owner_alerts`; delivered here.

- The owner can switch a widget's alerts off (the Outbox panel's form): nothing is sent then.
- At most one alert of each kind per widget an hour, however many are raised, by every process
  together: sending one claims the (widget, kind) row's hour in the database first.
- It goes to the owner's address when it is confirmed, through the site's mail server; without
  a mail server or a confirmed address it is kept in the outbox, where the owner reads it in the
  widget's Outbox panel.
- It says what happened and where to look — never a secret's value: the facts it is given are
  counts, names and error types, and it holds no run's output.
"""

from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..database import rows_changed
from ..extensions import db
from ..models import OwnerAlert, User, Widget, utcnow
from .site_mail import send_site_mail

THROTTLE = timedelta(hours=1)
# Each kind's subject (the widget's title is added) and first line.
ALERT_KINDS = {
    "extraction": (
        "Possible secret-extraction attempt on",
        "A caller's results from your widget were withheld again and again because they held "
        "a secret value, so its runs and calls are refused for an hour.",
    ),
    "schedule_failing": (
        "A scheduled task keeps failing in",
        "A scheduled task of your widget has failed several times in a row.",
    ),
}


def _claim(widget_id: str, kind: str) -> bool:
    """Take this hour's alert of `kind` for the widget; False if one was sent within the hour
    (or another process took it just now). Commits."""
    now = utcnow()
    if rows_changed(
        update(OwnerAlert)
        .where(
            OwnerAlert.widget_id == widget_id,
            OwnerAlert.kind == kind,
            OwnerAlert.sent_at <= now - THROTTLE,
        )
        .values(sent_at=now)
    ):
        db.session.commit()
        return True
    known = db.session.scalar(
        select(OwnerAlert.id).where(OwnerAlert.widget_id == widget_id, OwnerAlert.kind == kind)
    )
    if known is not None:
        return False
    try:
        db.session.add(OwnerAlert(widget_id=widget_id, kind=kind, sent_at=now))
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    return True


def _widget_link(widget: Widget) -> str:
    base = (current_app.config["SITE_URL"] or "").rstrip("/")
    return f"{base}/widgets/{widget.id}/edit" if base else f"/widgets/{widget.id}/edit"


def send_owner_alert(widget_id: str, kind: str, facts: list[str]) -> str | None:
    """E-mail the owner of `widget_id` an alert of `kind` with `facts` (value-free lines);
    where it went ("sent", "outbox", "failed"), or None when it was not sent (switched off,
    already sent within the hour, no such widget)."""
    subject_start, opening = ALERT_KINDS[kind]
    widget = db.session.get(Widget, widget_id)
    if widget is None or not widget.owner_alerts or not _claim(widget_id, kind):
        return None
    owner = db.session.get(User, widget.owner_id)
    to = owner.email if owner is not None and owner.email_confirmed else None
    text = "\n".join(
        [
            f"Hello {owner.username if owner else ''},",
            "",
            opening,
            "",
            f"Widget: {widget.title}",
            *facts,
            "",
            f"Open the widget's editor for more: {_widget_link(widget)}",
            "",
            "You get at most one alert of this kind about this widget an hour. To stop these "
            "alerts, switch them off in the widget's Outbox panel.",
        ]
    )
    return send_site_mail(to, f"{subject_start} {widget.title[:100]}", text, widget_id=widget.id)
