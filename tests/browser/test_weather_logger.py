"""The weather-logger example end to end in real Chromium.

A loopback fake of OpenWeatherMap's current-weather API is started by the test and put on the
run network's allow list. Alice uses the example from the gallery, points `API_URL` at the fake
in the editor, sets `api_key` in the Secrets panel, enables the schedule and presses Run now (a
queue consumer runs in threads of this process, as `flask tasks consumer` would); she then sees
the reading in the GUI and in the Data panel. The key reaches the fake, and never any page,
fragment or JSON the browser received, the History JSON, or the logs. Bob forks her widget: the
table and its columns, no rows, `api_key` blank, the schedule disabled.
"""

import contextlib
import logging
import re

import pytest
from playwright.sync_api import Page, Response, expect

from pyspace.extensions import db
from pyspace.models import DataColumn, DataTable, Schedule, Secret, Widget
from tests.browser.conftest import sign_up
from tests.browser.test_gui_widgets import booted_frame
from tests.tasks.helpers import TASK_CONFIG, consumer, runs_of, wait_for
from tests.weather_api import FAKE_DESCRIPTION, FAKE_TEMP, FakeWeatherAPI, fake_weather_api

API_KEY = "owm-9b7e41c2d05f-weather-e2e"
CALL_TIMEOUT_MS = 30_000


@pytest.fixture
def fake_api():
    with fake_weather_api(accepted_key=API_KEY) as api:
        yield api


@pytest.fixture
def app_config(app_config, fake_api):
    return {**app_config, **TASK_CONFIG, "RUN_NETWORK_ALLOW": [fake_api.address]}


class _BodiesSeen:
    """Every HTML and JSON body the browser received (pages, htmx fragments, frame calls)."""

    def __init__(self, page: Page) -> None:
        self.bodies: list[tuple[str, str]] = []
        page.on("response", self._keep)

    def _keep(self, response: Response) -> None:
        content_type = response.headers.get("content-type", "")
        if "html" not in content_type and "json" not in content_type:
            return
        # Redirects and aborted requests have no body to read.
        with contextlib.suppress(Exception):
            self.bodies.append((response.url, response.text()))

    def holding(self, value: str) -> list[str]:
        return [url for url, body in self.bodies if value in body]


def _use_example(page: Page) -> str:
    page.goto("/examples")
    gallery = page.locator("#example-weather-logger")
    expect(gallery).to_contain_text("api_key")
    gallery.get_by_role("button", name="Use this example").click()
    page.wait_for_url(re.compile(r"/widgets/[^/]+/edit$"))
    return page.url.rstrip("/").split("/")[-2]


def _point_api_url_at(page: Page, fake_api: FakeWeatherAPI) -> None:
    """Edit the API_URL line in the server-code editor (CodeMirror) and save."""
    editor = "document.querySelector('#server_code').nextElementSibling.CodeMirror"
    code = page.evaluate(f"{editor}.getValue()")
    page.evaluate(f"code => {editor}.setValue(code)", fake_api.pointed_at(code))
    expect(page.locator("[data-unsaved-indicator]")).to_be_visible()
    page.locator(".editor-bar").get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".flash-success", has_text="Saved.")).to_be_visible()
    page.wait_for_load_state("load")  # htmx is ready: the panels open in place


def _set_api_key(page: Page) -> None:
    page.locator(".editor-bar").get_by_role("button", name="Secrets").click()
    panel = page.locator("#secrets-panel")
    named = panel.locator("li.secret-row", has=page.get_by_role("link", name="api_key"))
    expect(named.locator(".badge-blank")).to_be_visible()
    expect(named).to_contain_text("openweathermap.org")  # the description says where to get one
    row = panel.locator(f"#{named.get_attribute('id')}")  # the same row while it is a form
    row.get_by_role("button", name="Set value").click()
    row.get_by_label("New value for api_key").fill(API_KEY)
    row.get_by_role("button", name="Save", exact=True).click()
    expect(row.locator(".badge-set")).to_have_text("set")


def _make_public(page: Page) -> None:
    page.locator("summary", has_text="Description and visibility").click()
    page.get_by_label("Visibility").select_option("public")
    page.locator(".editor-bar").get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".flash-success", has_text="Saved.")).to_be_visible()
    page.wait_for_load_state("load")  # htmx is ready: the panels open in place


def _finished_fetches(app, widget_id: str) -> list:
    """The widget's fetch_weather runs, once none of them is queued or running."""
    fetches = [r for r in runs_of(app, widget_id) if r.task_name == "fetch_weather"]
    return fetches if fetches and not any(r.is_active for r in fetches) else []


def _log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/")


