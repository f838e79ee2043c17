"""`.env` import (preview, per-line errors, all-or-nothing) and export over HTTP."""

import io

import pytest

from pyspace.extensions import db
from pyspace.models import AuditEvent, Secret
from pyspace.secrets import vault
from tests.secrets.test_panel import VALUE, create_secret, secrets_of

DOTENV = "# my keys\nAPI_KEY=sk-imported-111\nDB_PASSWORD='correct horse'\nEMPTY=\n"


@pytest.fixture
def widget_id(alice):
    return alice.create_widget("Imports")


def values_of(app, widget_id):
    with app.app_context():
        return {
            s.name: (None if s.is_blank else vault.decrypt_value(s.ciphertext))
            for s in db.session.scalars(db.select(Secret).filter_by(widget_id=widget_id))
        }


def test_preview_shows_what_would_change_and_changes_nothing(app, alice, widget_id, decryptions):
    create_secret(alice, widget_id, name="API_KEY", value="sk-imported-111")
    create_secret(alice, widget_id, name="DB_PASSWORD", value="old password")
    before = decryptions.count
    response = alice.post(
        f"/widgets/{widget_id}/secrets/import",
        {"dotenv": DOTENV + "NEW_ONE=x\n", "step": "preview"},
        htmx=True,
    )
    html = " ".join(response.get_data(as_text=True).split())
    assert response.status_code == 200
    assert "<code>API_KEY</code></td> <td>same value, unchanged" in html
    assert "<code>DB_PASSWORD</code></td> <td>replaces the value" in html
    assert "<code>NEW_ONE</code></td> <td>new secret" in html
    assert "sk-imported-111" not in html and "correct horse" not in html
    assert decryptions.count == before  # told apart by fingerprints, not by decrypting
    assert values_of(app, widget_id) == {
        "API_KEY": "sk-imported-111",
        "DB_PASSWORD": "old password",
    }


def test_import_applies_every_line_and_records_it(app, alice, widget_id):
    create_secret(alice, widget_id, name="DB_PASSWORD", value="old password")
    response = alice.post(
        f"/widgets/{widget_id}/secrets/import", {"dotenv": DOTENV, "step": "apply"}, htmx=True
    )
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#secrets-panel"
    assert "Create Secret" in response.get_data(as_text=True)
    assert values_of(app, widget_id) == {
        "DB_PASSWORD": "correct horse",
        "API_KEY": "sk-imported-111",
        "EMPTY": None,
    }
    with app.app_context():
        details = {
            (e.secret_name, e.detail)
            for e in db.session.scalars(db.select(AuditEvent).filter_by(action="import"))
        }
        assert details == {("API_KEY", "create"), ("DB_PASSWORD", "replace"), ("EMPTY", "create")}


