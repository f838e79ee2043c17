"""`anvil.server.cookies.local` / `.shared` in HTTP endpoints: encrypted, scoped to the widget's
endpoints (local) or its owner's (shared), size-capped, portable values, kept by the caller's
browser; and `cross_site_session=True` sharing the browser's anvil.server.session of the widget
with its GUI calls. The site's own cookies never reach widget code."""

import base64

import pytest

from pyspace.sandbox.redaction import WITHHELD
from tests.gui.test_routes import call, frame_boot
from tests.sandbox.helpers import SMALL_LIMITS, add_secret, confinement

SECRET = "sk-cookie-9f3a-never-set"

COOKIE_CODE = """
import datetime, os
import anvil.server, anvil.secrets

@anvil.server.http_endpoint("/count")
def count():
    local = anvil.server.cookies.local
    local["n"] = local.get("n", 0) + 1
    shared = anvil.server.cookies.shared
    shared["visits"] = shared.get("visits", 0) + 1
    return {"n": local["n"], "visits": shared["visits"],
            "cookie_header": "cookie" in anvil.server.request.headers}

@anvil.server.http_endpoint("/peek")
def peek():
    # repr: a date comes back as a date.
    return {"local": {k: repr(v) for k, v in anvil.server.cookies.local.items()},
            "shared": {k: repr(v) for k, v in anvil.server.cookies.shared.items()}}

@anvil.server.http_endpoint("/when")
def when():
    anvil.server.cookies.local.set(1, seen=datetime.date(2026, 12, 2))
    return "ok"

@anvil.server.http_endpoint("/forget")
def forget():
    anvil.server.cookies.local.clear()
    return "forgotten"

@anvil.server.http_endpoint("/big")
def big():
    anvil.server.cookies.local["blob"] = os.urandom(4000).hex()
    return "too big"

@anvil.server.http_endpoint("/leak")
def leak():
    anvil.server.cookies.local["key"] = anvil.secrets.get_secret("api_key")
    return "stored"
"""

SESSION_CODE = """
import anvil.server

@anvil.server.callable
def greet(name):
    anvil.server.session["name"] = name
    return anvil.server.session.get("from_api")

@anvil.server.http_endpoint("/shared-session", cross_site_session=True)
def shared_session():
    anvil.server.session["from_api"] = "hello"
    return {"name": anvil.server.session.get("name"), "id": anvil.server.get_session_id()}

@anvil.server.http_endpoint("/own-session")
def own_session():
    return {"name": anvil.server.session.get("name"), "id": anvil.server.get_session_id()}
"""


@pytest.fixture
def app_config(app_config):
    app_config.update(SMALL_LIMITS, RUN_WALL_SECONDS=8, RUN_CPU_SECONDS=3)
    return app_config


@pytest.fixture
def widget(app, alice):
    confinement(app)
    widget_id = alice.create_widget("Cookies", server_code=COOKIE_CODE, visibility="public")
    add_secret(app, widget_id, "api_key", SECRET)
    return widget_id


def _set_cookies(response) -> list[str]:
    return response.headers.getlist("Set-Cookie")


def test_local_and_shared_cookies_are_kept_by_the_browser_and_scoped(app, alice, widget):
    visitor = app.test_client()
    first = visitor.get(f"/_/api/{widget}/count")
    assert first.status_code == 200, first.get_data(as_text=True)
    assert first.get_json() == {"n": 1, "visits": 1, "cookie_header": False}
    headers = _set_cookies(first)
    local = next(h for h in headers if h.startswith("pyspace_widget="))
    assert f"Path=/_/api/{widget}" in local
    assert "HttpOnly" in local and "SameSite=Lax" in local and "Max-Age=2592000" in local
    shared = next(h for h in headers if h.startswith("pyspace_owner_"))
    assert "Path=/_/api;" in shared or shared.endswith("Path=/_/api")
    second = visitor.get(f"/_/api/{widget}/count")
    assert second.get_json() == {"n": 2, "visits": 2, "cookie_header": False}

    # Another widget of the same owner shares `shared` only.
    other = alice.create_widget("Other", server_code=COOKIE_CODE, visibility="public")
    seen = visitor.get(f"/_/api/{other}/peek").get_json()
    assert seen == {"local": {}, "shared": {"visits": "2"}}


