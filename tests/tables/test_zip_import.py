"""Importing a Data panel zip export: preview, then apply with only the kept upload's token;
rows come back with their media (content type and name) and links (row ids); hostile zips are
refused whole; owner only, CSRF checked."""

import io
import os
import time
import zipfile
from pathlib import Path

import pytest

from pyspace.extensions import db
from pyspace.models import DataRow, DataTable, Widget
from pyspace.tables import schema, zip_io
from pyspace.tables.columns import MediaValue
from pyspace.tables.queries import row_values
from pyspace.tables.rows import add_row, delete_rows


@pytest.fixture
def scores(app, alice):
    """(widget id, scores table id, player row ids): scores with text, number, a link to a
    player and a media file; two rows."""
    widget_id = alice.create_widget("Game")
    with app.app_context():
        widget = db.session.get(Widget, widget_id)
        players = schema.create_table(widget, "players")
        schema.add_column(players, "name", "text")
        ann = add_row(players, {"name": "Ann"})
        bob = add_row(players, {"name": "Bob"})
        table = schema.create_table(widget, "scores")
        schema.add_column(table, "title", "text")
        schema.add_column(table, "points", "number")
        schema.add_column(table, "player", "link_single", players)
        schema.add_column(table, "team", "link_multiple", players)
        schema.add_column(table, "file", "media")
        add_row(
            table,
            {
                "title": "first",
                "points": 3.5,
                "player": _ref(players, ann),
                "team": [_ref(players, ann), _ref(players, bob)],
                "file": MediaValue("application/pdf", "my report (1).pdf", b"%PDF-1.4 one"),
            },
        )
        add_row(table, {"title": "second", "points": 7, "player": _ref(players, bob)})
        return widget_id, table.id, (ann, bob)


def _ref(table, row_id):
    from pyspace.tables.columns import RowRef

    return RowRef(table.name, row_id)


def _url(widget_id, table_id, tail=""):
    return f"/widgets/{widget_id}/tables/{table_id}{tail}"


def _preview(user, widget_id, table_id, data: bytes, name="scores.zip"):
    return user.post(
        _url(widget_id, table_id, "/import.zip"),
        {"zip_file": (io.BytesIO(data), name, "application/zip"), "step": "preview"},
        htmx=True,
        content_type="multipart/form-data",
    )


def _token(response) -> str:
    body = response.get_data(as_text=True)
    marker = 'name="upload" value="'
    assert marker in body, body[:2000]
    return body.split(marker, 1)[1].split('"', 1)[0]


def _apply(user, widget_id, table_id, token):
    return user.post(
        _url(widget_id, table_id, "/import.zip"), {"upload": token, "step": "apply"}, htmx=True
    )


def _values(app, table_id):
    with app.app_context():
        table = db.session.get(DataTable, table_id)
        ids = list(
            db.session.scalars(
                db.select(DataRow.id).where(DataRow.table_id == table_id).order_by(DataRow.id)
            )
        )
        values = row_values(list(table.columns), ids)
        media = {}
        from pyspace.tables.rows import media_bytes

        column = next(c for c in table.columns if c.type == "media")
        for row_id in ids:
            media[row_id] = media_bytes(table, row_id, column)
        return [values[row_id] for row_id in ids], [media[row_id] for row_id in ids]


def _row_count(app, table_id) -> int:
    with app.app_context():
        return db.session.query(DataRow).filter_by(table_id=table_id).count()


def _kept_uploads(app) -> list[Path]:
    folder = Path(app.instance_path) / zip_io.UPLOAD_DIR
    return sorted(folder.glob("*.zip")) if folder.exists() else []


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def _export(alice, widget_id, table_id) -> bytes:
    response = alice.client.get(_url(widget_id, table_id, "/export.zip"))
    assert response.status_code == 200
    return response.data


