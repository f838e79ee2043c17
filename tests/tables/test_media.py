"""Media columns: values stored apart from the rows, read back as anvil.Media, size-capped and
counted in the widget's quota and the account's storage budget."""

import json
import textwrap

import pytest
from sqlalchemy import func, select

from pyspace import quotas
from pyspace.extensions import db
from pyspace.models import DataMedia, DataTable
from pyspace.tables import rows, schema
from pyspace.tables.columns import MediaValue, StoredMedia
from pyspace.tables.queries import QueryError, conditions, row_values
from tests.tables.helpers import TABLE_LIMITS, make_widget_with_table, run_code

FILES = [("title", "text"), ("file", "media")]
HEADER = "import anvil, json\nfrom anvil.tables import app_tables\nimport anvil.tables.query as q\n"


@pytest.fixture(autouse=True)
def limits(app_config):
    app_config.update(TABLE_LIMITS)


@pytest.fixture
def owner(make_user):
    return make_user()


@pytest.fixture
def widget(app, owner):
    return make_widget_with_table(app, owner, "files", FILES)


def _table(widget_id: str) -> DataTable:
    table = schema.table_named(widget_id, "files")
    assert table is not None
    return table


def test_a_media_value_written_by_server_code_reads_back_as_media(app, widget):
    code = HEADER + textwrap.dedent(
        """
        media = anvil.BlobMedia("text/plain", b"hello world", name="hello.txt")
        row = app_tables.files.add_row(title="greeting", file=media)
        again = app_tables.files.get(title="greeting")
        f = again["file"]
        print(json.dumps([isinstance(f, anvil.Media), f.content_type, f.name, f.length,
                          f.get_bytes().decode(), row["file"].get_bytes().decode()]))
        again["file"] = anvil.BlobMedia("image/png", b"\\x89PNG", name="dot.png")
        print(json.dumps([again["file"].content_type, list(again["file"].get_bytes())]))
        print(json.dumps([len(app_tables.files.search(file=None)), again["file"] is not None]))
        again["file"] = None
        print(json.dumps([again["file"], len(app_tables.files.search(file=None))]))
        """
    )
    result = run_code(app, widget, code)
    assert result.ok, result.error
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines == [
        [True, "text/plain", "hello.txt", 11, "hello world", "hello world"],
        ["image/png", [0x89, 0x50, 0x4E, 0x47]],
        [0, True],
        [None, 1],
    ]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DataMedia)) == 0


def test_media_bytes_live_outside_the_cells_and_go_with_their_row(app, widget):
    with app.app_context():
        table = _table(widget)
        row_id = rows.add_row(table, {"file": MediaValue("text/plain", "a.txt", b"x" * 1000)})
        assert db.session.scalar(select(DataMedia.data)) == b"x" * 1000
        value = row_values(list(table.columns), [row_id])[row_id]["file"]
        assert value == StoredMedia("text/plain", "a.txt", 1000)
        assert table.byte_count >= 1000
        rows.delete_rows(table, [row_id])
        db.session.refresh(table)
        assert table.byte_count == 0
        assert db.session.scalar(select(func.count()).select_from(DataMedia)) == 0


def test_a_media_value_over_the_cap_is_refused(app, widget):
    app.config["TABLES_MEDIA_MAX_BYTES"] = 100
    with app.app_context():
        table = _table(widget)
        with pytest.raises(rows.RowChangeError, match="at most 100 bytes"):
            rows.add_row(table, {"file": MediaValue("text/plain", None, b"x" * 101)})
        assert db.session.scalar(select(func.count()).select_from(DataMedia)) == 0


def test_media_bytes_count_in_the_account_storage_budget(app, owner, widget):
    app.config["QUOTA_STORAGE_BYTES"] = 50_000
    with app.app_context():
        table = _table(widget)
        before = quotas.storage_use(owner).tables
        rows.add_row(table, {"file": MediaValue("application/pdf", "a.pdf", b"%" * 20_000)})
        assert quotas.storage_use(owner).tables - before >= 20_000
        with pytest.raises(rows.QuotaError, match="storage is full"):
            rows.add_row(table, {"file": MediaValue("application/pdf", "b.pdf", b"%" * 40_000)})


def test_deleting_a_media_column_deletes_its_bytes_and_frees_them(app, widget):
    with app.app_context():
        table = _table(widget)
        rows.add_row(table, {"title": "t", "file": MediaValue("text/plain", "a", b"y" * 500)})
        column = next(c for c in table.columns if c.name == "file")
        schema.delete_column(table, column)
        db.session.refresh(table)
        assert table.byte_count < 100
        assert db.session.scalar(select(func.count()).select_from(DataMedia)) == 0


def test_a_media_column_is_searched_only_for_no_value(app, widget):
    with app.app_context():
        table = _table(widget)
        columns = rows.columns_by_name(table)
        with pytest.raises(QueryError, match="only be searched for no value"):
            media = {"$media": {"content_type": "text/plain", "name": None, "data": "eA=="}}
            conditions(table, columns, [{"column": "file", "query": {"op": "eq", "value": media}}])


def test_a_fork_copies_the_media_column_but_no_values(app, owner, widget, make_user):
    from pyspace.forks.forking import copy_table_structure
    from pyspace.models import Widget

    forker = make_user("forker")
    with app.app_context():
        rows.add_row(_table(widget), {"file": MediaValue("text/plain", "a", b"secret bytes")})
        fork = Widget(owner_id=forker, title="Fork")
        db.session.add(fork)
        db.session.commit()
        copy_table_structure(widget, fork.id)
        copied = schema.table_named(fork.id, "files")
        assert copied is not None
        assert [(c.name, c.type) for c in copied.columns] == FILES
        assert copied.row_count == 0
        assert db.session.scalar(select(func.count()).select_from(DataMedia)) == 1


def test_csv_export_leaves_media_columns_out(app, widget):
    from pyspace.tables import csv_io

    with app.app_context():
        table = _table(widget)
        rows.add_row(table, {"title": "t", "file": MediaValue("text/plain", "a.txt", b"z")})
        text = "".join(csv_io.export_lines(table))
        assert text.splitlines() == ["title", "t"]
        assert not csv_io.plan_import(table, text).errors
