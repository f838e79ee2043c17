"""Per-account quotas, so one account can't fill the site's database: how many widgets, how many
bytes of code in all of them, how many secrets in one widget. Limits are settings (QUOTA_*);
each check returns a message to show next to what was refused, or None.

Used by widgets (create, save), forks (fork) and secrets (create, import, move to a secret).
"""

from flask import current_app
from sqlalchemy import LargeBinary

from .extensions import db
from .models import Secret, ServerModule, Widget

CODE_FIELDS = ("server_code", "client_code", "html")


def code_bytes(**fields: str | None) -> int:
    """Bytes (UTF-8) of the code fields given."""
    return sum(len((fields.get(name) or "").encode("utf-8")) for name in CODE_FIELDS)


def _byte_length(column):
    if db.engine.dialect.name == "sqlite":
        return db.func.length(db.cast(column, LargeBinary))  # length() of text counts characters
    return db.func.octet_length(column)


def _stored_code_bytes(owner_id: int, except_widget_id: str | None) -> int:
    # Server code lives in the widgets' modules; the other code fields in the widget row.
    page_fields = [name for name in CODE_FIELDS if name != "server_code"]
    query = db.select(
        db.func.coalesce(
            db.func.sum(sum(_byte_length(getattr(Widget, name)) for name in page_fields)), 0
        )
    ).where(Widget.owner_id == owner_id)
    modules = (
        db.select(db.func.coalesce(db.func.sum(_byte_length(ServerModule.code)), 0))
        .join(Widget, Widget.id == ServerModule.widget_id)
        .where(Widget.owner_id == owner_id)
    )
    if except_widget_id is not None:
        query = query.where(Widget.id != except_widget_id)
        modules = modules.where(Widget.id != except_widget_id)
    return int(db.session.scalar(query)) + int(db.session.scalar(modules))


def new_widget_error(owner_id: int, new_code_bytes: int) -> str | None:
    """Why `owner_id` can't have one more widget holding `new_code_bytes` of code, or None."""
    limit = current_app.config["QUOTA_WIDGETS"]
    count = db.session.scalar(
        db.select(db.func.count()).select_from(Widget).where(Widget.owner_id == owner_id)
    )
    if count >= limit:
        return (
            f"You have {count} widgets, the most one account can have here ({limit}). "
            "Delete one you no longer need to make room."
        )
    return code_size_error(owner_id, None, new_code_bytes)


def code_size_error(owner_id: int, widget_id: str | None, new_code_bytes: int) -> str | None:
    """Why widget `widget_id` (None: a new one) can't hold `new_code_bytes` of code, or None."""
    limit = current_app.config["QUOTA_CODE_BYTES"]
    total = _stored_code_bytes(owner_id, widget_id) + new_code_bytes
    if total > limit:
        return (
            f"Your widgets would hold {_size(total)} of code; one account can keep at most "
            f"{_size(limit)}. Make the code shorter or delete widgets you no longer need."
        )
    return None


def new_secrets_error(widget_id: str, adding: int = 1) -> str | None:
    """Why `adding` more secrets can't go into widget `widget_id`, or None."""
    limit = current_app.config["QUOTA_SECRETS_PER_WIDGET"]
    count = db.session.scalar(
        db.select(db.func.count()).select_from(Secret).where(Secret.widget_id == widget_id)
    )
    if count + adding > limit:
        return (
            f"A widget can have at most {limit} secrets; this one has {count}. "
            "Delete secrets it no longer uses first."
        )
    return None


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MiB"
    return f"{n / 1024:.0f} KiB"