def test_an_exported_zip_imports_back_with_links_and_media(app, alice, scores):
    widget_id, table_id, (ann, bob) = scores
    before, before_media = _values(app, table_id)
    exported = _export(alice, widget_id, table_id)
    with app.app_context():
        table = db.session.get(DataTable, table_id)
        ids = list(db.session.scalars(db.select(DataRow.id).where(DataRow.table_id == table_id)))
        delete_rows(table, ids)
    assert _row_count(app, table_id) == 0

    preview = _preview(alice, widget_id, table_id, exported)
    assert preview.status_code == 200
    body = preview.get_data(as_text=True)
    assert "2 rows will be added" in body and "my report (1).pdf" in body
    assert _row_count(app, table_id) == 0  # a preview writes nothing
    assert len(_kept_uploads(app)) == 1

    applied = _apply(alice, widget_id, table_id, _token(preview))
    assert applied.status_code == 200, applied.get_data(as_text=True)
    after, after_media = _values(app, table_id)
    assert after == before
    assert after[0]["file"].name == "my report (1).pdf"
    assert after[0]["file"].content_type == "application/pdf"
    assert [ref.id for ref in after[0]["team"]] == [ann, bob]
    assert after[1]["player"].id == bob
    assert after_media == before_media == [b"%PDF-1.4 one", None]
    assert _kept_uploads(app) == []  # removed once applied


def test_applying_twice_with_the_same_token_imports_once(app, alice, scores):
    widget_id, table_id, _ = scores
    token = _token(_preview(alice, widget_id, table_id, _export(alice, widget_id, table_id)))
    assert _apply(alice, widget_id, table_id, token).status_code == 200
    again = _apply(alice, widget_id, table_id, token)
    assert again.status_code == 422 and "upload the zip again" in again.get_data(as_text=True)
    assert _row_count(app, table_id) == 4


def test_a_zip_without_its_manifest_takes_names_from_paths(app, alice, scores):
    widget_id, table_id, _ = scores
    data = _zip(
        {"scores.csv": b"title,file\r\nlogo,media/x/logo.png\r\n", "media/x/logo.png": b"P"}
    )
    token = _token(_preview(alice, widget_id, table_id, data))
    assert _apply(alice, widget_id, table_id, token).status_code == 200
    values, media = _values(app, table_id)
    assert values[-1]["file"].name == "logo.png"
    assert values[-1]["file"].content_type == "image/png"
    assert media[-1] == b"P"


def test_kept_uploads_older_than_an_hour_are_removed(app, alice, scores):
    widget_id, table_id, _ = scores
    token = _token(_preview(alice, widget_id, table_id, _export(alice, widget_id, table_id)))
    (kept,) = _kept_uploads(app)
    old = time.time() - zip_io.UPLOAD_KEEP_SECONDS - 5
    os.utime(kept, (old, old))
    response = _apply(alice, widget_id, table_id, token)
    assert response.status_code == 422
    assert _kept_uploads(app) == []
    assert _row_count(app, table_id) == 2


def test_a_flood_of_previews_keeps_one_zip_per_table_and_the_newest_imports(app, alice, scores):
    widget_id, table_id, _ = scores
    export = _export(alice, widget_id, table_id)
    tokens = [_token(_preview(alice, widget_id, table_id, export)) for _ in range(5)]
    assert len(_kept_uploads(app)) == 1
    stale = _apply(alice, widget_id, table_id, tokens[0])
    assert stale.status_code == 422 and _row_count(app, table_id) == 2
    assert _apply(alice, widget_id, table_id, tokens[-1]).status_code == 200
    assert _row_count(app, table_id) == 4


def _refused(app, alice, scores, data: bytes, message: str):
    widget_id, table_id, _ = scores
    response = _preview(alice, widget_id, table_id, data)
    body = response.get_data(as_text=True)
    assert response.status_code == 422, body[:2000]
    assert message in body, body[:3000]
    assert 'name="upload"' not in body
    assert _row_count(app, table_id) == 2
    assert _kept_uploads(app) == []
    return body


@pytest.mark.parametrize("name", ["../evil.png", "/etc/evil.png", "media\\..\\evil", "C:/x.png"])
def test_an_entry_whose_name_leaves_the_folder_is_refused(app, alice, scores, name):
    data = _zip({"scores.csv": b"title\r\nx\r\n", name: b"x"})
    _refused(app, alice, scores, data, "points outside its folder")


def test_a_zip_bomb_over_the_tables_budget_is_refused(app, alice, scores):
    app.config["TABLES_MAX_BYTES"] = 100_000
    bomb = b"\0" * 200_000  # deflates to a few hundred bytes
    data = _zip({"scores.csv": b"title,file\r\nx,media/a\r\n", "media/a": bomb})
    assert len(data) < 2_000
    _refused(app, alice, scores, data, "at most 100,000")


