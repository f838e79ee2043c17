"""The weather-logger example's task through the real queue and sandbox, against a loopback fake
of OpenWeatherMap on the run network's allow list: a good key adds a reading; a key the API
rejects fails the run with the API's status, and no form of the key reaches the History."""

import logging

import pytest

from pyspace.extensions import db
from pyspace.models import DataTable, Schedule, Secret, Widget
from pyspace.runs.queue import work_once
from pyspace.sandbox.redaction import encoded_forms
from tests.weather_api import FAKE_DESCRIPTION, FAKE_TEMP, fake_weather_api

from .helpers import TASK_CONFIG, runs_of

ACCEPTED_KEY = "owm-5c0ffee1d2-accepted"
# Characters a URL must encode: the key travels in the query string, percent-encoded.
REJECTED_KEY = "owm wrong+key/=7a41%e9"
JSON = {"Accept": "application/json"}


@pytest.fixture
def fake_api():
    with fake_weather_api(accepted_key=ACCEPTED_KEY) as api:
        yield api


@pytest.fixture
def app_config(app_config, fake_api):
    return {**app_config, **TASK_CONFIG, "RUN_NETWORK_ALLOW": [fake_api.address]}


def _fetch_once_with(app, alice, fake_api, key: str) -> str:
    """Alice's copy of the example, pointed at the fake, `key` set in the Secrets panel, its
    schedule's Run now pressed and the run worked off the queue; returns the widget id."""
    response = alice.post("/examples/weather-logger/use")
    widget_id = response.headers["Location"].rstrip("/").split("/")[-2]
    with app.app_context():
        code = db.session.get(Widget, widget_id).server_code
        secret_id = db.session.scalar(db.select(Secret.id).filter_by(widget_id=widget_id))
        schedule_id = db.session.scalar(db.select(Schedule.id).filter_by(widget_id=widget_id))
    alice.save_widget(widget_id, server_code=fake_api.pointed_at(code))
    response = alice.post(f"/widgets/{widget_id}/secrets/{secret_id}/value", {"value": key})
    assert response.status_code in (200, 302), response.get_data(as_text=True)
    response = alice.post(f"/widgets/{widget_id}/schedules/{schedule_id}/run-now")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert work_once(app)
    return widget_id


def _readings(app, alice, widget_id: str) -> dict:
    with app.app_context():
        table_id = db.session.scalar(db.select(DataTable.id).filter_by(widget_id=widget_id))
    return alice.client.get(f"/widgets/{widget_id}/tables/{table_id}/rows", headers=JSON).json


def test_run_now_with_an_accepted_key_adds_the_apis_reading(app, alice, fake_api):
    widget_id = _fetch_once_with(app, alice, fake_api, ACCEPTED_KEY)
    [run] = runs_of(app, widget_id)
    assert (run.task_name, run.status) == ("fetch_weather", "completed"), run.error_message
    assert [(q["appid"], q["q"]) for q in fake_api.queries] == [([ACCEPTED_KEY], ["London"])]
    readings = _readings(app, alice, widget_id)
    assert readings["total"] == 1
    [row] = readings["rows"]
    assert (row["city"], row["temp"], row["description"]) == ("London", FAKE_TEMP, FAKE_DESCRIPTION)


def test_a_rejected_key_fails_the_run_without_the_key_in_history_or_logs(
    app, alice, fake_api, caplog
):
    caplog.set_level(logging.DEBUG)
    widget_id = _fetch_once_with(app, alice, fake_api, REJECTED_KEY)
    assert [q["appid"] for q in fake_api.queries] == [[REJECTED_KEY]]  # sent, encoded, and refused
    [run] = runs_of(app, widget_id)
    assert run.status == "failed"
    # requests' message names the URL, the key redacted in it.
    assert run.error_type == "HTTPError" and "401" in (run.error_message or "")
    assert "appid=***&" in (run.error_message or "")
    assert _readings(app, alice, widget_id)["total"] == 0
    history = alice.client.get(f"/widgets/{widget_id}/history", headers=JSON).get_data(as_text=True)
    page = alice.client.get(f"/widgets/{widget_id}/history").get_data(as_text=True)
    for form in encoded_forms(REJECTED_KEY) | {REJECTED_KEY}:
        assert form not in history and form not in page and form not in caplog.text, form
