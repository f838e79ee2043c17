"""Creating, renaming and deleting a widget's tables and columns (the Data panel's work).

Names follow the secret-name rule (`DataTable.name_error`); a name already taken in the same
widget (tables) or table (columns) is a clear error, checked before the database's unique
constraint would refuse it.
"""

from sqlalchemy import Select, delete, func, select, update

from .. import quotas
from ..extensions import db
from ..models import (
    ACCOUNT_COLUMNS,
    CLIENT_ACCESS,
    COLUMN_TYPES,
    LINK_TYPES,
    DataCell,
    DataColumn,
    DataLink,
    DataRow,
    DataTable,
    Widget,
)

RESERVED_COLUMN = "id"
# The name of a widget's Users table (DataTable.is_users), as Anvil's app_tables.users.
USERS_TABLE = "users"
# A link's share of the bytes quota (as rows.py counts it).
LINK_BYTES = 16


class TableChangeError(ValueError):
    """A change to a table or column that can't be made; the message says why."""


def tables_of(widget_id: str) -> list[DataTable]:
    """The widget's tables, oldest first."""
    return list(
        db.session.scalars(select(DataTable).filter_by(widget_id=widget_id).order_by(DataTable.id))
    )


def table_of(widget_id: str, table_id: int) -> DataTable | None:
    """The widget's table `table_id`, or None (also when it belongs to another widget)."""
    return db.session.scalar(select(DataTable).filter_by(id=table_id, widget_id=widget_id))


def table_named(widget_id: str, name: str) -> DataTable | None:
    return db.session.scalar(select(DataTable).filter_by(widget_id=widget_id, name=name))


def _table_name(widget_id: str, name: str, keep: DataTable | None = None) -> str:
    name = (name or "").strip()
    error = DataTable.name_error(name)
    if error:
        raise TableChangeError(error)
    taken = table_named(widget_id, name)
    if taken is not None and taken is not keep:
        raise TableChangeError(f"There is already a table named {name}.")
    return name


def _column_name(table: DataTable, name: str, keep: DataColumn | None = None) -> str:
    name = (name or "").strip()
    error = DataTable.name_error(name, "column")
    if error:
        raise TableChangeError(error)
    if name == RESERVED_COLUMN:
        # The rows JSON gives each row's id under "id": a column may not hide it.
        raise TableChangeError("id is the row's own id: choose another column name.")
    if any(column.name == name and column is not keep for column in table.columns):
        raise TableChangeError(f"Table {table.name} already has a column named {name}.")
    return name


def unlink(rows: Select) -> None:
    """Delete `rows`' own links, and every link to them from other rows: a link to a deleted
    row reads as None, and never points at a row a later insert gets the same id as. The
    bytes of links from other rows go back to their tables' quotas."""
    db.session.execute(delete(DataLink).where(DataLink.row_id.in_(rows)))
    pointing = db.session.execute(
        select(DataRow.table_id, func.count())
        .join(DataLink, DataLink.row_id == DataRow.id)
        .where(DataLink.target_id.in_(rows))
        .group_by(DataRow.table_id)
    ).all()
    if not pointing:
        return
    db.session.execute(delete(DataLink).where(DataLink.target_id.in_(rows)))
    for table_id, links in pointing:
        db.session.execute(
            update(DataTable)
            .where(DataTable.id == table_id)
            .values(byte_count=DataTable.byte_count - LINK_BYTES * links)
        )


def _commit() -> None:
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def set_client_access(table: DataTable, access: str) -> None:
    """What client code may do with `table`: "none", "search" or "edit" (CLIENT_ACCESS)."""
    if access not in CLIENT_ACCESS:
        raise TableChangeError("Client access is one of: " + ", ".join(CLIENT_ACCESS) + ".")
    table.client_access = access
    _commit()


def client_table(widget_id: str, name: str, edit: bool = False) -> DataTable | None:
    """The widget's table `name` if client (browser) code may search it (with `edit`: also
    change it), else None. The one check for code that gives client code a table or its rows:
    a table nobody opened to clients is never reachable from the browser."""
    table = table_named(widget_id, name)
    allowed = ("edit",) if edit else ("search", "edit")
    return table if table is not None and table.client_access in allowed else None


def set_auto_columns(widget: Widget, on: bool) -> None:
    """Whether add_row(new_column=...) creates the column (Anvil's "Add columns
    automatically when adding a new row")."""
    widget.tables_auto_columns = on
    _commit()


def set_users_signup(widget: Widget, on: bool) -> None:
    """Whether the widget's code may make py.space accounts (anvil.users.signup_with_email)."""
    widget.users_allow_signup = on
    _commit()


