"""The Secrets panel over HTTP: rules, owner-only access, and values that never leak (CSRF
refusal is proven for every route in tests/security/test_routes.py)."""

import logging
import re

import pytest

from pyspace.extensions import db
from pyspace.models import AuditEvent, Secret, Widget
from pyspace.secrets import vault
from tests.conftest import stored_bytes

HX = {"HX-Request": "true"}
VALUE = "sk-live-7Qm2ZpX4vRb9TnK1"


def secrets_of(app, widget_id):
    with app.app_context():
        return [
            (s.name, s.is_blank)
            for s in db.session.scalars(
                db.select(Secret).filter_by(widget_id=widget_id).order_by(Secret.id)
            )
        ]


def create_secret(accounts, widget_id, name=None, value=None):
    """Create a secret through the panel, optionally rename it and set its value; returns its id."""
    response = accounts.post(f"/widgets/{widget_id}/secrets", htmx=True)
    assert response.status_code == 200
    secret_id = int(re.findall(r'id="secret-(\d+)"', response.get_data(as_text=True))[-1])
    if name:
        assert (
            accounts.post(
                f"/widgets/{widget_id}/secrets/{secret_id}/name", {"name": name}, htmx=True
            ).status_code
            == 200
        )
    if value is not None:
        assert (
            accounts.post(
                f"/widgets/{widget_id}/secrets/{secret_id}/value", {"value": value}, htmx=True
            ).status_code
            == 200
        )
    return secret_id


@pytest.fixture
def widget_id(alice):
    return alice.create_widget("Weather", server_code="print('hi')\n", visibility="public")


def test_panel_is_a_fragment_for_htmx_and_a_page_without(alice, widget_id):
    fragment = alice.client.get(f"/widgets/{widget_id}/secrets", headers=HX)
    page = alice.client.get(f"/widgets/{widget_id}/secrets")
    assert fragment.status_code == page.status_code == 200
    assert "<html" not in fragment.get_data(as_text=True)
    assert "<html" in page.get_data(as_text=True)
    for response in (fragment, page):
        assert "Create Secret" in response.get_data(as_text=True)
        assert "HX-Request" in response.headers["Vary"]
        assert response.headers["Cache-Control"] == "no-store"


def test_editor_has_the_secrets_button_top_right(alice, widget_id):
    html = alice.client.get(f"/widgets/{widget_id}/edit").get_data(as_text=True)
    bar = html[html.index('class="editor-bar-actions"') : html.index('class="editor-grid"')]
    assert f'href="/widgets/{widget_id}/secrets"' in bar
    assert f'hx-get="/widgets/{widget_id}/secrets"' in bar and 'hx-target="#secrets-panel"' in bar


def test_create_secret_takes_the_smallest_unused_number(app, alice, widget_id):
    ids = [create_secret(alice, widget_id) for _ in range(3)]
    assert alice.post(f"/widgets/{widget_id}/secrets/{ids[1]}/delete", htmx=True).status_code == 200
    create_secret(alice, widget_id)
    create_secret(alice, widget_id, name="new_secret_5")
    create_secret(alice, widget_id)
    assert secrets_of(app, widget_id) == [
        ("new_secret_1", True),
        ("new_secret_3", True),
        ("new_secret_2", True),
        ("new_secret_5", True),
        ("new_secret_4", True),
    ]


def test_panel_lists_names_in_creation_order_with_blank_badges(alice, widget_id):
    create_secret(alice, widget_id, name="zeta", value=VALUE)
    create_secret(alice, widget_id, name="alpha")
    html = alice.client.get(f"/widgets/{widget_id}/secrets", headers=HX).get_data(as_text=True)
    assert html.index(">zeta<") < html.index(">alpha<")
    rows = html.split('class="secret-row"')[1:]
    assert "badge-set" in rows[0] and "badge-blank" in rows[1]
    assert VALUE not in html


