"""`anvil.server.session`: kept between a visitor's GUI calls of one widget, never shared
between visitors or widgets, new after log-out, JSON values only, size-capped."""

import pytest

from tests.gui.test_routes import call, frame_boot
from tests.sandbox.helpers import SMALL_LIMITS, confinement

CODE = """
import anvil.server

@anvil.server.callable
def add(item):
    cart = anvil.server.session.setdefault("cart", [])
    cart.append(item)
    return {"cart": cart, "id": anvil.server.get_session_id()}

@anvil.server.callable
def store_object():
    anvil.server.session["bad"] = object()

@anvil.server.callable
def store_big():
    anvil.server.session["big"] = "x" * 5000
"""


@pytest.fixture
def app_config(app_config):
    app_config.update(SMALL_LIMITS, RUN_WALL_SECONDS=8, SESSION_MAX_BYTES=2000)
    return app_config


def _add(client, widget_id, token, item):
    response = call(client, widget_id, "add", token, {"args": [item], "kwargs": {}})
    assert response.status_code == 200, response.get_data(as_text=True)
    answer = response.get_json()
    assert answer["ok"], answer
    return answer["result"]


def test_session_is_kept_per_visitor_and_widget_and_cleared_at_log_out(app, alice, bob):
    confinement(app)
    widget_id = alice.create_widget("Cart", kind="gui", server_code=CODE, visibility="public")
    other_id = alice.create_widget("Other", kind="gui", server_code=CODE, visibility="public")
    token = frame_boot(alice.client, widget_id)["callToken"]
    first = _add(alice.client, widget_id, token, "apple")
    second = _add(alice.client, widget_id, token, "pear")
    assert first["cart"] == ["apple"] and second["cart"] == ["apple", "pear"]
    assert first["id"] == second["id"] and len(first["id"]) == 40
    # A fresh page load (a new token) is the same visitor session.
    again = frame_boot(alice.client, widget_id)["callToken"]
    assert _add(alice.client, widget_id, again, "fig")["cart"] == ["apple", "pear", "fig"]
    # Another visitor, another widget: sessions of their own.
    bobs = frame_boot(bob.client, widget_id)["callToken"]
    assert _add(bob.client, widget_id, bobs, "plum")["cart"] == ["plum"]
    other = frame_boot(alice.client, other_id)["callToken"]
    assert _add(alice.client, other_id, other, "kiwi")["cart"] == ["kiwi"]
    # Logging out ends the session: logged in again, the cart is empty.
    alice.logout()
    alice.login()
    fresh = frame_boot(alice.client, widget_id)["callToken"]
    after = _add(alice.client, widget_id, fresh, "lime")
    assert after["cart"] == ["lime"] and after["id"] != first["id"]


def test_session_holds_json_values_up_to_the_cap(app, alice):
    confinement(app)
    widget_id = alice.create_widget("Cart", kind="gui", server_code=CODE, visibility="public")
    token = frame_boot(alice.client, widget_id)["callToken"]
    bad = call(alice.client, widget_id, "store_object", token, {"args": [], "kwargs": {}})
    assert bad.get_json()["error"]["type"] == "SessionError"
    big = call(alice.client, widget_id, "store_big", token, {"args": [], "kwargs": {}})
    error = big.get_json()["error"]
    assert error["type"] == "SessionError" and "2,000" in error["message"]
    assert _add(alice.client, widget_id, token, "apple")["cart"] == ["apple"]
