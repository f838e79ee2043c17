"""Schedules: next-occurrence arithmetic, exactly-once claiming, skips, late runs, retention."""

from datetime import datetime, timedelta

import pytest

from pyspace.extensions import db
from pyspace.models import Run, Schedule, Widget
from pyspace.runs import history
from pyspace.tasks import schedules
from pyspace.tasks.schedules import Interval, ScheduleError

from .helpers import TASK_CONFIG

TASK_CODE = """
import anvil.server

@anvil.server.background_task
def refresh():
    print('refreshed')

@anvil.server.background_task('renamed')
def other():
    pass

@anvil.server.callable
def not_a_task():
    pass
"""


@pytest.fixture
def app_config(app_config):
    return {**app_config, **TASK_CONFIG}


@pytest.fixture
def widget_id(alice):
    return alice.create_widget("Scheduled", server_code=TASK_CODE)


def _schedule(every, n=1, at_hour=0, at_minute=0, weekday=0, created=None) -> Schedule:
    return Schedule(
        widget_id="w",
        task_name="t",
        every=every,
        n=n,
        at_hour=at_hour,
        at_minute=at_minute,
        weekday=weekday,
        created_at=created or datetime(2026, 1, 5, 10, 7, 30),  # a Monday
    )


def test_background_task_names_are_read_from_the_code_without_running_it():
    assert schedules.background_task_names(TASK_CODE) == ["refresh", "renamed"]
    assert schedules.background_task_names("def broken(:\n") == []
    assert schedules.background_task_names("import os\nos.system('x')\n") == []


@pytest.mark.parametrize(
    ("schedule", "after", "expected"),
    [
        (_schedule("minute", 5), datetime(2026, 1, 5, 10, 7, 30), datetime(2026, 1, 5, 10, 12)),
        (_schedule("minute", 5), datetime(2026, 1, 5, 10, 12, 0), datetime(2026, 1, 5, 10, 17)),
        (_schedule("minute", 5), datetime(2026, 1, 5, 13, 0, 59), datetime(2026, 1, 5, 13, 2)),
        (
            _schedule("hour", 2, at_minute=30),
            datetime(2026, 1, 5, 10, 7),
            datetime(2026, 1, 5, 10, 30),
        ),
        (
            _schedule("hour", 2, at_minute=30),
            datetime(2026, 1, 5, 10, 30),
            datetime(2026, 1, 5, 12, 30),
        ),
        (
            _schedule("day", at_hour=9, at_minute=15),
            datetime(2026, 1, 5, 10, 0),
            datetime(2026, 1, 6, 9, 15),
        ),
        (
            _schedule("day", at_hour=23, at_minute=59),
            datetime(2026, 1, 5, 10, 0),
            datetime(2026, 1, 5, 23, 59),
        ),
        (
            _schedule("week", at_hour=8, at_minute=0, weekday=2),
            datetime(2026, 1, 5, 10, 0),
            datetime(2026, 1, 7, 8, 0),
        ),
        (
            _schedule("week", at_hour=8, at_minute=0, weekday=0),
            datetime(2026, 1, 5, 10, 0),
            datetime(2026, 1, 12, 8, 0),
        ),
    ],
)
def test_next_occurrence_is_the_first_one_strictly_after(schedule, after, expected):
    assert schedules.next_occurrence(schedule, after) == expected


def test_intervals_below_the_minimum_are_refused_naming_the_field():
    with pytest.raises(ScheduleError) as refused:
        schedules.check_interval(Interval("minute", n=4), min_minutes=5)
    assert refused.value.field == "n"
    schedules.check_interval(Interval("minute", n=5), min_minutes=5)
    with pytest.raises(ScheduleError) as refused:
        schedules.check_interval(Interval("day", at_hour=24), min_minutes=5)
    assert refused.value.field == "at_hour"


def test_daily_schedules_without_a_minute_get_a_stable_spread_minute(app, widget_id):
    with app.app_context():
        widget = db.session.get(Widget, widget_id)
        first = schedules.create_schedule(widget, "refresh", Interval("day", at_hour=6))
        second = schedules.create_schedule(widget, "refresh", Interval("day", at_hour=6))
        chosen = {first.at_minute, second.at_minute}
        minutes = {schedules.stable_minute(f"widget{n}", "refresh") for n in range(50)}
    assert chosen == {schedules.stable_minute(widget_id, "refresh")}
    assert len(minutes) > 20  # spread over the hour, not all at :00


def _due_schedule(app, widget_id, every="minute", n=1) -> int:
    with app.app_context():
        widget = db.session.get(Widget, widget_id)
        schedule = schedules.create_schedule(widget, "refresh", Interval(every, n=n))
        return schedule.id


def _runs(app, schedule_id):
    with app.app_context():
        db.session.expire_all()
        runs = db.session.scalars(
            db.select(Run).filter_by(schedule_id=schedule_id).order_by(Run.id)
        ).all()
        db.session.expunge_all()
        return runs


