"""Redaction is not an oracle: the attacks that would find a secret through where `***` falls,
and the budget that stops one-bit-at-a-time guessing.

Each attack is made as an attacker would: an anonymous visitor of a public GUI widget takes
the call token from the frame and calls the starter `greet(name)` with crafted arguments. The
widget's server code reads a secret at top level, as real widgets do.
"""

import itertools
import json

import pytest

from pyspace.extensions import db
from pyspace.models import AuditEvent, ExtractionCounter, utcnow
from pyspace.sandbox.redaction import WITHHELD
from pyspace.widgets.starter_code import GUI_SERVER_CODE
from tests.gui.test_routes import call, frame_boot
from tests.sandbox.helpers import ROOMY_LIMITS, add_secret

PIN = "7305"
PASSWORD = "sunshine42"
SERVER_CODE = "import anvil.secrets\nDOOR_PIN = anvil.secrets.get_secret('door_pin')\n" + (
    GUI_SERVER_CODE
)


@pytest.fixture(autouse=True)
def small_limits(app_config):
    app_config.update(ROOMY_LIMITS)


@pytest.fixture
def door(app, alice):
    """alice's public GUI widget that reads the secret door_pin; returns a maker by value."""

    def make(value: str = PIN) -> str:
        widget_id = alice.create_widget("Door", "gui", visibility="public", server_code=SERVER_CODE)
        add_secret(app, widget_id, "door_pin", value)
        return widget_id

    return make


def de_bruijn_4_digits() -> str:
    """Every 4-digit string exactly once, as one string of 10,003 characters."""
    sequence: list[int] = []
    a = [0] * 5

    def db_(t: int, p: int) -> None:
        if t > 4:
            if 4 % p == 0:
                sequence.extend(a[1 : p + 1])
        else:
            a[t] = a[t - p]
            db_(t + 1, p)
            for digit in range(a[t - p] + 1, 10):
                a[t] = digit
                db_(t + 1, t)

    db_(1, 1)
    text = "".join(map(str, sequence))
    return text + text[:3]


def dictionary(size: int = 800) -> list[str]:
    words = ["dragon", "monkey", "shadow", "master", "letmein", "qwerty", "sunshine", "football"]
    return [f"{word}{number}" for number, word in itertools.product(range(100), words)][:size]


def anonymous_call(make_client, widget_id, body):
    visitor = make_client()
    token = frame_boot(visitor.client, widget_id)["callToken"]
    return call(visitor.client, widget_id, "greet", token, body)


def test_de_bruijn_keyword_name_attack_learns_nothing_about_the_pin(app, door, make_client):
    sequence = de_bruijn_4_digits()
    assert len(sequence) == 10_003 and PIN in sequence
    answers = []
    for pin in (PIN, "0000"):
        response = anonymous_call(make_client, door(pin), {"args": [], "kwargs": {sequence: 1}})
        assert response.status_code == 200
        answers.append(response.get_json())
    # The whole message is withheld: no mask, no offset, and the same answer whatever the PIN.
    assert (
        answers[0]
        == answers[1]
        == {
            "ok": False,
            "error": {"type": "TypeError", "message": WITHHELD},
        }
    )


def test_the_owner_still_sees_the_mask_in_place(app, alice, door):
    widget_id = door()
    token = frame_boot(alice.client, widget_id)["callToken"]
    answer = call(alice.client, widget_id, "greet", token, {"args": [f"door {PIN}"]}).get_json()
    assert answer == {"ok": True, "result": "Hello, door ***!"}


def test_dictionary_in_one_argument_answers_one_bit_not_the_password(app, door, make_client):
    widget_id = door(PASSWORD)
    words = dictionary()
    assert len(words) == 800 and PASSWORD in words
    body = {"args": [" ".join(words)]}
    assert len(json.dumps(body)) < 16 * 1024
    answer = anonymous_call(make_client, widget_id, body).get_json()
    assert answer == {"ok": False, "error": {"type": "OutputHidden", "message": WITHHELD}}
    assert PASSWORD not in json.dumps(answer)


