"""The Data panel's routes for the owner: tables, columns, rows, cells, CSV; JSON rows.

Who may use them (owner only, 404 to everyone else, CSRF) is proved for every route in
tests/security/test_routes.py."""

import pytest

from pyspace.extensions import db
from pyspace.models import DataRow, DataTable, Widget
from pyspace.tables import schema
from pyspace.tables.rows import add_row


@pytest.fixture
def widget_id(alice):
    return alice.create_widget("Logger")


def _table(app, widget_id, name="readings", columns=(("city", "text"), ("temp", "number"))):
    with app.app_context():
        table = schema.create_table(db.session.get(Widget, widget_id), name)
        for column, type_ in columns:
            schema.add_column(table, column, type_)
        return table.id


def _rows_json(alice, widget_id, table_id, page=1):
    response = alice.client.get(
        f"/widgets/{widget_id}/tables/{table_id}/rows?page={page}",
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200
    return response.get_json()


def test_create_table_then_it_is_listed_and_opened(app, alice, widget_id):
    response = alice.post(f"/widgets/{widget_id}/tables", {"name": "readings"}, htmx=True)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<html" not in body and "Table <code>readings</code>" in body
    panel = alice.client.get(f"/widgets/{widget_id}/tables").get_data(as_text=True)
    assert "<html" in panel and ">readings</a>" in panel


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("readings", "There is already a table named readings."),
        ("2nd", "Use letters, digits and underscores"),
        ("", "A table needs a name."),
    ],
)
def test_a_bad_or_taken_table_name_comes_back_next_to_the_field(
    app, alice, widget_id, name, message
):
    _table(app, widget_id)
    response = alice.post(f"/widgets/{widget_id}/tables", {"name": name}, htmx=True)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert 'id="new-table-error"' in body and message in body
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(DataTable)) == 1


