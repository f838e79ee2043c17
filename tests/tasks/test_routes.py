"""The Scheduled Tasks and History panels (htmx and no-JS), and every run being recorded."""

import json

import pytest

from pyspace.extensions import db
from pyspace.models import Run, Schedule
from tests.sandbox.helpers import add_secret, run_json

from .helpers import TASK_CONFIG, runs_of

CODE = """
import anvil.secrets
import anvil.server

@anvil.server.background_task
def refresh():
    print('refreshing with', anvil.secrets.get_secret('api_key'))

@anvil.server.callable
def greet(name):
    print('key', anvil.secrets.get_secret('api_key'))
    return 'hello ' + name

if __name__ == "__main__":
    print('pressed', anvil.secrets.get_secret('api_key'))
"""
SECRET_VALUE = "wx-0b7c1d9e3f-history-secret"
HX = {"HX-Request": "true"}
JSON = {"Accept": "application/json"}


@pytest.fixture
def app_config(app_config):
    return {**app_config, **TASK_CONFIG, "SCHEDULE_MIN_MINUTES": 5}


@pytest.fixture
def widget_id(app, alice):
    widget_id = alice.create_widget("Weather", server_code=CODE)
    add_secret(app, widget_id, "api_key", SECRET_VALUE)
    return widget_id


def _schedules(app, widget_id):
    with app.app_context():
        rows = db.session.scalars(db.select(Schedule).filter_by(widget_id=widget_id)).all()
        return [(s.id, s.task_name, s.every, s.n, s.enabled) for s in rows]


def test_the_editor_has_a_scheduled_tasks_button_next_to_secrets(alice, widget_id):
    page = alice.client.get(f"/widgets/{widget_id}/edit").get_data(as_text=True)
    secrets_at = page.index(">Secrets</a>")
    tasks_at = page.index(">Scheduled Tasks</a>")
    assert 0 < tasks_at - secrets_at < 600
    assert f'hx-get="/widgets/{widget_id}/schedules"' in page
    assert 'id="tasks-panel"' in page


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "no-js"])
def test_the_panel_offers_the_saved_codes_background_tasks(alice, widget_id, htmx):
    response = alice.client.get(f"/widgets/{widget_id}/schedules", headers=HX if htmx else {})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert ('<option value="refresh">refresh</option>' in body) or 'value="refresh"' in body
    assert "greet" not in body  # a callable is not a background task
    assert ("<html" in body) is not htmx
    assert "exactly once" in body
    assert response.headers["Cache-Control"] == "no-store"


def test_adding_a_schedule_answers_the_panel_with_it(app, alice, widget_id):
    response = alice.post(
        f"/widgets/{widget_id}/schedules",
        {"task_name": "refresh", "every": "day", "n": "1", "at_hour": "6", "at_minute": "30"},
        htmx=True,
    )
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "every day at 06:30 UTC" in body and "Next run:" in body
    assert _schedules(app, widget_id)[0][1:] == ("refresh", "day", 1, True)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"task_name": "greet", "every": "hour"}, "task_name", "Not a valid choice"),
        ({"task_name": "refresh", "every": "minute", "n": "2"}, "n", "at most every 5 minutes"),
        ({"task_name": "refresh", "every": "day", "at_hour": "25"}, "at_hour", "between 0"),
        ({"task_name": "refresh", "every": "fortnight"}, "every", "Not a valid choice"),
    ],
)
def test_an_invalid_schedule_is_422_with_the_message_next_to_its_field(
    app, alice, widget_id, data, field, message
):
    response = alice.post(f"/widgets/{widget_id}/schedules", data, htmx=True)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    label_start = body.index(f'for="{field}"')
    assert message in body[label_start : label_start + 1500]
    assert _schedules(app, widget_id) == []