def test_halving_the_dictionary_is_stopped_by_the_budget_and_the_owner_is_alerted(
    app, alice, door, make_client
):
    """The attack withholding still allows: ask "is it in this half?" and halve. With the
    password first in the list every answer is "yes" (withheld), the case the budget is for."""
    words = dictionary()
    words.remove(PASSWORD)
    words.insert(0, PASSWORD)
    widget_id = door(PASSWORD)
    visitor = make_client()
    token = frame_boot(visitor.client, widget_id)["callToken"]
    candidates, statuses = words, []
    while len(candidates) > 1:
        half = candidates[: len(candidates) // 2]
        response = call(visitor.client, widget_id, "greet", token, {"args": [" ".join(half)]})
        statuses.append(response.status_code)
        if response.status_code == 429:
            break
        hidden = response.get_json().get("error", {}).get("type") == "OutputHidden"
        candidates = half if hidden else candidates[len(half) :]
    assert statuses == [200] * 5 + [429]
    assert len(candidates) > 1, "the budget must stop the search before it finds the password"
    refusal = response.get_json()["error"]
    assert refusal["type"] == "TooManyHiddenResults" and "hidden" in refusal["message"]
    # The Run button is refused to the same caller too.
    run = visitor.post(f"/widgets/{widget_id}/run", headers={"Accept": "application/json"})
    assert run.status_code == 429 and run.get_json()["error"]["type"] == "TooManyHiddenResults"
    # The owner sees it in the Secrets panel's activity log and in the editor.
    log = alice.client.get(f"/widgets/{widget_id}/secrets/audit").get_data(as_text=True)
    assert "Possible extraction attempt" in log and "an anonymous visitor" in log
    editor = alice.client.get(f"/widgets/{widget_id}/edit").get_data(as_text=True)
    assert "data-extraction-alert" in editor and "Possible extraction attempt" in editor


def test_the_budget_is_per_caller_and_ends_after_an_hour(app, alice, bob, door, make_client):
    widget_id = door()
    app.config["EXTRACTION_BUDGET"] = 2
    token = frame_boot(bob.client, widget_id)["callToken"]
    for _ in range(2):
        assert call(bob.client, widget_id, "greet", token, {"args": [PIN]}).status_code == 200
    assert call(bob.client, widget_id, "greet", token, {"args": ["x"]}).status_code == 429
    # Another caller, and the owner, are not refused.
    assert anonymous_call(make_client, widget_id, {"args": ["x"]}).status_code == 200
    owner_token = frame_boot(alice.client, widget_id)["callToken"]
    for _ in range(3):
        owned = call(alice.client, widget_id, "greet", owner_token, {"args": [PIN]})
        assert owned.get_json() == {"ok": True, "result": "Hello, ***!"}
    with app.app_context():
        events = db.session.scalars(db.select(AuditEvent).filter_by(action="extraction")).all()
        assert len(events) == 1 and events[0].actor.username == "bob"
        counter = db.session.scalars(db.select(ExtractionCounter)).one()
        counter.blocked_until = utcnow()
        db.session.commit()
    assert call(bob.client, widget_id, "greet", token, {"args": ["x"]}).status_code == 200


def test_answers_without_the_secret_do_not_count(app, door, make_client):
    widget_id = door()
    app.config["EXTRACTION_BUDGET"] = 1
    visitor = make_client()
    token = frame_boot(visitor.client, widget_id)["callToken"]
    for guess in ("0000", "0001", "0002"):
        answer = call(visitor.client, widget_id, "greet", token, {"args": [guess]})
        assert answer.get_json() == {"ok": True, "result": f"Hello, {guess}!"}


@pytest.mark.parametrize(
    "body",
    [
        {"args": ["x" * (16 * 1024)]},
        {"kwargs": {"n" * (16 * 1024): 1}},
        {"args": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["deep"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]},
    ],
    ids=["large-argument", "large-keyword-name", "deep-argument"],
)
def test_oversized_or_deep_arguments_are_refused_with_413(app, door, make_client, body):
    response = anonymous_call(make_client, door(), body)
    assert response.status_code == 413
    answer = response.get_json()
    assert answer["ok"] is False and answer["error"]["type"] == "TooLarge"
    assert "at most" in answer["error"]["message"] or "deep" in answer["error"]["message"]