@pytest.mark.parametrize(
    ("name", "type_", "message"),
    [
        ("city", "text", "Table readings already has a column named city."),
        ("humidity", "percent", "Choose a column type"),
        ("id", "text", "id is the row&#39;s own id"),
    ],
)
def test_column_errors_are_clear(app, alice, widget_id, name, type_, message):
    table_id = _table(app, widget_id)
    response = alice.post(
        f"/widgets/{widget_id}/tables/{table_id}/columns",
        {"name": name, "type": type_},
        htmx=True,
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_add_column_then_rows_json_has_the_documented_shape_newest_first(app, alice, widget_id):
    table_id = _table(app, widget_id)
    response = alice.post(
        f"/widgets/{widget_id}/tables/{table_id}/columns", {"name": "when", "type": "datetime"}
    )
    assert response.status_code == 302
    with app.app_context():
        table = db.session.get(DataTable, table_id)
        from datetime import UTC, datetime

        first = add_row(table, {"city": "Oslo", "temp": 3.5})
        second = add_row(table, {"city": "Rome", "when": datetime(2026, 11, 28, 9, tzinfo=UTC)})
    assert _rows_json(alice, widget_id, table_id) == {
        "columns": [
            {"name": "city", "type": "text"},
            {"name": "temp", "type": "number"},
            {"name": "when", "type": "datetime"},
        ],
        "rows": [
            {"id": str(second), "city": "Rome", "temp": None, "when": "2026-11-28T09:00:00Z"},
            {"id": str(first), "city": "Oslo", "temp": 3.5, "when": None},
        ],
        "total": 2,
        "page": 1,
        "pages": 1,
    }


def test_rows_are_paged_fifty_at_a_time(app, alice, widget_id):
    table_id = _table(app, widget_id)
    with app.app_context():
        from pyspace.tables.rows import add_rows

        add_rows(db.session.get(DataTable, table_id), [{"temp": n} for n in range(120)])
    first, last = _rows_json(alice, widget_id, table_id), _rows_json(alice, widget_id, table_id, 3)
    assert (first["total"], first["pages"], len(first["rows"])) == (120, 3, 50)
    assert [row["temp"] for row in first["rows"][:2]] == [119, 118]
    assert [row["temp"] for row in last["rows"]] == list(range(19, -1, -1))


def test_add_row_edit_cell_and_delete_row(app, alice, widget_id):
    table_id = _table(app, widget_id)
    with app.app_context():
        table = db.session.get(DataTable, table_id)
        city, temp = (column.id for column in table.columns)
    base = f"/widgets/{widget_id}/tables/{table_id}/rows"
    bad = alice.post(base, {f"col-{city}": "Oslo", f"col-{temp}": "warm"}, htmx=True)
    assert bad.status_code == 422 and "temp: &#39;warm&#39; is not a number." in bad.get_data(
        as_text=True
    )
    assert alice.post(base, {f"col-{city}": "Oslo", f"col-{temp}": "3.5"}).status_code == 302
    [row] = _rows_json(alice, widget_id, table_id)["rows"]
    assert row["city"] == "Oslo" and row["temp"] == 3.5

    form = alice.client.get(f"{base}/{row['id']}/cells/{temp}/edit", headers={"HX-Request": "true"})
    assert form.status_code == 200 and 'name="value"' in form.get_data(as_text=True)
    refused = alice.post(f"{base}/{row['id']}/cells/{temp}", {"value": "hot"}, htmx=True)
    assert refused.status_code == 422 and "is not a number" in refused.get_data(as_text=True)
    saved = alice.post(f"{base}/{row['id']}/cells/{temp}", {"value": "21"}, htmx=True)
    assert saved.status_code == 200 and ">21<" in saved.get_data(as_text=True).replace("\n", "")
    assert _rows_json(alice, widget_id, table_id)["rows"][0]["temp"] == 21

    deleted = alice.post(f"{base}/{row['id']}/delete", htmx=True)
    assert deleted.status_code == 200 and deleted.get_data(as_text=True) == ""
    assert _rows_json(alice, widget_id, table_id)["total"] == 0


def test_a_row_or_column_of_another_table_is_404(app, alice, widget_id):
    table_id = _table(app, widget_id)
    other_id = _table(app, widget_id, "other")
    with app.app_context():
        row = add_row(db.session.get(DataTable, other_id), {"city": "x"})
        column = db.session.get(DataTable, other_id).columns[0].id
    base = f"/widgets/{widget_id}/tables/{table_id}"
    assert alice.post(f"{base}/rows/{row}/delete").status_code == 404
    assert alice.post(f"{base}/columns/{column}/delete").status_code == 404
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(DataRow)) == 1


def test_delete_table_removes_its_rows(app, alice, widget_id):
    table_id = _table(app, widget_id)
    with app.app_context():
        add_row(db.session.get(DataTable, table_id), {"city": "x"})
    response = alice.post(f"/widgets/{widget_id}/tables/{table_id}/delete", htmx=True)
    assert response.status_code == 200 and "No tables yet" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(DataRow)) == 0


CSV_OK = "city,temp\r\nOslo,3.5\r\nRome,17\r\n,\r\n"
CSV_BAD = "city,temp\nOslo,3.5\nRome,warm\nLima,19,extra\n"


def test_csv_import_previews_then_imports_all_rows(app, alice, widget_id):
    table_id = _table(app, widget_id)
    url = f"/widgets/{widget_id}/tables/{table_id}/import"
    preview = alice.post(url, {"csv": CSV_OK, "step": "preview"}, htmx=True)
    body = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "2 rows will be added" in body
    assert _rows_json(alice, widget_id, table_id)["total"] == 0
    applied = alice.post(url, {"csv": CSV_OK, "step": "apply"})
    assert applied.status_code == 302
    rows = _rows_json(alice, widget_id, table_id)["rows"]
    assert [(row["city"], row["temp"]) for row in rows] == [("Rome", 17), ("Oslo", 3.5)]


