"""The audit log of secret changes: who, what, which secret, when — never a value."""

from sqlalchemy.orm import joinedload

from .extensions import db
from .models import AuditEvent

# Every action the log records, with the words the activity list shows for it: the one list.
ACTION_VERBS = {
    "create": "created",
    "rename": "renamed",
    "set": "set the value of",
    "clear": "cleared",
    "delete": "deleted",
    "view": "viewed",
    "use": "used (run)",
    "generate": "generated a key for",
    "import": "imported",
    "export": "exported the values of",
    "protect": "made write-only",
    "describe": "described",
    # A caller got too many results withheld for holding a secret value (extraction.py).
    "extraction": "Possible extraction attempt",
}
ACTIONS = tuple(ACTION_VERBS)


def verb(action: str) -> str:
    """How the activity list says `action` ("set" -> "set the value of")."""
    return ACTION_VERBS.get(action, action)


def record(
    widget_id: str,
    actor_id: int | None,
    action: str,
    secret_name: str | None = None,
    detail: str = "",
) -> AuditEvent:
    """Add an audit event to the current transaction (the caller commits with its change)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    event = AuditEvent(
        widget_id=widget_id,
        actor_id=actor_id,
        action=action,
        secret_name=secret_name,
        detail=detail[:200],
    )
    db.session.add(event)
    return event


def recent_events(widget_id: str, limit: int = 20) -> list[AuditEvent]:
    """The widget's newest audit events first, each with its actor (loaded here, in one query,
    so the activity list's template never queries)."""
    return list(
        db.session.scalars(
            db.select(AuditEvent)
            .options(joinedload(AuditEvent.actor))
            .filter_by(widget_id=widget_id)
            .order_by(AuditEvent.id.desc())
            .limit(limit)
        )
    )
