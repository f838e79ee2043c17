"""The examples gallery and "Use this example" (the weather logger); its task through the queue
is tests/tasks/test_weather_logger_example.py."""

import json

import pytest

from pyspace.examples.catalog import all_examples, example_by_slug
from pyspace.extensions import db
from pyspace.models import DataRow, DataTable, Schedule, Secret, Widget


def _use(accounts, slug="weather-logger"):
    response = accounts.post(f"/examples/{slug}/use")
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"].rstrip("/").split("/")[-2]


def test_gallery_lists_the_weather_logger_first_for_everyone(client, alice):
    anonymous = client.application.test_client().get("/examples").get_data(as_text=True)
    assert "Weather logger" in anonymous and "Log in to use this example" in anonymous
    page = alice.client.get("/examples").get_data(as_text=True)
    first_example = page.index('<article class="example"')
    assert page.index('id="example-weather-logger"') < page.index(">", first_example)
    assert 'action="/examples/weather-logger/use"' in page
    assert all_examples()[0].slug == "weather-logger"


def test_use_makes_a_private_copy_with_a_blank_required_secret_and_empty_table(app, alice):
    widget_id = _use(alice)
    with app.app_context():
        widget = db.session.get(Widget, widget_id)
        assert (widget.title, widget.kind, widget.visibility) == (
            "Weather logger",
            "gui",
            "private",
        )
        [secret] = db.session.scalars(db.select(Secret).filter_by(widget_id=widget_id)).all()
        assert (secret.name, secret.ciphertext, secret.required) == ("api_key", None, True)
        assert "openweathermap.org" in secret.description
        [table] = db.session.scalars(db.select(DataTable).filter_by(widget_id=widget_id)).all()
        assert table.name == "readings"
        assert [(c.name, c.type) for c in table.columns] == [
            ("when", "datetime"),
            ("city", "text"),
            ("temp", "number"),
            ("description", "text"),
        ]
        assert db.session.scalar(db.select(db.func.count()).select_from(DataRow)) == 0
    editor = alice.client.get(f"/widgets/{widget_id}/edit")
    assert editor.status_code == 200 and "Set its secret (api_key) first." in editor.get_data(
        as_text=True
    )


@pytest.mark.parametrize("site_minimum, every_hours", [(5, 1), (60, 1), (61, 2), (150, 3)])
def test_use_makes_the_schedule_no_more_frequent_than_the_site_allows(
    app, alice, site_minimum, every_hours
):
    app.config["SCHEDULE_MIN_MINUTES"] = site_minimum
    widget_id = _use(alice)
    with app.app_context():
        [schedule] = db.session.scalars(db.select(Schedule).filter_by(widget_id=widget_id)).all()
        assert (schedule.task_name, schedule.every, schedule.n, schedule.enabled) == (
            "fetch_weather",
            "hour",
            every_hours,
            False,
        )


def test_each_use_is_a_new_widget_of_its_own(app, alice, bob):
    first, second, bobs = _use(alice), _use(alice), _use(bob)
    assert len({first, second, bobs}) == 3
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(DataTable)) == 3


def test_the_copy_is_404_to_other_users_and_visitors(app, alice, bob, client):
    widget_id = _use(alice)
    for url in (
        f"/widgets/{widget_id}",
        f"/widgets/{widget_id}/edit",
        f"/widgets/{widget_id}/tables",
    ):
        assert bob.client.get(url).status_code == 404
    assert client.application.test_client().get(f"/widgets/{widget_id}").status_code == 404


def test_anonymous_use_goes_to_log_in_and_creates_nothing(app, make_client):
    visitor = make_client()
    response = visitor.client.post(
        "/examples/weather-logger/use", data={"csrf_token": visitor.csrf_token()}
    )
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Widget)) == 0


def test_an_unknown_example_is_404(alice):
    assert alice.post("/examples/no-such-example/use").status_code == 404


def test_weather_logger_code_is_as_the_tutorial_describes():
    example = example_by_slug("weather-logger")
    code = example.server_code
    assert code.index("API_URL = ") < code.index("def ")  # a constant at the top
    assert "/data/2.5/weather?q={city}&appid={key}&units=metric" in code
    assert "@anvil.server.background_task\ndef fetch_weather():" in code
    assert 'anvil.secrets.get_secret("api_key")' in code
    assert 'weather["main"]["temp"]' in code and 'weather["weather"][0]["description"]' in code
    assert "app_tables.readings.add_row(" in code
    assert "@anvil.server.callable\ndef get_readings(limit=48):" in code
    assert 'order_by("when", ascending=False)' in code
    assert 'anvil.server.launch_background_task("fetch_weather")' in code
    assert 'id="fetch">Fetch now</button>' in example.html and '<svg id="chart"' in example.html
    assert (
        "polyline" in example.client_code
        and 'anvil.server.call("fetch_now")' in example.client_code
    )
    [schedule] = example.schedules
    assert schedule["function"] == "fetch_weather" and schedule["every"] == "hour"
    assert schedule["enabled"] is False and "api_key" in schedule["why_disabled"]


@pytest.mark.parametrize("name", ["server_code.py", "client_code.py"])
def test_example_code_compiles(name):
    example = example_by_slug("weather-logger")
    compile(getattr(example, name.removesuffix(".py")), name, "exec")


def test_manifest_is_valid_json_with_what_the_gallery_shows():
    from pyspace.examples.catalog import EXAMPLES_DIR

    manifest = json.loads((EXAMPLES_DIR / "weather_logger" / "manifest.json").read_text())
    assert manifest["slug"] == "weather-logger" and manifest["kind"] == "gui"


def test_get_readings_returns_the_newest_readings_in_a_real_run(app, app_config, alice):
    from datetime import UTC, datetime, timedelta

    from pyspace.sandbox import runner_for
    from pyspace.tables.rows import add_rows
    from tests.tables.helpers import TABLE_LIMITS

    app.config.update(TABLE_LIMITS)
    widget_id = _use(alice)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    with app.app_context():
        table = db.session.scalar(db.select(DataTable).filter_by(widget_id=widget_id))
        add_rows(
            table,
            [
                {
                    "when": start + timedelta(hours=n),
                    "city": "London",
                    "temp": n,
                    "description": "x",
                }
                for n in range(60)
            ],
        )
        widget = db.session.get(Widget, widget_id)
        result = runner_for(app).run(
            widget_id,
            widget.server_code,
            widget.owner_id,
            call={"name": "get_readings", "args": [3], "kwargs": {}},
        )
    assert result.ok, result.error
    assert result.result == [
        {
            "when": (start + timedelta(hours=n)).isoformat(),
            "city": "London",
            "temp": n,
            "description": "x",
        }
        for n in (59, 58, 57)
    ]
