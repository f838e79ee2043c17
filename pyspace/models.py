"""The database tables, each knowing its own rules."""

import re
import secrets as token_source
from datetime import UTC, date, datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def new_widget_id() -> str:
    """A random, unguessable widget id (96 bits, URL-safe)."""
    return token_source.token_urlsafe(12)


USERNAME_RE = re.compile(r"^[a-z0-9_-]{3,32}$")
PASSWORD_MIN, PASSWORD_MAX = 8, 200


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-case: "Alice" and "alice" are the same account.
    username: Mapped[str] = mapped_column(String(32), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(default=False)
    is_disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    widgets: Mapped[list["Widget"]] = relationship(
        back_populates="owner", cascade="all, delete-orphan", passive_deletes=True
    )

    @staticmethod
    def normalize_username(username: str) -> str:
        return (username or "").strip().lower()

    @staticmethod
    def username_error(username: str) -> str | None:
        """Why `username` (already normalized) can't be used, or None."""
        if not username:
            return "Choose a username."
        if not USERNAME_RE.match(username):
            return "Usernames are 3–32 characters: letters, digits, '-' and '_'."
        return None

    @staticmethod
    def password_error(password: str) -> str | None:
        if not password:
            return "Choose a password."
        if len(password) < PASSWORD_MIN:
            return f"Passwords need at least {PASSWORD_MIN} characters."
        if len(password) > PASSWORD_MAX:
            return f"Passwords can be at most {PASSWORD_MAX} characters."
        return None

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)  # scrypt by default

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses to log in inactive users
        return not self.is_disabled


WIDGET_KINDS = ("script", "gui")
VISIBILITIES = ("public", "private")
TITLE_MAX = 100
DESCRIPTION_MAX = 5_000
CODE_MAX = 200_000


class Widget(db.Model):
    __tablename__ = "widgets"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_widget_id)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(10), default="script")
    visibility: Mapped[str] = mapped_column(String(10), default="private")
    server_code: Mapped[str] = mapped_column(Text, default="")
    client_code: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # Lineage survives the original's deletion: the id is not a foreign key,
    # and the title and owner are copied at fork time.
    forked_from_id: Mapped[str | None] = mapped_column(String(32), index=True, default=None)
    forked_from_title: Mapped[str | None] = mapped_column(String(TITLE_MAX), default=None)
    forked_from_owner: Mapped[str | None] = mapped_column(String(32), default=None)

    owner: Mapped[User] = relationship(back_populates="widgets")
    secrets: Mapped[list["Secret"]] = relationship(
        back_populates="widget",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Secret.id",
    )

    __table_args__ = (Index("ix_widgets_public_recent", "visibility", "created_at"),)

    @property
    def is_public(self) -> bool:
        return self.visibility == "public"

    @property
    def is_gui(self) -> bool:
        return self.kind == "gui"

    def is_owned_by(self, user) -> bool:
        return bool(user and user.is_authenticated and user.id == self.owner_id)

    def is_visible_to(self, user) -> bool:
        return self.is_public or self.is_owned_by(user)

    def touch(self) -> None:
        self.updated_at = utcnow()


SECRET_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
SECRET_VALUE_MAX_BYTES = 64 * 1024
SECRET_DESCRIPTION_MAX = 500


