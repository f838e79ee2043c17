"""Per-account quotas, so one account can't fill the site's database: how many widgets, how many
bytes of code in all of them, how many secrets in one widget, and one storage budget for all
an account keeps (code, table values and run history: QUOTA_STORAGE_BYTES). Limits are settings
(QUOTA_*); each check returns a message to show next to what was refused, or None.

Used by widgets (create, save), forks (fork), examples (use), secrets (create, import, move to a
secret), tables (create a table, write rows), tasks (create a schedule: SCHEDULES_PER_*), the
run history (what a run stores) and the account page (the use shown).
"""

from dataclasses import dataclass
from functools import cache

from flask import current_app
from sqlalchemy import Integer, LargeBinary, Select, bindparam

from .extensions import db
from .models import DataTable, Run, Schedule, Secret, ServerModule, Widget

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
    growth = new_code_bytes
    if widget_id is not None:
        growth -= _stored_code_bytes(owner_id, None) - _stored_code_bytes(owner_id, widget_id)
    return storage_error(owner_id, growth) if growth > 0 else None


def new_schedules_error(owner_id: int, widget_id: str | None, adding: int) -> str | None:
    """Why `adding` more schedules can't go into widget `widget_id` (None: a new widget, as a
    fork) of `owner_id`'s: SCHEDULES_PER_WIDGET, SCHEDULES_PER_USER, the storage budget."""
    per_widget = int(current_app.config["SCHEDULES_PER_WIDGET"])
    per_user = int(current_app.config["SCHEDULES_PER_USER"])
    if widget_id is not None:
        in_widget = db.session.scalar(
            db.select(db.func.count()).select_from(Schedule).where(Schedule.widget_id == widget_id)
        )
        if (in_widget or 0) + adding > per_widget:
            return (
                f"This widget has {in_widget} schedules, the most one widget may have here "
                f"({per_widget}). Delete one it no longer needs first."
            )
    in_account = db.session.scalar(
        db.select(db.func.count())
        .select_from(Schedule)
        .join(Widget, Widget.id == Schedule.widget_id)
        .where(Widget.owner_id == owner_id)
    )
    if (in_account or 0) + adding > per_user:
        return (
            f"Your widgets have {in_account} schedules, the most one account may have here "
            f"({per_user}). Delete schedules you no longer need first."
        )
    return storage_error(owner_id, 0) if adding > 0 else None


@dataclass(frozen=True)
class StorageUse:
    """What one account keeps, in bytes, against its budget (QUOTA_STORAGE_BYTES)."""

    code: int
    tables: int
    history: int
    limit: int

    @property
    def total(self) -> int:
        return self.code + self.tables + self.history

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.total / self.limit)) if self.limit > 0 else 100

    def sizes(self) -> dict[str, str]:
        """Each part and the total as words (`1.2 MiB`), for the account page."""
        return {
            "code": _size(self.code),
            "tables": _size(self.tables),
            "history": _size(self.history),
            "total": _size(self.total),
            "limit": _size(self.limit),
        }


def storage_use(owner_id: int) -> StorageUse:
    """What `owner_id`'s widgets keep: their code, their tables' values (as the tables count
    them) and their run history (each run's stored fields)."""
    statement = _storage_statement(db.engine.dialect.name)
    code, tables, history = db.session.execute(statement, {"owner_id": owner_id}).one()
    return StorageUse(
        code=int(code or 0),
        tables=int(tables or 0),
        history=int(history or 0),
        limit=int(current_app.config["QUOTA_STORAGE_BYTES"]),
    )


@cache
def _storage_statement(dialect: str) -> Select:
    """One SELECT of an account's (`:owner_id`) code, table and history bytes.

    Every row write checks the budget: one statement, built once, is one round trip and no
    SQL building per write (five separately built queries cost a row write more than its own
    INSERTs)."""
    owner = bindparam("owner_id", type_=Integer)
    of_owner = db.select(Widget.id).where(Widget.owner_id == owner)

    def length(column):
        if dialect == "sqlite":
            return db.func.length(db.cast(column, LargeBinary))  # length() of text: characters
        return db.func.octet_length(column)

    def total(of, *where):
        return db.select(db.func.coalesce(db.func.sum(of), 0)).where(*where).scalar_subquery()

    # Server code lives in the widgets' modules; the other code fields in the widget row.
    page_fields = [name for name in CODE_FIELDS if name != "server_code"]
    pages = total(
        sum(length(getattr(Widget, name)) for name in page_fields), Widget.owner_id == owner
    )
    modules = total(length(ServerModule.code), ServerModule.widget_id.in_(of_owner))
    tables = total(DataTable.byte_count, DataTable.widget_id.in_(of_owner))
    history = total(Run.stored_bytes, Run.widget_id.in_(of_owner))
    return db.select(pages + modules, tables, history)


def storage_error(owner_id: int, adding: int) -> str | None:
    """Why `owner_id` can't keep `adding` more bytes (0: one more table, schedule or empty row,
    refused once the budget is used up), or None."""
    use = storage_use(owner_id)
    if use.total + adding <= use.limit and use.total < use.limit:
        return None
    shown = use.sizes()
    return (
        f"Your account's storage is full: {shown['total']} of the {shown['limit']} one account "
        f"may keep (code {shown['code']}, table data {shown['tables']}, run history "
        f"{shown['history']}){f', and this needs {_size(adding)} more' if adding else ''}. "
        "Delete rows, tables or widgets you no longer need to make room."
    )


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
    if n >= 1024:
        return f"{n / 1024:.0f} KiB"
    return f"{n} bytes"
