"""The Data panel's media cells: upload a file into a cell, download it as an attachment that a
browser never renders, owner only (404 for everyone else)."""

import io

import pytest

from pyspace.extensions import db
from pyspace.models import Widget
from pyspace.tables import schema
from pyspace.tables.columns import MediaValue
from pyspace.tables.rows import add_row


@pytest.fixture
def cell(app, alice):
    """(widget id, table id, row id, media column id) of a row with an empty media cell."""
    widget_id = alice.create_widget("Files")
    with app.app_context():
        table = schema.create_table(db.session.get(Widget, widget_id), "files")
        schema.add_column(table, "title", "text")
        column = schema.add_column(table, "file", "media")
        row_id = add_row(table, {"title": "page"})
        return widget_id, table.id, row_id, column.id


def _url(cell, action=""):
    widget_id, table_id, row_id, column_id = cell
    return f"/widgets/{widget_id}/tables/{table_id}/rows/{row_id}/cells/{column_id}{action}"


def _upload(alice, cell, data: bytes, name: str, mimetype: str, htmx=True):
    return alice.post(
        _url(cell, "/upload"),
        {"file": (io.BytesIO(data), name, mimetype)},
        htmx=htmx,
        content_type="multipart/form-data",
    )


def test_an_uploaded_file_is_kept_and_downloads_as_an_attachment(alice, cell):
    page = b"<html><script>alert(1)</script></html>"
    response = _upload(alice, cell, page, "evil page.html", "text/html")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<html" not in body.split("\n", 1)[0] and "evil page.html" in body
    assert "/download" in body
    download = alice.client.get(_url(cell, "/download"))
    assert download.status_code == 200
    assert download.data == page
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.mimetype == "application/octet-stream"
    assert "sandbox" in download.headers["Content-Security-Policy"]


def test_a_file_over_the_cap_comes_back_next_to_the_cell(app, alice, cell):
    app.config["TABLES_MEDIA_MAX_BYTES"] = 10
    response = _upload(alice, cell, b"x" * 11, "big.bin", "application/octet-stream")
    assert response.status_code == 422
    assert "at most 10 bytes" in response.get_data(as_text=True)
    assert alice.client.get(_url(cell, "/download")).status_code == 404


def test_clearing_a_media_cell_removes_its_file(app, alice, cell):
    _upload(alice, cell, b"abc", "a.txt", "text/plain")
    response = alice.post(_url(cell), {"value": ""}, htmx=True)
    assert response.status_code == 200
    assert alice.client.get(_url(cell, "/download")).status_code == 404


def test_a_media_cell_shows_its_name_in_the_rows_page(app, alice, cell):
    with app.app_context():
        table = schema.table_of(cell[0], cell[1])
        assert table is not None
        add_row(table, {"file": MediaValue("image/png", "cat.png", b"\x89PNG")})
    body = alice.client.get(f"/widgets/{cell[0]}/tables/{cell[1]}/rows").get_data(as_text=True)
    assert "cat.png" in body and "Download" in body


@pytest.mark.parametrize("who", ["bob", "anonymous"])
def test_media_routes_answer_404_to_everyone_but_the_owner(app, alice, bob, cell, who):
    _upload(alice, cell, b"private", "p.txt", "text/plain")
    if who == "bob":
        assert bob.client.get(_url(cell, "/download")).status_code == 404
        response = bob.post(
            _url(cell, "/upload"),
            {"file": (io.BytesIO(b"x"), "x.txt", "text/plain")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 404
    else:
        assert app.test_client().get(_url(cell, "/download")).status_code in (302, 401, 404)
    assert alice.client.get(_url(cell, "/download")).data == b"private"


def test_download_of_a_non_media_column_is_404(app, alice, cell):
    widget_id, table_id, row_id, _ = cell
    with app.app_context():
        table = schema.table_of(widget_id, table_id)
        assert table is not None
        title = next(c for c in table.columns if c.name == "title")
    url = f"/widgets/{widget_id}/tables/{table_id}/rows/{row_id}/cells/{title.id}/download"
    assert alice.client.get(url).status_code == 404


def test_the_add_row_form_skips_media_columns(app, alice, cell):
    widget_id, table_id, _, column_id = cell
    page = alice.client.get(f"/widgets/{widget_id}/tables/{table_id}/rows").get_data(as_text=True)
    assert f'name="col-{column_id}"' not in page and "upload after adding" in page
    with app.app_context():
        table = schema.table_of(widget_id, table_id)
        assert table is not None
        title = next(c for c in table.columns if c.name == "title")
    response = alice.post(
        f"/widgets/{widget_id}/tables/{table_id}/rows", {f"col-{title.id}": "new"}, htmx=True
    )
    assert response.status_code == 200 and "new" in response.get_data(as_text=True)


def test_the_zip_export_holds_the_csv_and_each_media_file(app, alice, cell):
    import csv
    import zipfile

    widget_id, table_id, row_id, _ = cell
    _upload(alice, cell, b"%PDF-1.4 bytes", "../report 1.pdf", "application/pdf")
    page = alice.client.get(f"/widgets/{widget_id}/tables/{table_id}/rows").get_data(as_text=True)
    assert "export.zip" in page
    response = alice.client.get(f"/widgets/{widget_id}/tables/{table_id}/export.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    lines = list(csv.reader(io.StringIO(archive.read("files.csv").decode())))
    path = f"media/{row_id}/file/_report_1.pdf"  # no way out of its folder
    assert lines == [["title", "file"], ["page", path]]
    assert archive.read(path) == b"%PDF-1.4 bytes"
