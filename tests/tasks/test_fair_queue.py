"""The queue is shared fairly between accounts: scheduled runs count against the per-account
task cap (TASKS_PER_USER) like launched ones, the consumer hands out runs round-robin across
accounts rather than first-come, and a widget and an account have a most schedules.

The timing tests run real queue consumers (threads taking messages off the app's Huey queue)
and real sandboxes."""

import time
from datetime import timedelta

import pytest

from pyspace.extensions import db
from pyspace.models import Run, Schedule, Widget, utcnow
from pyspace.runs import history
from pyspace.runs.execution import launch_task
from pyspace.tasks import schedules
from pyspace.tasks.schedules import Interval, ScheduleError

from .helpers import TASK_CONFIG, consumer, runs_of, wait_for

NAP_CODE = """
import time
import anvil.server

@anvil.server.background_task
def nap(seconds=20):
    time.sleep(seconds)
    return seconds
"""


@pytest.fixture
def app_config(app_config):
    # Sandboxes are not what limits an account here (as on a site that allows more runs at
    # once per account): the task cap and the queue's order must hold on their own.
    return {**app_config, **TASK_CONFIG, "TASK_WALL_SECONDS": 40.0, "RUN_PER_USER_CONCURRENT": 10}


@pytest.fixture
def account_widget(app, make_user):
    """Makes an account named `username` with a widget of `nap`; returns the widget's id."""

    def make(username: str) -> str:
        owner_id = make_user(username)
        with app.app_context():
            widget = Widget(owner_id=owner_id, title="Napper", server_code=NAP_CODE)
            db.session.add(widget)
            db.session.commit()
            return widget.id

    return make