def test_create_without_javascript_redirects_to_the_panel_page(alice, widget_id):
    response = alice.post(f"/widgets/{widget_id}/secrets")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/widgets/{widget_id}/secrets?focus=1"
    assert "autofocus" in alice.client.get(response.headers["Location"]).get_data(as_text=True)
    edit_row = alice.client.get(f"/widgets/{widget_id}/secrets/1/edit/name")
    assert "<html" in edit_row.get_data(as_text=True) and 'name="name"' in edit_row.get_data(
        as_text=True
    )


@pytest.mark.parametrize(
    "bad_name, message",
    [
        ("", "needs a name"),
        ("9lives", "not starting with a digit"),
        ("api-key", "letters, digits and underscores"),
        ("api key", "letters, digits and underscores"),
        ("clé", "letters, digits and underscores"),
        ("a" * 65, "at most 64"),
    ],
)
def test_bad_names_are_refused_next_to_the_row_and_the_old_name_kept(
    app, alice, widget_id, bad_name, message
):
    secret_id = create_secret(alice, widget_id, name="api_key")
    response = alice.post(
        f"/widgets/{widget_id}/secrets/{secret_id}/name", {"name": bad_name}, htmx=True
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and 'role="alert"' in html and f'id="secret-{secret_id}"' in html
    assert "<html" not in html
    assert secrets_of(app, widget_id) == [("api_key", True)]


def test_longest_allowed_name_and_underscore_start_are_accepted(app, alice, widget_id):
    create_secret(alice, widget_id, name="a" * 64)
    create_secret(alice, widget_id, name="_private")
    assert [name for name, _ in secrets_of(app, widget_id)] == ["a" * 64, "_private"]


def test_duplicate_name_is_refused_and_names_are_case_sensitive(app, alice, widget_id):
    create_secret(alice, widget_id, name="api_key")
    second = create_secret(alice, widget_id)
    response = alice.post(
        f"/widgets/{widget_id}/secrets/{second}/name", {"name": "api_key"}, htmx=True
    )
    assert response.status_code == 422
    assert "already has a secret named api_key" in response.get_data(as_text=True)
    # Like Python identifiers, names differing only in case are different secrets.
    assert (
        alice.post(
            f"/widgets/{widget_id}/secrets/{second}/name", {"name": "API_KEY"}, htmx=True
        ).status_code
        == 200
    )
    assert secrets_of(app, widget_id) == [("api_key", True), ("API_KEY", True)]


def test_same_name_in_two_widgets_is_fine(app, alice, widget_id):
    other = alice.create_widget("Other")
    create_secret(alice, widget_id, name="api_key")
    create_secret(alice, other, name="api_key")
    assert secrets_of(app, other) == [("api_key", True)]


def test_set_value_is_never_echoed_and_stores_ciphertext(app, alice, widget_id):
    secret_id = create_secret(alice, widget_id, name="api_key")
    response = alice.post(
        f"/widgets/{widget_id}/secrets/{secret_id}/value", {"value": VALUE}, htmx=True
    )
    assert response.status_code == 200 and VALUE not in response.get_data(as_text=True)
    assert "badge-set" in response.get_data(as_text=True)
    with app.app_context():
        secret = db.session.get(Secret, secret_id)
        assert VALUE.encode() not in secret.ciphertext
        assert vault.decrypt_value(secret.ciphertext) == VALUE
        assert secret.value_changed_at is not None


def test_setting_an_empty_value_makes_the_secret_blank(app, alice, widget_id):
    secret_id = create_secret(alice, widget_id, name="api_key", value=VALUE)
    alice.post(f"/widgets/{widget_id}/secrets/{secret_id}/value", {"value": ""}, htmx=True)
    assert secrets_of(app, widget_id) == [("api_key", True)]


def test_values_up_to_64_kib_of_utf8_are_accepted_and_larger_refused(app, alice, widget_id):
    secret_id = create_secret(alice, widget_id, name="pem", value="é" * (32 * 1024))
    too_big = alice.post(
        f"/widgets/{widget_id}/secrets/{secret_id}/value",
        {"value": "x" * (64 * 1024 + 1)},
        htmx=True,
    )
    assert too_big.status_code == 422 and "at most 64 KiB" in too_big.get_data(as_text=True)
    with app.app_context():
        assert vault.decrypt_value(db.session.get(Secret, secret_id).ciphertext) == "é" * (
            32 * 1024
        )


def test_owner_views_a_value_and_the_view_is_recorded(app, alice, widget_id):
    secret_id = create_secret(alice, widget_id, name="api_key", value=VALUE)
    panel = alice.client.get(f"/widgets/{widget_id}/secrets", headers=HX).get_data(as_text=True)
    assert VALUE not in panel and "View value" in panel  # not in the page until asked for
    response = alice.post(f"/widgets/{widget_id}/secrets/{secret_id}/reveal", htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and VALUE in html and "Hide value" in html
    assert "<html" not in html  # htmx gets the row only
    assert response.headers["Cache-Control"] == "no-store"
    hidden = alice.client.get(f"/widgets/{widget_id}/secrets/{secret_id}", headers=HX)
    assert VALUE not in hidden.get_data(as_text=True) and "View value" in hidden.get_data(
        as_text=True
    )
    with app.app_context():
        assert db.session.get(Secret, secret_id).last_viewed_at is not None
        assert (
            db.session.scalar(db.select(AuditEvent).filter_by(action="view")).secret_name
            == "api_key"
        )


def test_delete_removes_the_secret_and_returns_the_panel(app, alice, widget_id):
    secret_id = create_secret(alice, widget_id, name="api_key", value=VALUE)
    response = alice.post(f"/widgets/{widget_id}/secrets/{secret_id}/delete", htmx=True)
    assert response.status_code == 200 and "No secrets yet" in response.get_data(as_text=True)
    assert secrets_of(app, widget_id) == []


def test_secret_changes_touch_the_widget_but_never_its_code(app, alice, widget_id):
    with app.app_context():
        widget = db.session.get(Widget, widget_id)
        before = (widget.updated_at, widget.server_code, widget.client_code, widget.html)
    secret_id = create_secret(alice, widget_id, name="api_key", value=VALUE)
    alice.post(f"/widgets/{widget_id}/secrets/{secret_id}/delete", htmx=True)
    with app.app_context():
        widget = db.session.get(Widget, widget_id)
        assert widget.updated_at > before[0]
        assert (widget.server_code, widget.client_code, widget.html) == before[1:]


def secret_routes(widget_id, secret_id):
    """Every secrets route: (method, url, form)."""
    base = f"/widgets/{widget_id}/secrets"
    return [
        ("GET", base, {}),
        ("GET", f"{base}/audit", {}),
        ("GET", f"{base}/more?after=0", {}),
        ("POST", base, {}),
        ("GET", f"{base}/{secret_id}", {}),
        ("GET", f"{base}/{secret_id}/edit/name", {}),
        ("GET", f"{base}/{secret_id}/edit/value", {}),
        ("GET", f"{base}/{secret_id}/edit/details", {}),
        ("POST", f"{base}/{secret_id}/name", {"name": "stolen"}),
        ("POST", f"{base}/{secret_id}/value", {"value": "overwritten"}),
        ("POST", f"{base}/{secret_id}/reveal", {}),
        ("GET", f"{base}/{secret_id}/delete", {}),
        ("POST", f"{base}/{secret_id}/delete", {}),
        ("POST", f"{base}/{secret_id}/details", {"description": "x", "required": "y"}),
        ("POST", f"{base}/{secret_id}/write-only", {}),
    ]


ROUTE_COUNT = len(secret_routes("w", 1))


@pytest.mark.parametrize("visitor", ["anonymous", "other user"])
@pytest.mark.parametrize("route", range(ROUTE_COUNT))
@pytest.mark.parametrize("htmx", [False, True])
def test_everyone_but_the_owner_gets_404_and_changes_nothing(
    app, alice, make_client, widget_id, visitor, route, htmx
):
    secret_id = create_secret(alice, widget_id, name="api_key", value=VALUE)
    other = make_client()
    if visitor == "other user":
        other.register("mallory")
    method, url, form = secret_routes(widget_id, secret_id)[route]
    if method == "GET":
        response = other.client.get(url, headers=HX if htmx else {})
    else:
        response = other.post(url, form, htmx=htmx)
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "api_key" not in html and VALUE not in html
    assert secrets_of(app, widget_id) == [("api_key", False)]
    with app.app_context():
        secret = db.session.get(Secret, secret_id)
        assert vault.decrypt_value(secret.ciphertext) == VALUE
        assert (secret.description, secret.required, secret.write_only) == ("", False, False)


def test_a_secret_of_another_widget_is_404_even_for_its_owner(alice, widget_id):
    other_widget = alice.create_widget("Other")
    secret_id = create_secret(alice, other_widget, name="api_key", value=VALUE)
    response = alice.post(f"/widgets/{widget_id}/secrets/{secret_id}/reveal")
    assert response.status_code == 404 and VALUE not in response.get_data(as_text=True)


def test_public_page_shows_no_secret_names_or_details(alice, make_client, widget_id):
    secret_id = create_secret(alice, widget_id, name="weather_api_key", value=VALUE)
    alice.post(
        f"/widgets/{widget_id}/secrets/{secret_id}/details",
        {"description": "OpenWeather key, free tier", "required": "y"},
        htmx=True,
    )
    for client in (make_client().client, alice.client):
        html = client.get(f"/widgets/{widget_id}").get_data(as_text=True)
        assert "weather_api_key" not in html and "OpenWeather key" not in html and VALUE not in html


def test_a_value_appears_in_no_page_but_the_explicit_view(app, alice, widget_id):
    secret_id = create_secret(alice, widget_id, name="api_key", value=VALUE)
    pages = [
        alice.client.get(f"/widgets/{widget_id}/edit"),
        alice.client.get(f"/widgets/{widget_id}"),
        alice.client.get("/"),
        alice.client.get("/u/alice"),
        alice.client.get(f"/widgets/{widget_id}/secrets"),
        alice.client.get(f"/widgets/{widget_id}/secrets", headers=HX),
        alice.client.get(f"/widgets/{widget_id}/secrets/audit", headers=HX),
        alice.client.get(f"/widgets/{widget_id}/secrets/{secret_id}", headers=HX),
        alice.client.get(f"/widgets/{widget_id}/secrets/{secret_id}/edit/value", headers=HX),
        alice.client.get(f"/widgets/{widget_id}/secrets/{secret_id}/edit/name"),
        alice.post(
            f"/widgets/{widget_id}/secrets/{secret_id}/value",
            {"value": VALUE + "x" * 70000},
            htmx=True,
        ),
    ]
    for response in pages:
        assert VALUE not in response.get_data(as_text=True), response.request.path


@pytest.fixture
def captured_logs():
    """Everything logged at any level while the test runs (works with `-p no:logging` too)."""
    records = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = lambda record: records.append(logging.Formatter().format(record))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    # SQL statements with their parameters: the most likely place for a value to slip into a log.
    engine_logger = logging.getLogger("sqlalchemy.engine")
    engine_logger.setLevel(logging.INFO)
    yield records
    engine_logger.setLevel(logging.NOTSET)
    root.removeHandler(handler)
    root.setLevel(old_level)


def test_a_value_never_reaches_the_database_file_the_logs_or_the_audit(
    app, alice, widget_id, captured_logs
):
    secret_id = create_secret(alice, widget_id, name="api_key", value=VALUE)
    alice.post(f"/widgets/{widget_id}/secrets/{secret_id}/reveal")
    with app.app_context():
        events = db.session.scalars(db.select(AuditEvent)).all()
        assert {e.action for e in events} >= {"create", "rename", "set", "view"}
        assert all(VALUE not in f"{e.secret_name} {e.detail}" for e in events)
        raw = stored_bytes(db)
    assert b"api_key" in raw  # the file really holds the secret's row…
    assert VALUE.encode() not in raw  # …but not its value
    assert captured_logs  # SQLAlchemy and Werkzeug did log this test's requests…
    assert all(VALUE not in line for line in captured_logs)  # …without the value


def test_listing_and_page_renders_decrypt_nothing(app, alice, make_client, widget_id, decryptions):
    secret_id = create_secret(alice, widget_id, name="api_key", value=VALUE)
    before = decryptions.count
    alice.client.get(f"/widgets/{widget_id}/secrets", headers=HX)
    alice.client.get(f"/widgets/{widget_id}/secrets")
    alice.client.get(f"/widgets/{widget_id}/edit")
    alice.client.get(f"/widgets/{widget_id}")
    make_client().client.get(f"/widgets/{widget_id}")
    alice.client.get(f"/widgets/{widget_id}/secrets/{secret_id}/edit/value", headers=HX)
    create_secret(alice, widget_id, name="other", value="another-value-123")
    alice.save_widget(widget_id, server_code="print('still no decryption')\n")
    assert decryptions.count == before


def test_audit_list_in_the_panel_names_who_did_what_without_values(alice, widget_id):
    secret_id = create_secret(alice, widget_id, name="api_key", value=VALUE)
    alice.post(f"/widgets/{widget_id}/secrets/{secret_id}/reveal", htmx=True)
    html = alice.client.get(f"/widgets/{widget_id}/secrets/audit", headers=HX).get_data(
        as_text=True
    )
    for words in ("created", "renamed", "set the value of", "viewed"):
        assert words in html
    assert "was new_secret_1" in html and VALUE not in html


def test_view_with_the_wrong_key_is_a_clear_error_not_a_traceback(app, alice, widget_id):
    secret_id = create_secret(alice, widget_id, name="api_key", value=VALUE)
    app.config["SECRETS_KEY"] = vault.new_key()
    vault.init_app(app)  # as if the site restarted with another key
    response = alice.post(f"/widgets/{widget_id}/secrets/{secret_id}/reveal", htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "secrets key does not match" in html and "Traceback" not in html
    assert "gAAAA" not in html  # no ciphertext either


def test_a_get_reveals_nothing_and_records_nothing(app, alice, widget_id):
    """Viewing a value is a POST with a CSRF token: no link, image or other site's page can make
    the owner's browser decrypt it or fill the audit log with false "views"."""
    secret_id = create_secret(alice, widget_id, name="api_key", value=VALUE)
    for url in (
        f"/widgets/{widget_id}/secrets/{secret_id}/value",
        f"/widgets/{widget_id}/secrets/{secret_id}/reveal",
    ):
        response = alice.client.get(url, headers={"Sec-Fetch-Site": "cross-site"})
        assert response.status_code == 405 and VALUE not in response.get_data(as_text=True)
    tokenless = alice.client.post(f"/widgets/{widget_id}/secrets/{secret_id}/reveal")
    assert tokenless.status_code == 400 and VALUE not in tokenless.get_data(as_text=True)
    with app.app_context():
        assert not db.session.scalars(db.select(AuditEvent).filter_by(action="view")).all()
        assert db.session.get(Secret, secret_id).last_viewed_at is None


def test_view_value_without_javascript_shows_the_panel_page_with_the_value(app, alice, widget_id):
    secret_id = create_secret(alice, widget_id, name="api_key", value=VALUE)
    response = alice.post(f"/widgets/{widget_id}/secrets/{secret_id}/reveal")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html  # the panel page, not a fragment
    assert f"<code>{VALUE}</code>" in html and "Hide value" in html
    assert response.headers["Cache-Control"] == "no-store"
    # Hide value's no-JavaScript link shows the panel again, without the value.
    hide = re.search(r'<a href="([^"]+)"[^>]*data-hide-value', html).group(1)
    hidden = alice.client.get(hide.replace("&amp;", "&"))
    assert hidden.status_code == 200 and VALUE not in hidden.get_data(as_text=True)
    with app.app_context():
        assert len(db.session.scalars(db.select(AuditEvent).filter_by(action="view")).all()) == 1