def test_a_cookie_is_read_by_its_own_widget_only_and_never_if_tampered(app, alice, bob, widget):
    visitor = app.test_client()
    visitor.get(f"/_/api/{widget}/count")
    local = visitor.get_cookie("pyspace_widget", path=f"/_/api/{widget}")
    shared_name = next(c.key for c in visitor._cookies.values() if c.key.startswith("pyspace_o"))
    shared = visitor.get_cookie(shared_name, path="/_/api")
    # Replayed to another owner's widget (on its path), its key doesn't open it.
    bobs = bob.create_widget("Bob's", server_code=COOKIE_CODE, visibility="public")
    replay = app.test_client()
    replay.set_cookie("pyspace_widget", local.value, path=f"/_/api/{bobs}")
    replay.set_cookie(shared_name, shared.value, path="/_/api")
    assert replay.get(f"/_/api/{bobs}/peek").get_json() == {"local": {}, "shared": {}}
    # Changed by the browser: ignored.
    forged = app.test_client()
    forged.set_cookie("pyspace_widget", local.value[:-3] + "AAA", path=f"/_/api/{widget}")
    assert forged.get(f"/_/api/{widget}/peek").get_json()["local"] == {}


def test_the_browser_cannot_read_what_the_code_stored_in_a_cookie(app, widget):
    visitor = app.test_client()
    visitor.get(f"/_/api/{widget}/when")
    raw = visitor.get_cookie("pyspace_widget", path=f"/_/api/{widget}").value
    padded = raw + "=" * (-len(raw) % 4)
    readable = raw + base64.urlsafe_b64decode(padded).decode("latin-1")
    assert "2026" not in readable and "seen" not in readable
    assert visitor.get(f"/_/api/{widget}/peek").get_json()["local"] == {
        "seen": "datetime.date(2026, 12, 2)"
    }


def test_set_takes_portable_values_and_an_expiry_and_clear_deletes(app, widget):
    visitor = app.test_client()
    answer = visitor.get(f"/_/api/{widget}/when")
    assert answer.status_code == 200
    assert any("Max-Age=86400" in h for h in _set_cookies(answer))
    seen = visitor.get(f"/_/api/{widget}/peek").get_json()["local"]
    assert seen == {"seen": "datetime.date(2026, 12, 2)"}
    gone = visitor.get(f"/_/api/{widget}/forget")
    assert any(h.startswith("pyspace_widget=;") for h in _set_cookies(gone))
    assert visitor.get(f"/_/api/{widget}/peek").get_json()["local"] == {}


def test_a_cookie_over_the_cap_is_refused_and_not_set(app, widget):
    response = app.test_client().get(f"/_/api/{widget}/big")
    assert response.status_code == 500
    assert "the most a cookie may hold here is 4,000 bytes" in response.get_data(as_text=True)
    assert _set_cookies(response) == []


def test_a_cookie_holding_a_secret_value_withholds_the_answer_and_sets_nothing(app, widget):
    response = app.test_client().get(f"/_/api/{widget}/leak")
    assert response.status_code == 500
    assert response.get_data(as_text=True).strip() == WITHHELD
    assert _set_cookies(response) == []
    assert SECRET not in str(response.headers)


def test_the_sites_session_cookie_never_reaches_the_code(app, alice, widget):
    # alice's browser carries the site's session cookie: the code sees no Cookie header, and
    # the answer sets the widget's cookies only.
    response = alice.client.get(f"/_/api/{widget}/count")
    assert response.get_json()["cookie_header"] is False
    names = {header.partition("=")[0] for header in _set_cookies(response)}
    assert names and all(name.startswith(("pyspace_widget", "pyspace_owner_")) for name in names)


def test_cross_site_session_shares_the_browsers_session_with_gui_calls(app, alice, make_client):
    confinement(app)
    widget_id = alice.create_widget("Shop", "gui", server_code=SESSION_CODE, visibility="public")
    visitor = make_client()
    token = frame_boot(visitor.client, widget_id)["callToken"]
    first = call(visitor.client, widget_id, "greet", token, {"args": ["Ann"]})
    assert first.get_json() == {"ok": True, "result": None}
    shared = visitor.client.get(f"/_/api/{widget_id}/shared-session").get_json()
    assert shared["name"] == "Ann" and shared["id"]
    # What the endpoint stored, the next GUI call reads.
    again = call(visitor.client, widget_id, "greet", token, {"args": ["Ann"]})
    assert again.get_json() == {"ok": True, "result": "hello"}
    # Without cross_site_session, or from another browser, the session is not shared.
    own = visitor.client.get(f"/_/api/{widget_id}/own-session").get_json()
    assert own["name"] is None and own["id"] != shared["id"]
    stranger = app.test_client().get(f"/_/api/{widget_id}/shared-session").get_json()
    assert stranger["name"] is None and stranger["id"] != shared["id"]