def _schedules_due_now(app, widget_id: str, count: int) -> None:
    """`count` hourly schedules of `nap` (20 s), all due now."""
    app.config["SCHEDULES_PER_WIDGET"] = max(count, 5)
    with app.app_context():
        widget = db.session.get(Widget, widget_id)
        for _ in range(count):
            schedules.create_schedule(widget, "nap", Interval("hour", n=1))
        db.session.execute(
            db.update(Schedule)
            .where(Schedule.widget_id == widget_id)
            .values(next_run_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()


def test_an_occurrence_finding_the_task_cap_full_is_skipped_with_the_reason(app, account_widget):
    widget_id = account_widget("ann")
    _schedules_due_now(app, widget_id, 3)
    with app.app_context():
        made = schedules.fire_due()
        assert sorted(run.status for run in made) == ["queued", "queued", "skipped"]
        skipped = next(run for run in made if run.status == "skipped")
        assert "Too many background tasks" in skipped.error_message
        assert "at most 2 queued or running" in skipped.error_message
        assert history.active_task_count(db.session.get(Widget, widget_id).owner_id) == 2


def test_launched_tasks_fill_the_cap_that_scheduled_ones_then_find_full(app, account_widget):
    widget_id = account_widget("ann")
    with app.app_context():
        for _ in range(2):
            launch_task(widget_id, "nap", [1], {}, None)
    _schedules_due_now(app, widget_id, 1)
    with app.app_context():
        [run] = schedules.fire_due()
        assert run.status == "skipped" and run.finished_at is not None


def test_while_one_accounts_schedules_fill_its_cap_another_accounts_task_starts_promptly(
    app, account_widget
):
    hog = account_widget("hog")
    _schedules_due_now(app, hog, 6)
    other = account_widget("other")
    with app.app_context():
        schedules.fire_due()
    # Three workers, two of them taken by the hog's scheduled naps (20 s each).
    with consumer(app, threads=3):
        wait_for(lambda: len([r for r in runs_of(app, hog) if r.status == "running"]) == 2)
        with app.app_context():
            launched = launch_task(other, "nap", [0], {}, None)
            queued_at = launched.created_at
        [started] = wait_for(
            lambda: [r for r in runs_of(app, other) if r.started_at is not None], timeout=30
        )
        assert (started.started_at - queued_at).total_seconds() < 5
        with app.app_context():
            for run in runs_of(app, hog):
                db.session.execute(
                    db.update(Run).where(Run.id == run.id).values(kill_requested=True)
                )
            db.session.commit()
    statuses = sorted(run.status for run in runs_of(app, hog))
    assert statuses.count("skipped") == 4
    assert statuses.count("killed") == 2


def test_a_flood_of_one_accounts_tasks_delays_anothers_start_by_at_most_one_slot(
    app, account_widget
):
    app.config["TASKS_PER_USER"] = 100
    flooder, other = account_widget("flooder"), account_widget("other")
    with app.app_context():
        flood = [launch_task(flooder, "nap", [0.5], {}, None).id for _ in range(6)]
    with consumer(app, threads=1):
        wait_for(lambda: any(r.status == "running" for r in runs_of(app, flooder)))
        with app.app_context():
            launch_task(other, "nap", [0], {}, None)
        wait_for(lambda: all(not r.is_active for r in runs_of(app, other)), timeout=40)
        [mine] = runs_of(app, other)
        started_before = [
            r for r in runs_of(app, flooder) if r.started_at and r.started_at < mine.started_at
        ]
    # Only the flood's run that was already going when the other account's task was queued.
    assert [r.id for r in started_before] == flood[:1]


def test_the_fair_claim_goes_round_robin_across_accounts(app, account_widget):
    app.config["TASKS_PER_USER"] = 100
    ann, ben, cat = (account_widget(name) for name in ("ann", "ben", "cat"))
    with app.app_context():
        owner_of = {}
        for widget_id, count in ((ann, 3), (ben, 2), (cat, 1)):
            for _ in range(count):
                owner_of[history.new_run(widget_id, "task", None, task_name="nap").id] = widget_id
        order = []
        while (run_id := history.claim_next_run()) is not None:
            order.append(owner_of[run_id])
            # Finished at once: only when each account was last served decides the order.
            db.session.execute(db.update(Run).where(Run.id == run_id).values(status="completed"))
            db.session.commit()
            time.sleep(0.002)
    assert order == [ann, ben, cat, ann, ben, ann]


def test_the_fair_claim_prefers_the_account_with_fewer_runs_running(app, account_widget):
    app.config["TASKS_PER_USER"] = 100
    busy, idle = account_widget("busy"), account_widget("idle")
    with app.app_context():
        history.new_run(busy, "task", None, task_name="nap")
        assert history.claim_next_run() is not None  # the busy account's first: running
        history.new_run(busy, "task", None, task_name="nap")
        waiting = history.new_run(idle, "task", None, task_name="nap").id
        assert history.claim_next_run() == waiting


def test_a_widget_has_at_most_schedules_per_widget(app, account_widget):
    app.config["SCHEDULES_PER_WIDGET"] = 2
    widget_id = account_widget("ann")
    with app.app_context():
        widget = db.session.get(Widget, widget_id)
        for _ in range(2):
            schedules.create_schedule(widget, "nap", Interval("hour", n=1))
        with pytest.raises(ScheduleError, match=r"the most one widget may have here \(2\)"):
            schedules.create_schedule(widget, "nap", Interval("hour", n=1))


def test_an_account_has_at_most_schedules_per_user_across_its_widgets(app, account_widget):
    app.config["SCHEDULES_PER_USER"] = 3
    first = account_widget("ann")
    with app.app_context():
        widget = db.session.get(Widget, first)
        second = Widget(owner_id=widget.owner_id, title="Second", server_code=NAP_CODE)
        db.session.add(second)
        db.session.commit()
        for target in (widget, widget, second):
            schedules.create_schedule(target, "nap", Interval("hour", n=1))
        with pytest.raises(ScheduleError, match=r"the most one account may have here \(3\)"):
            schedules.create_schedule(second, "nap", Interval("hour", n=1))


def test_the_schedules_form_says_why_past_the_widget_limit(app, alice):
    app.config["SCHEDULES_PER_WIDGET"] = 1
    widget_id = alice.create_widget("Napper", server_code=NAP_CODE)
    form = {"task_name": "nap", "every": "hour", "n": "1"}
    assert alice.post(f"/widgets/{widget_id}/schedules", form, htmx=True).status_code == 200
    refused = alice.post(f"/widgets/{widget_id}/schedules", form, htmx=True)
    assert refused.status_code == 422
    assert "the most one widget may have here (1)" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Schedule)) == 1


def test_queue_workers_default_to_four_per_core_and_at_least_eight(app, monkeypatch):
    from pyspace.runs.queue import queue_workers

    monkeypatch.setattr("os.cpu_count", lambda: 1)
    assert queue_workers(app) == 8
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    assert queue_workers(app) == 32
    app.config["QUEUE_WORKERS"] = 3
    assert queue_workers(app) == 3