@pytest.mark.long
def test_weather_logger_from_gallery_to_chart_keeps_its_key_secret_and_forks_without_data(
    app, page, screenshot, fake_api, caplog, capfd
):
    caplog.set_level(logging.DEBUG)
    # The editor of a GUI widget boots Pyodide in its preview: screenshots wait for that CPU.
    page.context.set_default_timeout(30_000)
    seen = _BodiesSeen(page)
    sign_up(page, "alice")
    widget_id = _use_example(page)
    screenshot("weather-1-editor-after-use")

    _point_api_url_at(page, fake_api)
    # Before the key is set, the schedule is disabled and the panel says why.
    page.locator(".editor-bar").get_by_role("button", name="Scheduled Tasks").click()
    expect(page.locator("#tasks-panel .schedule-why")).to_contain_text("api_key")
    _set_api_key(page)
    screenshot("weather-2-key-set")

    page.locator(".editor-bar").get_by_role("button", name="Scheduled Tasks").click()
    schedules = page.locator("#tasks-panel")
    schedule = schedules.locator("[data-schedule]", has_text="fetch_weather")
    expect(schedule).to_contain_text("disabled")
    expect(schedule.locator(".schedule-why")).to_have_count(0)  # the reason is gone with the blank
    with consumer(app):
        schedule.get_by_role("button", name="Enable").click()
        expect(schedule).not_to_contain_text("disabled")
        schedule.get_by_role("button", name="Run now").click()
        fetches = wait_for(lambda: _finished_fetches(app, widget_id), timeout=40)
        screenshot("weather-3-schedule-ran")
    assert [r.status for r in fetches] == ["completed"], [
        (r.status, r.error_type, r.error_message, r.stderr) for r in fetches
    ]
    assert [(q.get("appid"), q.get("q")) for q in fake_api.queries] == [([API_KEY], ["London"])]

    # The Data panel: the row the task added.
    page.locator(".editor-bar").get_by_role("button", name="Data").click()
    data = page.locator("#tables-panel")
    expect(data.locator("li.table-row", has_text="readings")).to_contain_text("1 row")
    data.get_by_role("link", name="readings").click()
    row = data.locator("tbody tr").first
    expect(row).to_contain_text("London")
    expect(row).to_contain_text(str(FAKE_TEMP))
    expect(row).to_contain_text(FAKE_DESCRIPTION)
    screenshot("weather-4-data-panel")

    # The GUI: the latest reading, and a chart once there are two.
    page.goto(f"/widgets/{widget_id}")
    frame = booted_frame(page)
    # Each server call starts a sandbox: on a busy machine that takes seconds.
    expect(frame.locator("#latest")).to_contain_text(
        f"London: {FAKE_TEMP:.1f} °C", timeout=CALL_TIMEOUT_MS
    )
    expect(frame.locator("#latest")).to_contain_text(FAKE_DESCRIPTION)
    expect(frame.locator("#chart polyline")).to_have_count(0)  # one reading is not a line yet
    # "Fetch now" launches the task from client code; a second reading draws the chart.
    with consumer(app):
        frame.get_by_role("button", name="Fetch now").click()
        expect(frame.locator("#status")).to_contain_text("Started", timeout=CALL_TIMEOUT_MS)
        wait_for(lambda: len(_finished_fetches(app, widget_id)) == 2, timeout=40)
    assert [r.status for r in _finished_fetches(app, widget_id)] == ["completed"] * 2
    frame.get_by_role("button", name="Refresh").click()
    expect(frame.locator("#chart polyline")).to_have_count(1, timeout=CALL_TIMEOUT_MS)
    screenshot("weather-5-gui")

    history = page.request.get(
        f"/widgets/{widget_id}/history", headers={"Accept": "application/json"}
    )
    assert history.ok and history.headers["content-type"].startswith("application/json")
    fetch_runs = [r for r in history.json()["runs"] if r["task_name"] == "fetch_weather"]
    assert [r["status"] for r in fetch_runs] == ["completed"] * 2
    assert API_KEY not in history.text()

    page.goto(f"/widgets/{widget_id}/edit")
    _make_public(page)
    _log_out(page)

    # Bob forks: the table and its columns, no rows, a blank key, the schedule disabled.
    sign_up(page, "bob")
    page.goto(f"/widgets/{widget_id}")
    page.get_by_role("button", name="Fork").click()
    page.wait_for_url(re.compile(r"/widgets/[^/]+/edit$"))
    fork_id = page.url.rstrip("/").split("/")[-2]
    assert fork_id != widget_id
    checklist = page.locator("#needs-values")
    expect(checklist).to_contain_text("1 secret still needs a value")
    expect(checklist).to_contain_text("1 schedule copied disabled")
    expect(checklist.locator(".fork-tables")).to_contain_text("without rows")
    page.locator(".editor-bar").get_by_role("button", name="Data").click()
    fork_data = page.locator("#tables-panel")
    readings = fork_data.locator("li.table-row", has_text="readings")
    expect(readings).to_contain_text("0 rows")
    for column in ("when", "city", "temp", "description"):
        expect(readings.locator("code", has_text=re.compile(f"^{column}$"))).to_be_visible()
    page.locator(".editor-bar").get_by_role("button", name="Scheduled Tasks").click()
    fork_schedule = page.locator("#tasks-panel [data-schedule]", has_text="fetch_weather")
    expect(fork_schedule).to_contain_text("disabled")
    expect(fork_schedule.locator(".schedule-why")).to_contain_text("api_key")
    screenshot("weather-6-fork")
    with app.app_context():
        fork = db.session.get(Widget, fork_id)
        assert fork is not None and fork.owner.username == "bob"
        table = db.session.scalar(db.select(DataTable).filter_by(widget_id=fork_id))
        columns = db.session.scalars(
            db.select(DataColumn).filter_by(table_id=table.id).order_by(DataColumn.id)
        ).all()
        assert [(c.name, c.type) for c in columns] == [
            ("when", "datetime"),
            ("city", "text"),
            ("temp", "number"),
            ("description", "text"),
        ]
        key = db.session.scalar(db.select(Secret).filter_by(widget_id=fork_id, name="api_key"))
        assert key is not None and key.is_blank
        fork_schedules = db.session.scalars(db.select(Schedule).filter_by(widget_id=fork_id)).all()
        assert [(s.task_name, s.enabled) for s in fork_schedules] == [("fetch_weather", False)]
    assert len(fake_api.queries) == 2
    fork_rows = page.request.get(
        f"/widgets/{fork_id}/tables/{table.id}/rows", headers={"Accept": "application/json"}
    ).json()
    assert fork_rows["total"] == 0 and fork_rows["rows"] == []

    assert seen.bodies, "the browser's responses were not recorded"
    assert seen.holding(API_KEY) == []
    assert API_KEY not in caplog.text
    out, err = capfd.readouterr()
    assert API_KEY not in out and API_KEY not in err