def test_run_now_enable_disable_and_delete(app, alice, widget_id):
    alice.post(f"/widgets/{widget_id}/schedules", {"task_name": "refresh", "every": "hour"})
    ((schedule_id, *_),) = _schedules(app, widget_id)
    base = f"/widgets/{widget_id}/schedules/{schedule_id}"
    assert alice.post(f"{base}/disable", htmx=True).status_code == 200
    assert _schedules(app, widget_id)[0][-1] is False
    assert alice.post(f"{base}/enable", htmx=True).status_code == 200
    assert _schedules(app, widget_id)[0][-1] is True
    assert alice.post(f"{base}/run-now", htmx=True).status_code == 200
    (run,) = runs_of(app, widget_id)
    assert (run.kind, run.status, run.schedule_id, run.task_name) == (
        "scheduled",
        "queued",
        schedule_id,
        "refresh",
    )
    # Without JavaScript the same buttons answer with the panel page.
    response = alice.post(f"{base}/delete")
    assert response.status_code == 200 and "<html" in response.get_data(as_text=True)
    assert _schedules(app, widget_id) == []
    assert len(runs_of(app, widget_id)) == 1  # the history stays


def test_a_schedule_of_another_widget_is_404(app, alice, widget_id):
    other_id = alice.create_widget("Other", server_code=CODE)
    alice.post(f"/widgets/{other_id}/schedules", {"task_name": "refresh", "every": "hour"})
    ((schedule_id, *_),) = _schedules(app, other_id)
    response = alice.post(f"/widgets/{widget_id}/schedules/{schedule_id}/delete")
    assert response.status_code == 404
    assert len(_schedules(app, other_id)) == 1


def test_every_run_press_and_gui_call_is_recorded_redacted(app, alice, widget_id):
    from pyspace.runs.execution import call_and_record

    answer = run_json(alice, widget_id)
    assert answer["stdout"] == "pressed ***\n"
    with app.app_context():
        from pyspace.models import Widget

        widget = db.session.get(Widget, widget_id)
        # The owner's GUI call: its output is recorded masked (anyone else's would be withheld).
        result = call_and_record(widget, "greet", ["Ann"], {}, widget.owner_id)
        assert result.as_call_result() == {"ok": True, "result": "hello Ann"}
    history = alice.client.get(f"/widgets/{widget_id}/history", headers=JSON)
    assert history.status_code == 200
    runs = history.get_json()["runs"]
    assert [run["kind"] for run in runs] == ["call", "run"]  # newest first
    call, press = runs
    assert set(press) == {
        "id",
        "kind",
        "task_name",
        "schedule_id",
        "status",
        "scheduled_for",
        "started_at",
        "finished_at",
        "duration_ms",
        "stdout",
        "stderr",
        "error",
        "state",
        "return_value",
    }
    assert press["status"] == "completed" and press["stdout"] == "pressed ***\n"
    assert press["error"] is None and press["duration_ms"] >= 0
    assert call["task_name"] == "greet" and call["return_value"] == "hello Ann"
    assert call["stdout"].endswith("key ***\n")
    assert SECRET_VALUE not in history.get_data(as_text=True)


def test_a_failed_run_is_recorded_with_its_error(app, alice):
    widget_id = alice.create_widget("Broken", server_code="raise ValueError('nope')")
    run_json(alice, widget_id)
    (run,) = alice.client.get(f"/widgets/{widget_id}/history", headers=JSON).get_json()["runs"]
    assert run["status"] == "failed"
    assert run["error"] == {"type": "ValueError", "message": "nope"}


def test_history_pages_and_filters(app, alice, widget_id):
    from pyspace.runs import history

    with app.app_context():
        for n in range(25):
            kind = "task" if n % 5 == 0 else "run"
            history.new_run(widget_id, kind, None, task_name=f"t{n}" if kind == "task" else None)
    first = alice.client.get(f"/widgets/{widget_id}/history", headers=JSON).get_json()["runs"]
    second = alice.client.get(f"/widgets/{widget_id}/history?page=2", headers=JSON).get_json()[
        "runs"
    ]
    assert len(first) == 20 and len(second) == 5
    assert [run["id"] for run in first + second] == sorted(
        (run["id"] for run in first + second), reverse=True
    )
    tasks = alice.client.get(
        f"/widgets/{widget_id}/history?kind=task&status=queued", headers=JSON
    ).get_json()["runs"]
    assert [run["task_name"] for run in tasks] == ["t20", "t15", "t10", "t5", "t0"]
    page = alice.client.get(f"/widgets/{widget_id}/history", headers=HX).get_data(as_text=True)
    assert "Older →" in page and "<html" not in page
    assert page.count("data-run ") + page.count("data-run>") == 20