def test_csv_import_with_a_bad_row_imports_nothing_and_names_each_bad_line(app, alice, widget_id):
    table_id = _table(app, widget_id)
    url = f"/widgets/{widget_id}/tables/{table_id}/import"
    response = alice.post(url, {"csv": CSV_BAD, "step": "apply"}, htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Line 3: temp: &#39;warm&#39; is not a number." in body
    assert "Line 4: 3 values, but the first line names 2 columns." in body
    assert _rows_json(alice, widget_id, table_id)["total"] == 0


def test_csv_import_with_an_unknown_column_is_refused(app, alice, widget_id):
    table_id = _table(app, widget_id)
    url = f"/widgets/{widget_id}/tables/{table_id}/import"
    response = alice.post(url, {"csv": "city,humidity\nOslo,80\n", "step": "apply"}, htmx=True)
    assert response.status_code == 422
    assert "Table readings has no column &#39;humidity&#39;" in response.get_data(as_text=True)


def test_csv_import_over_the_row_quota_imports_nothing(app, alice, widget_id):
    app.config["TABLES_MAX_ROWS"] = 1
    table_id = _table(app, widget_id)
    url = f"/widgets/{widget_id}/tables/{table_id}/import"
    response = alice.post(url, {"csv": CSV_OK, "step": "apply"}, htmx=True)
    assert response.status_code == 422 and "at most 1 rows" in response.get_data(as_text=True)
    assert _rows_json(alice, widget_id, table_id)["total"] == 0


def test_export_writes_csv_that_imports_back_unchanged(app, alice, widget_id):
    table_id = _table(
        app,
        widget_id,
        columns=(("city", "text"), ("temp", "number"), ("ok", "bool"), ("extra", "simple_object")),
    )
    with app.app_context():
        table = db.session.get(DataTable, table_id)
        add_row(table, {"city": 'Oslo, "north"', "temp": 3.5, "ok": True, "extra": {"a": [1]}})
        add_row(table, {"city": "Rome"})
    response = alice.client.get(f"/widgets/{widget_id}/tables/{table_id}/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="readings.csv"' in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text == (
        'city,temp,ok,extra\r\n"Oslo, ""north""",3.5,true,"{""a"": [1]}"\r\nRome,,,\r\n'
    )
    copy_id = _table(
        app,
        widget_id,
        "copy",
        columns=(("city", "text"), ("temp", "number"), ("ok", "bool"), ("extra", "simple_object")),
    )
    url = f"/widgets/{widget_id}/tables/{copy_id}/import"
    assert alice.post(url, {"csv": text, "step": "apply"}).status_code == 302
    copied = alice.client.get(f"/widgets/{widget_id}/tables/{copy_id}/export.csv")
    assert copied.get_data(as_text=True) == text


def test_panel_without_javascript_is_a_page_and_the_editor_has_a_data_button(app, alice, widget_id):
    editor = alice.client.get(f"/widgets/{widget_id}/edit").get_data(as_text=True)
    assert f'hx-get="/widgets/{widget_id}/tables"' in editor and 'id="tables-panel"' in editor
    table_id = _table(app, widget_id)
    page = alice.client.get(f"/widgets/{widget_id}/tables/{table_id}/rows")
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"


def test_data_panel_query_box_filters_rows(app, alice):
    widget_id = alice.create_widget("Logger")
    with app.app_context():
        from pyspace.extensions import db
        from pyspace.models import Widget
        from pyspace.tables import schema
        from pyspace.tables.rows import add_rows

        table = schema.create_table(db.session.get(Widget, widget_id), "readings")
        schema.add_column(table, "city", "text")
        schema.add_column(table, "temp", "number")
        add_rows(
            table,
            [
                {"city": "Oslo rain-city", "temp": 3},
                {"city": "Paris", "temp": 11},
                {"city": "Rome", "temp": 17},
            ],
        )
        url = f"/widgets/{widget_id}/tables/{table.id}/rows"

    def cities(query):
        html = alice.client.get(url, query_string={"q": query}).get_data(as_text=True)
        return [city for city in ("Oslo", "Paris", "Rome") if f">{city}" in html], html

    assert cities("temp > 10")[0] == ["Paris", "Rome"]
    assert cities("city = Rome")[0] == ["Rome"]
    assert cities("city != Rome")[0] == ["Oslo", "Paris"]
    assert cities("RAIN")[0] == ["Oslo"]
    assert cities("")[0] == ["Oslo", "Paris", "Rome"]
    found, html = cities("temp > warm")
    assert found == [] and "is not a number" in html
