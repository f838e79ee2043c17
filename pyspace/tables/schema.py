"""Creating, renaming and deleting a widget's tables and columns (the Data panel's work).

Names follow the secret-name rule (`DataTable.name_error`); a name already taken in the same
widget (tables) or table (columns) is a clear error, checked before the database's unique
constraint would refuse it.
"""

from sqlalchemy import delete, func, select, update

from .. import quotas
from ..extensions import db
from ..models import COLUMN_TYPES, DataCell, DataColumn, DataTable, Widget
from .rows import delete_rows

RESERVED_COLUMN = "id"


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


def _commit() -> None:
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def create_table(widget: Widget, name: str) -> DataTable:
    """A new empty table of `widget` (refused once its owner's storage budget is used up)."""
    if full := quotas.storage_error(widget.owner_id, 0):
        raise TableChangeError(full)
    table = DataTable(widget_id=widget.id, name=_table_name(widget.id, name))
    db.session.add(table)
    _commit()
    return table


def rename_table(table: DataTable, name: str) -> None:
    table.name = _table_name(table.widget_id, name, keep=table)
    _commit()


def delete_table(table: DataTable) -> None:
    """Delete a table with its columns and rows: the rows in short batches first
    (rows.delete_rows), so a big table never holds the database for long, then the table."""
    delete_rows(table)
    db.session.delete(table)
    _commit()


def add_column(table: DataTable, name: str, type_: str) -> DataColumn:
    """A new column; existing rows have no value in it (None)."""
    name = _column_name(table, name)
    if type_ not in COLUMN_TYPES:
        raise TableChangeError("Choose a column type: " + ", ".join(COLUMN_TYPES) + ".")
    column = DataColumn(table_id=table.id, name=name, type=type_)
    db.session.add(column)
    _commit()
    db.session.refresh(table)
    return column


def column_of(table: DataTable, column_id: int) -> DataColumn | None:
    return next((column for column in table.columns if column.id == column_id), None)


def rename_column(table: DataTable, column: DataColumn, name: str) -> None:
    column.name = _column_name(table, name, keep=column)
    _commit()


def delete_column(table: DataTable, column: DataColumn) -> None:
    """Delete a column and its values, giving their bytes back to the quota."""
    size = db.session.scalar(
        select(func.coalesce(func.sum(DataCell.size_bytes), 0)).where(
            DataCell.column_id == column.id
        )
    )
    db.session.execute(delete(DataCell).where(DataCell.column_id == column.id))
    db.session.execute(
        update(DataTable)
        .where(DataTable.id == table.id)
        .values(byte_count=DataTable.byte_count - size)
    )
    db.session.delete(column)
    _commit()
    db.session.refresh(table)
