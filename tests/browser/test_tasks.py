"""Background and scheduled tasks in real Chromium, with a queue consumer and the scheduler
running in threads of the test process (the same code `flask tasks consumer` runs).

The schedule test moves its schedule's next occurrence to "now" instead of waiting a real
minute between occurrences: the scheduler, the claim and the runs are the real ones.
"""

import re
import threading
import time
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from pyspace.extensions import db
from pyspace.models import Run, Schedule, utcnow
from pyspace.tasks.scheduler import scheduler_loop
from tests.browser.conftest import sign_up
from tests.browser.test_gui_widgets import add_widget, booted_frame
from tests.tasks.helpers import TASK_CONFIG, consumer, wait_for

API_KEY = "owm-3e8d5b1a96-scheduled"

PROGRESS_SERVER_CODE = """\
import time
import anvil.server


@anvil.server.background_task
def count():
    n = 0
    while True:
        n += 1
        anvil.server.task_state["n"] = n
        time.sleep(0.2)


@anvil.server.callable
def start():
    return anvil.server.launch_background_task("count").get_id()


@anvil.server.callable
def progress(task_id):
    task = anvil.server.get_background_task(task_id)
    return {"n": task.get_state().get("n", 0), "status": task.get_termination_status() or "running"}


@anvil.server.callable
def stop(task_id):
    anvil.server.get_background_task(task_id).kill()
"""

PROGRESS_CLIENT_CODE = """\
import anvil.server
from js import document, setTimeout
from pyodide.ffi import create_proxy

task = {}


def show(element_id, text):
    document.getElementById(element_id).textContent = text


def on_start(event):
    task["id"] = anvil.server.call("start")
    show("status", "started")


def on_stop(event):
    anvil.server.call("stop", task["id"])


def poll():
    try:
        if "id" in task:
            info = anvil.server.call("progress", task["id"])
            show("progress", f"{info['n']} {info['status']}")
    finally:
        # The next poll 400 ms after this one's answer: a call from a timer holds the page
        # until it is answered, so back-to-back polls would leave no moment for a click on Stop.
        setTimeout(poller, 400)


document.getElementById("start-btn").addEventListener("click", on_start)
document.getElementById("stop-btn").addEventListener("click", on_stop)
poller = create_proxy(poll)
setTimeout(poller, 400)
"""

PROGRESS_HTML = """\
<button id="start-btn">Start</button> <button id="stop-btn">Stop</button>
<p id="status"></p><p id="progress"></p>
"""

SCHEDULED_CODE = """\
import anvil.secrets
import anvil.server


@anvil.server.background_task
def report():
    print("using", anvil.secrets.get_secret("api_key"))
"""


@pytest.fixture
def app_config(app_config):
    return {**app_config, **TASK_CONFIG, "SCHEDULER_TICK_SECONDS": 0.2}


@pytest.fixture
def scheduler(app):
    stopping = threading.Event()
    thread = threading.Thread(target=scheduler_loop, args=(app, stopping), daemon=True)
    thread.start()
    yield
    stopping.set()
    thread.join(timeout=10)


def test_a_gui_widget_launches_a_task_shows_its_progress_and_kills_it(app, page, screenshot):
    sign_up(page, "alice")
    widget_id = add_widget(
        app,
        "alice",
        "Progress",
        server_code=PROGRESS_SERVER_CODE,
        client_code=PROGRESS_CLIENT_CODE,
        html=PROGRESS_HTML,
    )
    with consumer(app):
        page.goto(f"/widgets/{widget_id}")
        frame = booted_frame(page)
        frame.get_by_role("button", name="Start").click()
        expect(frame.locator("#status")).to_have_text("started")
        # task_state travels from the task's sandbox to the page while it runs.
        expect(frame.locator("#progress")).to_have_text(
            re.compile(r"^([3-9]|\d{2,}) running$"), timeout=20_000
        )
        screenshot("task-progress")
        frame.get_by_role("button", name="Stop").click()
        expect(frame.locator("#progress")).to_have_text(re.compile(r" killed$"))
    with app.app_context():
        task = db.session.scalar(db.select(Run).filter_by(widget_id=widget_id, kind="task"))
        assert task.status == "killed" and int(task.state_json.split(":")[1].strip(" }")) >= 3


def _schedule_due_now(app, widget_id):
    with app.app_context():
        db.session.execute(
            db.update(Schedule)
            .filter_by(widget_id=widget_id)
            .values(next_run_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()


def _scheduled_runs(app, widget_id):
    with app.app_context():
        db.session.expire_all()
        return db.session.scalars(
            db.select(Run).filter_by(widget_id=widget_id, kind="scheduled").order_by(Run.id)
        ).all()


def test_a_schedule_runs_its_task_twice_shows_redacted_history_and_stops_when_disabled(
    app, page, scheduler
):
    from pyspace.models import Secret
    from pyspace.secrets import vault

    sign_up(page, "alice")
    widget_id = add_widget(app, "alice", "Weather report", server_code=SCHEDULED_CODE)
    with app.app_context():
        db.session.add(
            Secret(widget_id=widget_id, name="api_key", ciphertext=vault.encrypt_value(API_KEY))
        )
        db.session.commit()
    page.goto(f"/widgets/{widget_id}/edit")
    page.get_by_role("button", name="Scheduled Tasks").click()
    panel = page.locator("#tasks-panel")
    expect(panel.get_by_role("heading", name="Scheduled Tasks")).to_be_visible()
    panel.get_by_label("Background task").select_option("report")
    panel.get_by_label("Runs").select_option("minute")
    panel.locator("input[name=n]").fill("1")
    panel.get_by_role("button", name="Add schedule").click()
    expect(panel.locator("[data-schedule]")).to_contain_text("report — every minute")

    # (A real minute boundary during the test adds a genuine occurrence: counts are "at least".)
    with consumer(app):
        for count in (1, 2):
            _schedule_due_now(app, widget_id)
            wait_for(
                lambda count=count: (
                    len([r for r in _scheduled_runs(app, widget_id) if r.status == "completed"])
                    >= count
                ),
                timeout=20,
            )
        panel.get_by_role("button", name="Disable").click()
        expect(panel.locator("[data-schedule]")).to_contain_text("disabled")
        wait_for(lambda: not [r for r in _scheduled_runs(app, widget_id) if r.is_active])
        before = len(_scheduled_runs(app, widget_id))
        _schedule_due_now(app, widget_id)
        time.sleep(1.5)  # several scheduler ticks: a disabled schedule must not fire
    assert before >= 2 and len(_scheduled_runs(app, widget_id)) == before

    panel.get_by_role("link", name="History of every run →").click()
    history = page.locator("#tasks-panel")
    expect(history.get_by_role("heading", name="History")).to_be_visible()
    runs = history.locator("[data-run]")
    expect(runs).to_have_count(before)
    expect(runs.first).to_contain_text("using ***")
    expect(runs.first).to_contain_text("by schedule")
    assert API_KEY not in page.content()
