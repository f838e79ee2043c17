"""The panel's secret details: descriptions and the required flag, write-only secrets, reveal
notices."""

import pytest

from pyspace.extensions import db
from pyspace.models import AuditEvent, Secret
from pyspace.secrets.lookup import SecretLookupError, value_for_run
from tests.secrets.test_panel import HX, VALUE, create_secret


@pytest.fixture
def widget_id(alice):
    return alice.create_widget("Weather", visibility="public")


def test_owner_sets_a_description_and_required_flag(app, alice, widget_id):
    secret_id = create_secret(alice, widget_id, name="weather_key")
    form = alice.client.get(f"/widgets/{widget_id}/secrets/{secret_id}/edit/details", headers=HX)
    assert 'name="description"' in form.get_data(as_text=True)
    response = alice.post(
        f"/widgets/{widget_id}/secrets/{secret_id}/details",
        {"description": "OpenWeather API key, free tier is fine", "required": "y"},
        htmx=True,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "OpenWeather API key, free tier is fine" in html and "badge-required" in html
    with app.app_context():
        secret = db.session.get(Secret, secret_id)
        assert secret.required and secret.description.startswith("OpenWeather")
        with pytest.raises(SecretLookupError, match="OpenWeather API key, free tier is fine"):
            value_for_run(widget_id, "weather_key", secret.widget.owner_id)


def test_a_too_long_description_is_refused_next_to_the_row(app, alice, widget_id):
    secret_id = create_secret(alice, widget_id, name="weather_key")
    response = alice.post(
        f"/widgets/{widget_id}/secrets/{secret_id}/details", {"description": "x" * 501}, htmx=True
    )
    assert response.status_code == 422 and "at most 500" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Secret, secret_id).description == ""


def test_descriptions_are_escaped(alice, widget_id):
    secret_id = create_secret(alice, widget_id, name="weather_key")
    response = alice.post(
        f"/widgets/{widget_id}/secrets/{secret_id}/details",
        {"description": "<script>alert(1)</script>"},
        htmx=True,
    )
    html = response.get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html


def test_write_only_removes_view_for_good_but_keeps_replace_and_delete(app, alice, widget_id):
    secret_id = create_secret(alice, widget_id, name="api_key", value=VALUE)
    response = alice.post(f"/widgets/{widget_id}/secrets/{secret_id}/write-only", htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "badge-write-only" in html
    assert "View value" not in html and "Set value" in html and "Delete" in html
    viewed = alice.post(f"/widgets/{widget_id}/secrets/{secret_id}/reveal", htmx=True)
    assert viewed.status_code == 422 and VALUE not in viewed.get_data(as_text=True)
    assert "write-only" in viewed.get_data(as_text=True)
    # Nothing turns it back: the details form no longer offers it, and a new value keeps the flag.
    details = alice.client.get(f"/widgets/{widget_id}/secrets/{secret_id}/edit/details", headers=HX)
    assert "Make write-only" not in details.get_data(as_text=True)
    alice.post(
        f"/widgets/{widget_id}/secrets/{secret_id}/value", {"value": "replaced-value"}, htmx=True
    )
    alice.post(f"/widgets/{widget_id}/secrets/{secret_id}/details", {"description": "d"}, htmx=True)
    with app.app_context():
        secret = db.session.get(Secret, secret_id)
        assert secret.write_only
        assert value_for_run(widget_id, "api_key", None) == "replaced-value"  # runs still use it
        assert (
            db.session.scalar(db.select(AuditEvent).filter_by(action="protect")).secret_name
            == "api_key"
        )
    assert (
        alice.post(f"/widgets/{widget_id}/secrets/{secret_id}/delete", htmx=True).status_code == 200
    )


def test_panel_shows_when_each_secret_was_last_changed_viewed_and_used(app, alice, widget_id):
    secret_id = create_secret(alice, widget_id, name="api_key")
    row = alice.client.get(f"/widgets/{widget_id}/secrets/{secret_id}", headers=HX).get_data(
        as_text=True
    )
    assert "Changed never · viewed never · used never" in " ".join(row.split())
    alice.post(f"/widgets/{widget_id}/secrets/{secret_id}/value", {"value": VALUE}, htmx=True)
    alice.post(f"/widgets/{widget_id}/secrets/{secret_id}/reveal", htmx=True)
    with app.app_context():
        value_for_run(widget_id, "api_key", None)
    row = alice.client.get(f"/widgets/{widget_id}/secrets/{secret_id}", headers=HX).get_data(
        as_text=True
    )
    assert "Changed just now · viewed just now · used just now" in " ".join(row.split())
    audit_html = alice.client.get(f"/widgets/{widget_id}/secrets/audit", headers=HX).get_data(
        as_text=True
    )
    assert "a visitor&#39;s run" in audit_html and "used (run)" in audit_html


def test_a_fork_keeps_write_only_and_details_but_never_the_value(
    app, alice, make_client, widget_id
):
    """Decided: a fork's copy of a write-only secret is blank *and* write-only. The flag is part of
    how the widget handles that secret, and "cannot be undone" should not end at a fork."""
    secret_id = create_secret(alice, widget_id, name="api_key", value=VALUE)
    alice.post(
        f"/widgets/{widget_id}/secrets/{secret_id}/details",
        {"description": "Weather key", "required": "y"},
        htmx=True,
    )
    alice.post(f"/widgets/{widget_id}/secrets/{secret_id}/write-only", htmx=True)
    forker = make_client()
    forker.register("bob")
    response = forker.post(f"/widgets/{widget_id}/fork")
    fork_id = response.headers["Location"].rstrip("/").split("/")[-2]
    with app.app_context():
        copy = db.session.scalar(db.select(Secret).filter_by(widget_id=fork_id))
        assert (copy.name, copy.description, copy.required, copy.write_only) == (
            "api_key",
            "Weather key",
            True,
            True,
        )
        assert copy.ciphertext is None and copy.fingerprint is None
    row = forker.client.get(f"/widgets/{fork_id}/secrets/{copy.id}", headers=HX).get_data(
        as_text=True
    )
    assert "badge-write-only" in row and "badge-blank" in row and "View value" not in row