def test_an_occurrence_claimed_by_one_scheduler_is_not_fired_by_another(app, widget_id):
    schedule_id = _due_schedule(app, widget_id)
    with app.app_context():
        schedule = db.session.get(Schedule, schedule_id)
        due = schedule.next_run_at
        now = due + timedelta(seconds=1)
        first = [run.scheduled_for for run in schedules.fire_due(now)]
        # A second scheduler that read the same due row before the first moved it on:
        stale = schedules._claim(schedule_id, due, now)
        again = schedules.fire_due(now)
        db.session.refresh(schedule)
        assert schedule.next_run_at == due + timedelta(minutes=1)
    assert first == [due]
    assert stale is None and again == []
    assert [(run.status, run.actor_id) for run in _runs(app, schedule_id)] == [("queued", None)]


def test_an_occurrence_is_skipped_while_the_previous_run_is_still_going(app, widget_id):
    schedule_id = _due_schedule(app, widget_id)
    with app.app_context():
        due = db.session.get(Schedule, schedule_id).next_run_at
        schedules.fire_due(due)  # queued, never executed: still going
        schedules.fire_due(due + timedelta(minutes=1))
    assert [run.status for run in _runs(app, schedule_id)] == ["queued", "skipped"]


def test_after_downtime_a_missed_occurrence_runs_once_late_without_a_backlog(app, widget_id):
    schedule_id = _due_schedule(app, widget_id, n=5)
    with app.app_context():
        due = db.session.get(Schedule, schedule_id).next_run_at
        back_up = due + timedelta(hours=3, seconds=20)  # 36 occurrences were missed
        made = schedules.fire_due(back_up)
        assert len(made) == 1 and made[0].scheduled_for == due
        following = db.session.get(Schedule, schedule_id).next_run_at
    assert back_up < following <= back_up + timedelta(minutes=5)


def test_disabled_schedules_do_not_fire_and_enabling_starts_from_the_future(app, widget_id):
    schedule_id = _due_schedule(app, widget_id)
    with app.app_context():
        schedule = db.session.get(Schedule, schedule_id)
        schedules.set_enabled(schedule, False)
        assert schedules.fire_due(schedule.next_run_at + timedelta(hours=1)) == []
        schedules.set_enabled(schedule, True)
        assert schedule.next_run_at > schedule.created_at
    assert _runs(app, schedule_id) == []


def test_three_failures_in_a_row_make_a_failing_schedule_and_a_success_clears_it(app, widget_id):
    from pyspace.sandbox.results import RunResult, failed

    schedule_id = _due_schedule(app, widget_id)
    with app.app_context():
        for outcome in (failed("ValueError", "x"),) * 3:
            run = history.new_run(widget_id, "scheduled", None, schedule_id=schedule_id)
            history.claim_run(run.id)
            history.finish_run(run.id, outcome)
        assert [s.id for s in schedules.failing_schedules([widget_id])] == [schedule_id]
        run = history.new_run(widget_id, "scheduled", None, schedule_id=schedule_id)
        history.finish_run(run.id, RunResult(ok=True))
        assert schedules.failing_schedules([widget_id]) == []


def test_history_keeps_at_most_the_newest_runs_and_none_older_than_the_limit(app, widget_id):
    from pyspace.models import utcnow
    from pyspace.sandbox.results import RunResult

    app.config.update(HISTORY_MAX_RUNS=3, HISTORY_MAX_DAYS=30)
    with app.app_context():
        old = history.new_run(widget_id, "run", None)
        old.created_at = utcnow() - timedelta(days=31)
        old.status = "completed"
        active_id = history.new_run(widget_id, "task", None).id  # queued: never pruned
        db.session.commit()
        ids = []
        for _ in range(5):
            run = history.new_run(widget_id, "run", None)
            history.finish_run(run.id, RunResult(ok=True))
            ids.append(run.id)
        kept = db.session.scalars(db.select(Run.id).filter_by(widget_id=widget_id)).all()
    assert sorted(kept) == sorted([active_id, *ids[-3:]])


def test_history_drops_runs_older_than_the_limit_even_when_few(app, widget_id):
    from pyspace.models import utcnow

    app.config.update(HISTORY_MAX_RUNS=100, HISTORY_MAX_DAYS=30)
    with app.app_context():
        old = history.new_run(widget_id, "run", None)
        old.created_at = utcnow() - timedelta(days=31)
        old.status = "completed"
        recent = history.new_run(widget_id, "run", None)
        recent.created_at = utcnow() - timedelta(days=29)
        recent.status = "completed"
        db.session.commit()
        old_id, recent_id = old.id, recent.id
        assert history.prune_history(widget_id) == 1
        kept = db.session.scalars(db.select(Run.id).filter_by(widget_id=widget_id)).all()
    assert kept == [recent_id] and old_id not in kept


def test_a_dead_workers_running_run_becomes_missing(app, widget_id):
    from pyspace.models import utcnow

    with app.app_context():
        run = history.new_run(widget_id, "task", None, task_name="refresh")
        history.claim_run(run.id)
        run.heartbeat_at = utcnow() - timedelta(seconds=60)
        db.session.commit()
        fresh = history.new_run(widget_id, "task", None, task_name="refresh")
        history.claim_run(fresh.id)
        dead_id, fresh_id = run.id, fresh.id
        assert history.mark_missing(timedelta(seconds=10)) == [dead_id]
        db.session.expire_all()
        assert db.session.get(Run, dead_id).status == "missing"
        assert db.session.get(Run, fresh_id).status == "running"