def test_a_zip_whose_headers_understate_its_size_is_still_bounded(app, alice, scores):
    app.config["TABLES_MAX_BYTES"] = 100_000
    data = bytearray(
        _zip({"scores.csv": b"title,file\r\nx,media/a\r\n", "media/a": b"\0" * 300_000})
    )
    # Rewrite the file sizes the central directory and local header give for media/a to 10.
    real = (300_000).to_bytes(4, "little")
    count = data.count(real)
    assert count >= 2
    data = data.replace(real, (10).to_bytes(4, "little"))
    widget_id, table_id, _ = scores
    response = _preview(alice, widget_id, table_id, bytes(data))
    assert response.status_code == 422
    assert _row_count(app, table_id) == 2
    assert _kept_uploads(app) == []


def test_a_media_file_over_the_media_cap_is_refused(app, alice, scores):
    app.config["TABLES_MEDIA_MAX_BYTES"] = 10
    data = _zip({"scores.csv": b"title,file\r\nx,media/a\r\n", "media/a": b"x" * 11})
    _refused(app, alice, scores, data, "at most 10 bytes")


def test_too_many_entries_are_refused(app, alice, scores, monkeypatch):
    monkeypatch.setattr(zip_io, "ZIP_MAX_ENTRIES", 3)
    data = _zip({"scores.csv": b"title\r\nx\r\n", **{f"media/{n}": b"x" for n in range(3)}})
    _refused(app, alice, scores, data, "at most 3")


def test_a_row_naming_a_file_not_in_the_zip_is_refused(app, alice, scores):
    data = _zip(
        {"scores.csv": b"title,file\r\nok,media/a\r\nbad,media/missing.png\r\n", "media/a": b"a"}
    )
    body = _refused(app, alice, scores, data, "Line 3: file:")
    assert "media/missing.png" in body and "is not a file in the zip" in body


@pytest.mark.parametrize(
    "data, message",
    [
        (b"not a zip", "not a zip"),
        (_zip({"a.csv": b"title\r\n", "b.csv": b"title\r\n"}), "one CSV file"),
        (_zip({"media/a": b"a"}), "one CSV file"),
    ],
)
def test_a_zip_that_is_not_an_export_is_refused(app, alice, scores, data, message):
    _refused(app, alice, scores, data, message)


def test_the_storage_budget_refuses_an_import_at_apply(app, alice, scores):
    widget_id, table_id, _ = scores
    token = _token(_preview(alice, widget_id, table_id, _export(alice, widget_id, table_id)))
    app.config["QUOTA_STORAGE_BYTES"] = 10
    response = _apply(alice, widget_id, table_id, token)
    assert response.status_code == 422
    assert _row_count(app, table_id) == 2


def test_someone_else_gets_404_and_nothing_is_kept(app, alice, bob, scores):
    widget_id, table_id, _ = scores
    exported = _export(alice, widget_id, table_id)
    assert _preview(bob, widget_id, table_id, exported).status_code == 404
    assert _kept_uploads(app) == []
    token = _token(_preview(alice, widget_id, table_id, exported))
    assert _apply(bob, widget_id, table_id, token).status_code == 404
    assert _row_count(app, table_id) == 2
    assert len(_kept_uploads(app)) == 1


def test_an_import_needs_the_csrf_token(app, alice, scores):
    widget_id, table_id, _ = scores
    exported = _export(alice, widget_id, table_id)
    response = alice.client.post(
        _url(widget_id, table_id, "/import.zip"),
        data={
            "zip_file": (io.BytesIO(exported), "scores.zip", "application/zip"),
            "step": "preview",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert _kept_uploads(app) == []
    token = _token(_preview(alice, widget_id, table_id, exported))
    response = alice.client.post(
        _url(widget_id, table_id, "/import.zip"), data={"upload": token, "step": "apply"}
    )
    assert response.status_code == 400
    assert _row_count(app, table_id) == 2


def test_a_token_for_another_table_imports_nothing(app, alice, scores):
    widget_id, table_id, _ = scores
    token = _token(_preview(alice, widget_id, table_id, _export(alice, widget_id, table_id)))
    with app.app_context():
        players = next(t for t in schema.tables_of(widget_id) if t.name == "players")
        players_id = players.id
    response = _apply(alice, widget_id, players_id, token)
    assert response.status_code == 422
    assert _row_count(app, players_id) == 2


def test_the_rows_page_offers_the_zip_import(alice, scores):
    widget_id, table_id, _ = scores
    body = alice.client.get(_url(widget_id, table_id, "/rows")).get_data(as_text=True)
    assert 'action="/widgets/' in body and "/import.zip" in body and 'name="zip_file"' in body
