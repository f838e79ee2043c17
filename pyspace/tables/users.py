"""A widget's Users table: `app_tables.users`, the rows `anvil.users.get_user()` returns.

It is an ordinary data table of the widget (searchable, linkable, shown in the Data panel) with
`DataTable.is_users` set and Anvil's account columns (`email`, `enabled`, `signed_up`,
`last_login`, `confirmed_email`, models.ACCOUNT_COLUMNS). Each row stands for one site account
(`DataRow.account_id`), made the first time a run of the widget asks who its logged-in account
is; its account columns are copied from the account then and kept up to date at each later
ask. Nobody else writes them (rows.update_row refuses): the account belongs to the site.

Only the widget's own table holds the row: the owner of widget A learns nothing of an
account's use of widget B.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import ACCOUNT_COLUMNS, DataRow, DataTable, User, Widget
from .columns import encode_wire
from .queries import row_values
from .rows import add_account_row, update_row
from .schema import USERS_TABLE, create_table, make_users_table, table_named

# last_login is rewritten when it is older than this, not at every call (a write per call).
LAST_LOGIN_STEP = timedelta(minutes=5)
ACCOUNT_NAMES = tuple(name for name, _ in ACCOUNT_COLUMNS)


def users_table(widget_id: str) -> DataTable | None:
    """The widget's Users table, or None while it has none."""
    return db.session.scalar(select(DataTable).filter_by(widget_id=widget_id, is_users=True))


def missing_account_columns(table: DataTable) -> bool:
    have = {column.name for column in table.columns}
    return any(name not in have for name in ACCOUNT_NAMES)


def ensure_users_table(widget_id: str) -> DataTable:
    """The widget's Users table, made on first need: a table named "users" the widget already
    has (an imported Anvil app's) gains the account columns; else a new one is made.
    Raises schema.TableChangeError when it can't be (a storage budget, a clashing column)."""
    table = users_table(widget_id)
    if table is not None and not missing_account_columns(table):
        return table
    if table is not None:
        # An account column added to the site after this table was made.
        try:
            make_users_table(table)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        return table
    plain = table_named(widget_id, USERS_TABLE)
    if plain is not None:
        try:
            make_users_table(plain)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        return plain
    widget = db.session.get(Widget, widget_id)
    assert widget is not None  # a run's widget exists while it runs
    try:
        return create_table(widget, USERS_TABLE)
    except IntegrityError:
        # Another run of the widget made it first.
        table = users_table(widget_id)
        if table is None:
            raise
        return table


def _account_values(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "email": user.email,
        "enabled": not user.is_disabled,
        "confirmed_email": user.email_confirmed,
    }


def row_for_account(table: DataTable, user: User) -> int:
    """The id of `user`'s row in Users table `table`, made on first use; its account columns
    brought up to date with the account (last_login: now, to within LAST_LOGIN_STEP)."""
    table_id = table.id
    now = datetime.now(UTC)
    row_id = db.session.scalar(select(DataRow.id).filter_by(table_id=table_id, account_id=user.id))
    if row_id is None:
        try:
            row_id = add_account_row(table, user.id)
        except IntegrityError:
            # The same account's other call made it first.
            row_id = db.session.scalar(
                select(DataRow.id).filter_by(table_id=table_id, account_id=user.id)
            )
            if row_id is None:
                raise
    columns = [column for column in table.columns if column.name in ACCOUNT_NAMES]
    current = row_values(columns, [row_id])[row_id]
    present = {column.name for column in columns}
    changed = {
        name: value
        for name, value in _account_values(user).items()
        if name in present and current.get(name) != value
    }
    if current.get("signed_up") is None:
        changed["signed_up"] = user.created_at.replace(tzinfo=UTC)
    last = current.get("last_login")
    if last is None or now - last > LAST_LOGIN_STEP:
        changed["last_login"] = now
    if changed:
        update_row(table, row_id, changed, account=True)
    return row_id


def account_of_row(table: DataTable, row_id: Any) -> User | None:
    """The account behind row `row_id` of Users table `table`, or None (no such row, or a
    row whose account is gone)."""
    try:
        wanted = int(row_id)
    except (TypeError, ValueError):
        return None
    account_id = db.session.scalar(
        select(DataRow.account_id).filter_by(id=wanted, table_id=table.id)
    )
    return db.session.get(User, account_id) if account_id is not None else None


def row_answer(table: DataTable, row_id: int) -> dict:
    """Row `row_id` as the channel carries a row: {"table", "id", "values"}."""
    values = row_values(list(table.columns), [row_id])[row_id]
    return {
        "table": table.name,
        "id": str(row_id),
        "values": {name: encode_wire(value) for name, value in values.items()},
    }