def set_users_require_confirmed(widget: Widget, on: bool) -> None:
    """Whether only accounts with a confirmed e-mail address may log in to the widget
    (Anvil's "Require e-mail confirmation")."""
    widget.users_require_confirmed = on
    _commit()


def set_users_anonymous_calls(widget: Widget, on: bool) -> None:
    """Whether visitors who never logged in may call the widget's server functions."""
    widget.users_anonymous_calls = on
    _commit()


def create_table(widget: Widget, name: str) -> DataTable:
    """A new empty table of `widget` (refused once its owner's storage budget is used up).
    A table named "users" is the widget's Users table, made with its account columns."""
    if full := quotas.storage_error(widget.owner_id, 0):
        raise TableChangeError(full)
    table = DataTable(widget_id=widget.id, name=_table_name(widget.id, name))
    db.session.add(table)
    if table.name == USERS_TABLE:
        db.session.flush()
        make_users_table(table)
    _commit()
    return table


def make_users_table(table: DataTable) -> None:
    """Make `table` (named "users") the widget's Users table: add the account columns it
    lacks. A column of the same name and another type is refused (caller commits)."""
    have = {column.name: column for column in table.columns}
    for name, type_ in ACCOUNT_COLUMNS:
        column = have.get(name)
        if column is not None and column.type != type_:
            raise TableChangeError(
                f"Table users has a column {name} of type {column.type}: the Users table "
                f"needs it to be {type_}. Rename or delete that column."
            )
        if column is None:
            db.session.add(DataColumn(table_id=table.id, name=name, type=type_))
    table.is_users = True
    db.session.flush()
    db.session.refresh(table)


def _account_column(table: DataTable, column: DataColumn) -> bool:
    return table.is_users and any(column.name == name for name, _ in ACCOUNT_COLUMNS)


def rename_table(table: DataTable, name: str) -> None:
    if table.is_users and name.strip() != table.name:
        raise TableChangeError("The Users table is app_tables.users: it keeps its name.")
    table.name = _table_name(table.widget_id, name, keep=table)
    _commit()


def delete_table(table: DataTable) -> None:
    """Delete a table with its columns and rows: the rows in short batches first
    (rows.delete_rows), so a big table never holds the database for long, then the table."""
    # rows.py builds on this module (columns, links), so it is imported here, not at the top.
    from .rows import delete_rows

    delete_rows(table)
    db.session.delete(table)
    _commit()


def add_column(
    table: DataTable, name: str, type_: str, link_table: DataTable | None = None
) -> DataColumn:
    """A new column; existing rows have no value in it (None). A link column (link_single,
    link_multiple) holds rows of `link_table`, a table of the same widget."""
    name = _column_name(table, name)
    if type_ not in COLUMN_TYPES:
        raise TableChangeError("Choose a column type: " + ", ".join(COLUMN_TYPES) + ".")
    if type_ in LINK_TYPES and (link_table is None or link_table.widget_id != table.widget_id):
        raise TableChangeError("A link column links to one of this widget's tables: choose it.")
    column = DataColumn(
        table_id=table.id,
        name=name,
        type=type_,
        link_table_id=link_table.id if type_ in LINK_TYPES and link_table else None,
    )
    db.session.add(column)
    _commit()
    db.session.refresh(table)
    return column


def column_of(table: DataTable, column_id: int) -> DataColumn | None:
    return next((column for column in table.columns if column.id == column_id), None)


def rename_column(table: DataTable, column: DataColumn, name: str) -> None:
    if _account_column(table, column) and name.strip() != column.name:
        raise TableChangeError(f"{column.name} is one of the Users table's own columns.")
    column.name = _column_name(table, name, keep=column)
    _commit()


def delete_column(table: DataTable, column: DataColumn) -> None:
    """Delete a column and its values, giving their bytes back to the quota."""
    if _account_column(table, column):
        raise TableChangeError(f"{column.name} is one of the Users table's own columns.")
    size = (
        db.session.scalar(
            select(func.coalesce(func.sum(DataCell.size_bytes), 0)).where(
                DataCell.column_id == column.id
            )
        )
        or 0
    )
    db.session.execute(delete(DataCell).where(DataCell.column_id == column.id))
    links = db.session.scalar(
        select(func.count()).select_from(DataLink).where(DataLink.column_id == column.id)
    )
    size += LINK_BYTES * (links or 0)
    db.session.execute(delete(DataLink).where(DataLink.column_id == column.id))
    db.session.execute(
        update(DataTable)
        .where(DataTable.id == table.id)
        .values(byte_count=DataTable.byte_count - size)
    )
    db.session.delete(column)
    _commit()
    db.session.refresh(table)
