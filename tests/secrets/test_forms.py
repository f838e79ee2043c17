"""One way to take input: every POST of the panel through a form of `pyspace/secrets/forms.py`,
limits from the forms' validators, route parameters from converters, and the response headers
(no-store, htmx's) from one place each."""

import re
from pathlib import Path

import pytest

from pyspace.extensions import db
from pyspace.models import Secret
from tests.secrets.test_panel import HX, VALUE, create_secret, secrets_of

ROOT = Path(__file__).resolve().parents[2]
ROUTES = sorted((ROOT / "pyspace").rglob("routes.py"))


@pytest.fixture
def widget_id(alice):
    return alice.create_widget("Forms")


def test_edit_fields_take_their_limits_from_the_form_validators(alice, widget_id):
    secret_id = create_secret(alice, widget_id, name="api_key")
    base = f"/widgets/{widget_id}/secrets/{secret_id}/edit"
    name = alice.client.get(f"{base}/name", headers=HX).get_data(as_text=True)
    details = alice.client.get(f"{base}/details", headers=HX).get_data(as_text=True)
    name_input = re.search(r'<input[^>]*name="name"[^>]*>', name).group(0)
    textarea = re.search(r'<textarea[^>]*name="description"[^>]*>', details).group(0)
    assert 'maxlength="64"' in name_input and " required" in name_input
    assert 'maxlength="500"' in textarea
    # …and not from attributes written into the templates.
    for template in (ROOT / "templates" / "secrets").glob("*.html"):
        assert "maxlength=" not in template.read_text(), template.name


def test_a_rename_refused_by_the_form_keeps_what_was_typed_next_to_the_field(app, alice, widget_id):
    secret_id = create_secret(alice, widget_id, name="api_key")
    too_long = "k" * 65
    response = alice.post(
        f"/widgets/{widget_id}/secrets/{secret_id}/name", {"name": too_long}, htmx=True
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "at most 64 characters" in html and f'value="{too_long}"' in html
    assert 'aria-invalid="true"' in html and "None" not in html
    assert secrets_of(app, widget_id) == [("api_key", True)]


def test_a_description_over_the_limit_is_refused_and_nothing_changes(app, alice, widget_id):
    secret_id = create_secret(alice, widget_id, name="api_key")
    response = alice.post(
        f"/widgets/{widget_id}/secrets/{secret_id}/details",
        {"description": "d" * 501, "required": "y"},
        htmx=True,
    )
    assert response.status_code == 422
    assert "at most 500 characters" in response.get_data(as_text=True)
    with app.app_context():
        secret = db.session.get(Secret, secret_id)
        assert (secret.description, secret.required) == ("", False)


def test_details_form_sets_the_description_and_the_required_flag(app, alice, widget_id):
    secret_id = create_secret(alice, widget_id, name="api_key")
    url = f"/widgets/{widget_id}/secrets/{secret_id}/details"
    alice.post(url, {"description": "  OpenWeather key  ", "required": "y"}, htmx=True)
    with app.app_context():
        secret = db.session.get(Secret, secret_id)
        assert (secret.description, secret.required) == ("OpenWeather key", True)
    alice.post(url, {"description": "OpenWeather key"}, htmx=True)  # an unticked box
    with app.app_context():
        assert db.session.get(Secret, secret_id).required is False


@pytest.mark.parametrize(
    "path", ["{id}/edit/bogus", "{id}/edit/", "{id}/edit/NAME", "x{id}/edit/name", "-{id}"]
)
def test_unknown_edit_modes_and_non_numeric_ids_are_404(alice, widget_id, path):
    secret_id = create_secret(alice, widget_id, name="api_key")
    url = f"/widgets/{widget_id}/secrets/" + path.format(id=secret_id)
    assert alice.client.get(url, headers=HX).status_code == 404


@pytest.mark.parametrize("focus", ["abc", "-1", "1.5", "", "9" * 30])
def test_a_malformed_focus_gets_a_400_that_names_it(alice, widget_id, focus):
    response = alice.client.get(f"/widgets/{widget_id}/secrets?focus={focus}")
    assert response.status_code == 400 and "focus" in response.get_data(as_text=True)


@pytest.mark.parametrize("move", ["", "server_code", "server_code:x", "server_code:1:2"])
def test_a_malformed_move_is_refused_with_the_editor_message(app, alice, widget_id, move):
    alice.save_widget(widget_id, server_code=f"key = '{VALUE}'\n")
    create_secret(alice, widget_id, name="api_key", value=VALUE)
    response = alice.post(f"/widgets/{widget_id}/secrets/move", {"move": move})
    assert response.status_code == 302
    editor = alice.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "no value that can be moved" in editor
    assert secrets_of(app, widget_id) == [("api_key", False)]


def test_every_answer_of_the_secrets_views_is_no_store(alice, widget_id):
    secret_id = create_secret(alice, widget_id, name="api_key", value=VALUE)
    base = f"/widgets/{widget_id}/secrets"
    answers = [
        alice.client.get(base),
        alice.client.get(f"{base}/more?after=0", headers=HX),
        alice.client.get(f"{base}/audit", headers=HX),
        alice.client.get(f"{base}/{secret_id}/delete"),
        alice.client.get(f"{base}/{secret_id}/edit/name", headers=HX),
        alice.client.get(f"{base}/import"),
        alice.client.get(f"{base}/env.example"),
        alice.client.get(f"{base}/{secret_id + 1000}", headers=HX),  # a 404 too
        alice.post(f"{base}/{secret_id}/reveal", htmx=True),
        alice.post(f"{base}/export"),
        alice.post(f"{base}/import", {"dotenv": "A=1\n", "step": "preview"}, htmx=True),
    ]
    for response in answers:
        assert response.headers.get("Cache-Control") == "no-store", response.request.path


def test_views_write_no_htmx_or_cache_header_by_hand():
    """htmx headers come from pyspace/htmx.py; the secrets views' no-store from one hook."""
    for path in ROUTES:
        source = path.read_text()
        assert not re.search(r"headers\[\s*[\"']HX-", source), path
    secrets_views = (ROOT / "pyspace" / "secrets" / "routes.py").read_text()
    assert 'headers["Cache-Control"]' not in secrets_views
    assert "bp.after_request(no_store)" in secrets_views


def test_import_into_the_panel_retargets_with_the_htmx_helpers(alice, widget_id):
    response = alice.post(
        f"/widgets/{widget_id}/secrets/import", {"dotenv": "A=1\n", "step": "apply"}, htmx=True
    )
    assert response.headers["HX-Retarget"] == "#secrets-panel"
    assert response.headers["HX-Reswap"] == "innerHTML"
    assert "secretsChanged" in response.headers["HX-Trigger"]
