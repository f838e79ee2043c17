"""The audit log of secret changes: who, what, which secret, when — never a value."""

from .extensions import db
from .models import AuditEvent

ACTIONS = (
    "create",
    "rename",
    "set",
    "clear",
    "delete",
    "view",
    "use",
    "import",
    "export",
    "protect",
    "describe",
)


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
    """The widget's newest audit events first."""
    return list(
        db.session.scalars(
            db.select(AuditEvent)
            .filter_by(widget_id=widget_id)
            .order_by(AuditEvent.id.desc())
            .limit(limit)
        )
    )