class Secret(db.Model):
    """A named secret of one widget. The value is Fernet ciphertext, or None for blank.

    Names are case-sensitive (`API_KEY` and `api_key` are two secrets), like Python identifiers.
    """

    __tablename__ = "secrets"

    id: Mapped[int] = mapped_column(primary_key=True)
    widget_id: Mapped[str] = mapped_column(ForeignKey("widgets.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    # Keyed HMAC of the value (see vault.fingerprint): lets saved code be checked for the
    # value without decrypting. Blank with the value; never copied by a fork.
    fingerprint: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    description: Mapped[str] = mapped_column(String(SECRET_DESCRIPTION_MAX), default="")
    required: Mapped[bool] = mapped_column(default=False)
    write_only: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    value_changed_at: Mapped[datetime | None] = mapped_column(default=None)
    last_viewed_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)

    widget: Mapped[Widget] = relationship(back_populates="secrets")

    __table_args__ = (UniqueConstraint("widget_id", "name", name="uq_secret_widget_name"),)

    @property
    def is_blank(self) -> bool:
        return self.ciphertext is None

    @staticmethod
    def name_error(name: str) -> str | None:
        """Why `name` can't name a secret, or None."""
        if not name:
            return "A secret needs a name."
        if len(name) > 64:
            return "Secret names can be at most 64 characters."
        if not SECRET_NAME_RE.match(name):
            return "Use letters, digits and underscores, not starting with a digit (like api_key)."
        return None

    @staticmethod
    def value_error(value: str) -> str | None:
        if len(value.encode("utf-8")) > SECRET_VALUE_MAX_BYTES:
            return "A secret's value can be at most 64 KiB."
        return None


class AuditEvent(db.Model):
    """Who did what to which secret, and when. Never holds a value."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    widget_id: Mapped[str] = mapped_column(ForeignKey("widgets.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(20))
    secret_name: Mapped[str | None] = mapped_column(String(64), default=None)
    detail: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())

    actor: Mapped[User | None] = relationship()


# --- Data tables (pyspace/tables/) ---------------------------------------------------------

TABLE_NAME_MAX = 64
COLUMN_TYPES = ("text", "number", "bool", "date", "datetime", "simple_object")


class DataTable(db.Model):
    """A widget's data table (`app_tables.<name>` in its server code).

    `row_count` and `byte_count` are kept up to date by every write (see tables/rows.py), so a
    quota check costs one small query instead of a count over every row.
    """

    __tablename__ = "data_tables"

    id: Mapped[int] = mapped_column(primary_key=True)
    widget_id: Mapped[str] = mapped_column(ForeignKey("widgets.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(TABLE_NAME_MAX))
    row_count: Mapped[int] = mapped_column(default=0)
    byte_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    columns: Mapped[list["DataColumn"]] = relationship(
        back_populates="table",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="DataColumn.id",
    )

    __table_args__ = (UniqueConstraint("widget_id", "name", name="uq_data_table_widget_name"),)

    @staticmethod
    def name_error(name: str, what: str = "table") -> str | None:
        """Why `name` can't name a table (or, with what="column", a column), or None.

        The secret-name rule: a Python identifier of at most 64 characters, so that
        `app_tables.readings` and `row['temp']` read naturally."""
        if not name:
            return f"A {what} needs a name."
        if len(name) > TABLE_NAME_MAX:
            return f"{what.capitalize()} names can be at most {TABLE_NAME_MAX} characters."
        if not SECRET_NAME_RE.match(name):
            return "Use letters, digits and underscores, not starting with a digit (like readings)."
        return None


class DataColumn(db.Model):
    """A typed column of a data table; its values live in DataCell rows."""

    __tablename__ = "data_columns"

    id: Mapped[int] = mapped_column(primary_key=True)
    table_id: Mapped[int] = mapped_column(
        ForeignKey("data_tables.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(TABLE_NAME_MAX))
    type: Mapped[str] = mapped_column(String(20))

    table: Mapped[DataTable] = relationship(back_populates="columns")

    __table_args__ = (UniqueConstraint("table_id", "name", name="uq_data_column_table_name"),)


class DataRow(db.Model):
    """One row of a data table. Its values are DataCell rows, one per column that has a value."""

    __tablename__ = "data_rows"

    id: Mapped[int] = mapped_column(primary_key=True)
    table_id: Mapped[int] = mapped_column(
        ForeignKey("data_tables.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DataCell(db.Model):
    """One value of one row: a typed column per column type, so that ordering and comparing use
    the database's own types and indexes on SQLite and PostgreSQL alike.

    A None value is no cell at all. Each index starts with the column, then the value, then the
    row: `search(order_by('when', ascending=False))[:48]` reads 48 index entries whatever the
    table's size. Text has no index: a B-tree entry in PostgreSQL is limited to about 2.7 kB,
    and text values may be longer.
    """

    __tablename__ = "data_cells"

    row_id: Mapped[int] = mapped_column(
        ForeignKey("data_rows.id", ondelete="CASCADE"), primary_key=True
    )
    column_id: Mapped[int] = mapped_column(
        ForeignKey("data_columns.id", ondelete="CASCADE"), primary_key=True
    )
    text_value: Mapped[str | None] = mapped_column(Text, default=None)
    number_value: Mapped[float | None] = mapped_column(Float, default=None)
    bool_value: Mapped[bool | None] = mapped_column(default=None)
    date_value: Mapped[date | None] = mapped_column(Date, default=None)
    datetime_value: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    object_value: Mapped[Any | None] = mapped_column(JSON, default=None)
    # Roughly the value's size as JSON; DataTable.byte_count is the sum over the table's cells.
    size_bytes: Mapped[int] = mapped_column(default=0)

    __table_args__ = (
        Index("ix_data_cells_number", "column_id", "number_value", "row_id"),
        Index("ix_data_cells_bool", "column_id", "bool_value", "row_id"),
        Index("ix_data_cells_date", "column_id", "date_value", "row_id"),
        Index("ix_data_cells_datetime", "column_id", "datetime_value", "row_id"),
    )