def test_one_bad_line_refuses_the_whole_file(app, alice, widget_id):
    create_secret(alice, widget_id, name="DB_PASSWORD", value="old password")
    bad = DOTENV + "not a valid line\n"
    response = alice.post(
        f"/widgets/{widget_id}/secrets/import", {"dotenv": bad, "step": "apply"}, htmx=True
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Line 5: Expected NAME=value." in html and "Nothing was imported" in html
    assert values_of(app, widget_id) == {"DB_PASSWORD": "old password"}


def test_a_file_can_be_uploaded(app, alice, widget_id):
    response = alice.post(
        f"/widgets/{widget_id}/secrets/import",
        {"dotenv_file": (io.BytesIO(DOTENV.encode()), ".env"), "step": "apply"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert values_of(app, widget_id)["API_KEY"] == "sk-imported-111"


def test_an_upload_that_is_not_utf8_is_refused_not_mangled(app, alice, widget_id):
    latin1 = "API_KEY=caf\xe9-secret\n".encode("latin-1")
    response = alice.post(
        f"/widgets/{widget_id}/secrets/import",
        {"dotenv_file": (io.BytesIO(latin1), "old.env"), "step": "apply"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "old.env is not UTF-8 text" in response.get_data(as_text=True)
    assert values_of(app, widget_id) == {}


def test_import_form_page_works_without_javascript(alice, widget_id):
    page = alice.client.get(f"/widgets/{widget_id}/secrets/import")
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)
    assert 'name="dotenv"' in page.get_data(as_text=True)


def test_env_example_has_names_and_descriptions_but_no_values(app, alice, widget_id, decryptions):
    secret_id = create_secret(alice, widget_id, name="weather_key", value=VALUE)
    alice.post(
        f"/widgets/{widget_id}/secrets/{secret_id}/details",
        {"description": "OpenWeather key", "required": "y"},
        htmx=True,
    )
    create_secret(alice, widget_id, name="other")
    before = decryptions.count
    response = alice.client.get(f"/widgets/{widget_id}/secrets/env.example")
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    assert "# OpenWeather key (required)\nweather_key=\n" in text and "\nother=\n" in text
    assert VALUE not in text and decryptions.count == before


def test_export_with_values_is_owner_only_audited_and_skips_write_only(
    app, alice, make_client, widget_id
):
    create_secret(alice, widget_id, name="api_key", value=VALUE)
    locked = create_secret(alice, widget_id, name="locked", value="never-exported-value")
    alice.post(f"/widgets/{widget_id}/secrets/{locked}/write-only", htmx=True)
    stranger = make_client()
    stranger.register("mallory")
    assert stranger.post(f"/widgets/{widget_id}/secrets/export").status_code == 404
    assert alice.client.post(f"/widgets/{widget_id}/secrets/export").status_code == 400  # no CSRF
    with app.app_context():
        assert db.session.scalar(db.select(AuditEvent).filter_by(action="export")) is None
    response = alice.post(f"/widgets/{widget_id}/secrets/export")
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert f"api_key={VALUE}" in text
    assert "never-exported-value" not in text and "locked is write-only" in text
    with app.app_context():
        event = db.session.scalar(db.select(AuditEvent).filter_by(action="export"))
        assert event.actor.username == "alice" and VALUE not in event.detail


def test_export_then_import_round_trips_unchanged(app, alice, widget_id):
    create_secret(alice, widget_id, name="multi", value='line one\nline "two" \\ #')
    exported = alice.post(f"/widgets/{widget_id}/secrets/export").get_data(as_text=True)
    other = alice.create_widget("Copy")
    alice.post(f"/widgets/{other}/secrets/import", {"dotenv": exported, "step": "apply"}, htmx=True)
    assert values_of(app, other) == {"multi": 'line one\nline "two" \\ #'}
    preview = alice.post(
        f"/widgets/{other}/secrets/import", {"dotenv": exported, "step": "preview"}, htmx=True
    )
    assert "same value, unchanged" in preview.get_data(as_text=True)


@pytest.mark.parametrize(
    "method, path",
    [("GET", "import"), ("POST", "import"), ("GET", "env.example"), ("POST", "export")],
)
def test_import_and_export_are_404_for_everyone_else(
    app, alice, make_client, widget_id, method, path
):
    create_secret(alice, widget_id, name="api_key", value=VALUE)
    stranger = make_client()
    url = f"/widgets/{widget_id}/secrets/{path}"
    response = (
        stranger.client.get(url)
        if method == "GET"
        else stranger.post(url, {"dotenv": "api_key=stolen", "step": "apply"})
    )
    assert response.status_code == 404 and "api_key" not in response.get_data(as_text=True)
    assert secrets_of(app, widget_id) == [("api_key", False)]


def test_a_name_with_a_trailing_newline_is_refused_not_imported_as_a_second_name(
    app, alice, widget_id
):
    # python-dotenv reads a single-quoted name across lines: 'API_KEY\n' is not API_KEY.
    response = alice.post(
        f"/widgets/{widget_id}/secrets/import",
        {"dotenv": "API_KEY=one\n'API_KEY\n'=two\n", "step": "apply"},
        htmx=True,
    )
    assert response.status_code == 422
    assert "Line 2" in response.get_data(as_text=True)
    assert values_of(app, widget_id) == {}