def test_history_shows_state_and_output_as_stored(app, alice, widget_id):
    from pyspace.runs import history

    with app.app_context():
        run = history.new_run(widget_id, "task", None, task_name="refresh")
        run.state_json = json.dumps({"progress": 50})
        run.stdout = "<script>alert(1)</script>"
        db.session.commit()
    page = alice.client.get(f"/widgets/{widget_id}/history").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "progress" in page and "by an anonymous visitor" in page


def test_a_failing_schedule_is_warned_about_in_the_editor_and_on_the_home_page(
    app, alice, widget_id
):
    alice.post(f"/widgets/{widget_id}/schedules", {"task_name": "refresh", "every": "hour"})
    with app.app_context():
        db.session.execute(db.update(Schedule).values(failure_streak=3))
        db.session.commit()
    for url in (f"/widgets/{widget_id}/edit", "/"):
        page = alice.client.get(url).get_data(as_text=True)
        assert "data-failing-schedules" in page and "failed 3 times in a row" in page, url


def test_runs_are_deleted_with_their_widget(app, alice, widget_id):
    run_json(alice, widget_id)
    alice.post(f"/widgets/{widget_id}/delete")
    with app.app_context():
        assert db.session.scalars(db.select(Run)).all() == []


def test_run_now_past_the_per_account_limit_is_refused_with_the_reason(app, alice, widget_id):
    app.config["TASKS_PER_USER"] = 1
    alice.post(f"/widgets/{widget_id}/schedules", {"task_name": "refresh", "every": "hour"})
    ((schedule_id, *_),) = _schedules(app, widget_id)
    url = f"/widgets/{widget_id}/schedules/{schedule_id}/run-now"
    assert alice.post(url, htmx=True).status_code == 200  # queued (no consumer here)
    refused = alice.post(url, htmx=True)
    assert refused.status_code == 422
    assert "Too many background tasks" in refused.get_data(as_text=True)
    assert len(runs_of(app, widget_id)) == 1


def test_a_scheduled_run_shows_its_owner_the_output_masked_not_withheld(app, alice, widget_id):
    from pyspace.runs.queue import work_once
    from pyspace.tasks.schedules import fire_due

    alice.post(f"/widgets/{widget_id}/schedules", {"task_name": "refresh", "every": "hour"})
    with app.app_context():
        due = db.session.scalar(db.select(Schedule.next_run_at).filter_by(widget_id=widget_id))
        [run] = fire_due(now=due)
        assert run.actor_id is None  # the timetable fired it, not a person
    assert work_once(app)
    runs = alice.client.get(f"/widgets/{widget_id}/history", headers=JSON).get_json()["runs"]
    assert [(r["kind"], r["status"], r["stdout"]) for r in runs] == [
        ("scheduled", "completed", "refreshing with ***\n")
    ]


@pytest.mark.parametrize("launcher", ["visitor", "anonymous"])
def test_a_task_someone_else_launched_has_its_secret_output_withheld_whole(
    app, alice, bob, widget_id, launcher
):
    from pyspace.models import User
    from pyspace.runs import history
    from pyspace.runs.queue import enqueue_run, work_once

    with app.app_context():
        bob_id = db.session.scalar(db.select(User.id).filter_by(username="bob"))
        run = history.new_run(
            widget_id, "task", bob_id if launcher == "visitor" else None, task_name="refresh"
        )
        enqueue_run(run.id)
    assert work_once(app)
    [task] = runs_of(app, widget_id)
    assert task.status == "completed"
    assert task.stdout == "Output hidden: it contained a secret value"
