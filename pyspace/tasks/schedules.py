"""Schedules: intervals, the next occurrence, and firing each occurrence exactly once.

Times are naive UTC. A scheduler (`tick`, run by every queue consumer about once a second)
finds enabled schedules whose `next_run_at` has come and *claims* each occurrence with
`UPDATE schedules SET next_run_at = :next WHERE id = :id AND next_run_at = :due`: only one
process's UPDATE can match, however many run the scheduler, and the run it then inserts is
also unique per (schedule, occurrence). The next occurrence is always in the future, so after
downtime a missed occurrence runs once, late — never a backlog. If the schedule's previous run
is still queued or running, or its owner already has TASKS_PER_USER tasks queued or running
(scheduled runs count against the same cap as launched ones), the occurrence is recorded as
`skipped` with the reason.
"""

import ast
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError

from .. import quotas
from ..database import rows_changed
from ..extensions import db
from ..models import ACTIVE_RUN_STATUSES, SCHEDULE_EVERY, Run, Schedule, Widget, utcnow
from ..runs import history
from ..runs.queue import enqueue_run

log = logging.getLogger(__name__)

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
FAILURE_WARNING_STREAK = 3
MAX_N = {"minute": 60 * 24 * 7, "hour": 24 * 7, "day": 1, "week": 1}


class ScheduleError(Exception):
    """A schedule that can't be made; `field` is the form field the message belongs next to."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def background_task_names(server_code: str | list[tuple[str, str]]) -> list[str]:
    """Names of the functions the code (one source, or every (name, source) module) registers
    with `@anvil.server.background_task`, found by reading it (it is never run for this). A
    module that doesn't parse has none."""
    sources = [server_code] if isinstance(server_code, str) else [c for _n, c in server_code]
    names: list[str] = []
    for source in sources:
        try:
            tree = ast.parse(source or "")
        except (SyntaxError, ValueError):
            continue
        _collect_task_names(tree, names)
    return names


def _collect_task_names(tree: ast.AST, names: list[str]) -> None:
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for decorator in node.decorator_list:
            name = _registered_name(decorator, node.name)
            if name and name not in names:
                names.append(name)


def _registered_name(decorator: ast.expr, function_name: str) -> str | None:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    dotted = ast.unparse(target)
    if dotted not in ("anvil.server.background_task", "server.background_task", "background_task"):
        return None
    if isinstance(decorator, ast.Call):
        given = [arg.value for arg in decorator.args if isinstance(arg, ast.Constant)]
        given += [
            kw.value.value
            for kw in decorator.keywords
            if kw.arg == "name" and isinstance(kw.value, ast.Constant)
        ]
        if given and isinstance(given[0], str):
            return given[0]
    return function_name


def stable_minute(widget_id: str, task_name: str) -> int:
    """A minute of the hour that spreads daily and weekly schedules given no minute, the same
    every time for the same widget and task."""
    digest = hashlib.sha256(f"{widget_id}:{task_name}".encode()).digest()
    return digest[0] % 60


@dataclass
class Interval:
    every: str
    n: int = 1
    at_hour: int = 0
    at_minute: int | None = None
    weekday: int = 0


def check_interval(interval: Interval, min_minutes: int) -> None:
    """Raise ScheduleError naming the field if `interval` is not allowed."""
    if interval.every not in SCHEDULE_EVERY:
        raise ScheduleError("every", "Choose minutes, hours, a day or a week.")
    if interval.every in ("minute", "hour"):
        if not 1 <= interval.n <= MAX_N[interval.every]:
            raise ScheduleError("n", f"Choose between 1 and {MAX_N[interval.every]}.")
        minutes = interval.n * (60 if interval.every == "hour" else 1)
        if minutes < min_minutes:
            raise ScheduleError(
                "n", f"Schedules run at most every {min_minutes} minutes on this site."
            )
    if not 0 <= interval.at_hour <= 23:
        raise ScheduleError("at_hour", "Hours are 0–23 (UTC).")
    if interval.at_minute is not None and not 0 <= interval.at_minute <= 59:
        raise ScheduleError("at_minute", "Minutes are 0–59.")
    if not 0 <= interval.weekday <= 6:
        raise ScheduleError("weekday", "Choose a weekday.")


def next_occurrence(schedule: Schedule, after: datetime) -> datetime:
    """The schedule's first occurrence strictly after `after` (UTC, whole minutes)."""
    after = after.replace(second=0, microsecond=0)
    anchor = schedule.created_at.replace(second=0, microsecond=0)
    if schedule.every == "minute":
        step = timedelta(minutes=schedule.n)
        steps = (after - anchor) // step + 1
        return anchor + max(1, steps) * step
    if schedule.every == "hour":
        step = timedelta(hours=schedule.n)
        start = anchor.replace(minute=schedule.at_minute)
        if start <= anchor:
            start += timedelta(hours=1)
        if start > after:
            return start
        return start + ((after - start) // step + 1) * step
    at = after.replace(hour=schedule.at_hour, minute=schedule.at_minute)
    if schedule.every == "day":
        return at if at > after else at + timedelta(days=1)
    at += timedelta(days=(schedule.weekday - after.weekday()) % 7)
    return at if at > after else at + timedelta(days=7)


def create_schedule(widget: Widget, task_name: str, interval: Interval) -> Schedule:
    """Add an enabled schedule for one of the widget's background tasks (committed)."""
    schedule = new_schedule(widget, task_name, interval, enabled=True)
    db.session.commit()
    return schedule


def new_schedule(widget: Widget, task_name: str, interval: Interval, enabled: bool) -> Schedule:
    """A schedule for one of the widget's background tasks, added to the caller's transaction
    (a disabled one is what an example or a fork starts with)."""
    check_schedule_count(widget)
    if task_name not in background_task_names(widget.module_sources()):
        raise ScheduleError(
            "task_name",
            "Choose one of this widget's background tasks (functions decorated with "
            "@anvil.server.background_task in the saved server code).",
        )
    check_interval(interval, min_minutes())
    minute = interval.at_minute
    if minute is None:
        minute = 0 if interval.every == "minute" else stable_minute(widget.id, task_name)
    schedule = Schedule(
        widget_id=widget.id,
        task_name=task_name,
        every=interval.every,
        n=interval.n if interval.every in ("minute", "hour") else 1,
        at_hour=interval.at_hour,
        at_minute=minute,
        weekday=interval.weekday,
        enabled=enabled,
        created_at=utcnow(),
    )
    schedule.next_run_at = next_occurrence(schedule, schedule.created_at)
    db.session.add(schedule)
    return schedule


def check_schedule_count(widget: Widget) -> None:
    """Raise ScheduleError if the widget (SCHEDULES_PER_WIDGET) or its owner's account
    (SCHEDULES_PER_USER) already has as many schedules as it may, or the account's storage
    budget is used up."""
    if refused := quotas.new_schedules_error(widget.owner_id, widget.id, 1):
        raise ScheduleError("task_name", refused)


def task_cap_error(owner_id: int) -> str | None:
    """Why `owner_id` can't have one more task queued or running (TASKS_PER_USER), or None.
    Launched and scheduled tasks count alike."""
    limit = int(current_app.config["TASKS_PER_USER"])
    if history.active_task_count(owner_id) >= limit:
        return (
            f"Too many background tasks: an account may have at most {limit} queued or "
            "running (launched and scheduled alike)."
        )
    return None


def set_enabled(schedule: Schedule, enabled: bool) -> None:
    """Enable (from the next occurrence on) or disable a schedule."""
    schedule.enabled = enabled
    if enabled:
        schedule.next_run_at = next_occurrence(schedule, utcnow())
    db.session.commit()


def run_now(schedule: Schedule, actor_id: int) -> Run:
    """Queue the schedule's task once, now, outside its timetable (within TASKS_PER_USER, like
    a launch: raises ScheduleError past it)."""
    refused = task_cap_error(schedule.widget.owner_id)
    if refused:
        raise ScheduleError("run_now", f"{refused} Wait for one to finish and try again.")
    run = history.new_run(
        schedule.widget_id,
        "scheduled",
        actor_id,
        task_name=schedule.task_name,
        schedule_id=schedule.id,
        scheduled_for=utcnow(),
    )
    enqueue_run(run.id)
    return run


def delete_schedule(schedule: Schedule) -> None:
    db.session.delete(schedule)
    db.session.commit()


def describe(schedule: Schedule) -> str:
    """The interval in words, as the panel shows it."""
    at = f"{schedule.at_hour:02d}:{schedule.at_minute:02d} UTC"
    if schedule.every == "minute":
        return "every minute" if schedule.n == 1 else f"every {schedule.n} minutes"
    if schedule.every == "hour":
        each = "every hour" if schedule.n == 1 else f"every {schedule.n} hours"
        return f"{each} at :{schedule.at_minute:02d}"
    if schedule.every == "day":
        return f"every day at {at}"
    return f"every {WEEKDAYS[schedule.weekday]} at {at}"


def last_runs(widget_id: str) -> dict[int, Run]:
    """Each of the widget's schedules' latest run, by schedule id."""
    runs = db.session.scalars(
        select(Run)
        .where(Run.widget_id == widget_id, Run.schedule_id.is_not(None))
        .order_by(Run.id.desc())
        .limit(500)
    ).all()
    latest: dict[int, Run] = {}
    for run in runs:
        if run.schedule_id is not None:  # always, by the query
            latest.setdefault(run.schedule_id, run)
    return latest


# Built once (the editor and an owner's home page show them): see widgets/listing.py.
_FAILING = (
    select(Schedule)
    .where(
        Schedule.widget_id.in_(bindparam("widget_ids", expanding=True)),
        Schedule.failure_streak >= FAILURE_WARNING_STREAK,
    )
    .order_by(Schedule.id)
)


def failing_schedules(widget_ids: list[str]) -> list[Schedule]:
    """Schedules of these widgets whose last three runs failed."""
    if not widget_ids:
        return []
    return list(db.session.scalars(_FAILING, {"widget_ids": widget_ids}).all())


def fire_due(now: datetime | None = None) -> list[Run]:
    """Claim every due occurrence (exactly once across processes) and queue its run, or record
    it as skipped when the schedule's previous run is still going. Returns the runs made."""
    now = now or utcnow()
    due = db.session.execute(
        select(Schedule.id, Schedule.next_run_at).where(
            Schedule.enabled.is_(True), Schedule.next_run_at <= now
        )
    ).all()
    made = []
    for schedule_id, occurrence in due:
        run = _claim(schedule_id, occurrence, now)
        if run is not None:
            made.append(run)
            if run.status == "queued":
                enqueue_run(run.id)
    return made


def _claim(schedule_id: int, occurrence: datetime, now: datetime) -> Run | None:
    schedule = db.session.get(Schedule, schedule_id)
    if schedule is None:
        return None
    following = next_occurrence(schedule, now)
    claimed = rows_changed(
        update(Schedule)
        .where(
            Schedule.id == schedule_id,
            Schedule.enabled.is_(True),
            Schedule.next_run_at == occurrence,
        )
        .values(next_run_at=following)
    )
    if claimed != 1:
        db.session.rollback()  # another scheduler took this occurrence
        return None
    still_going = db.session.scalar(
        select(Run.id)
        .where(Run.schedule_id == schedule_id, Run.status.in_(ACTIVE_RUN_STATUSES))
        .limit(1)
    )
    skipped_because = None
    if still_going:
        skipped_because = "Skipped: the previous run of this schedule was still going."
    else:
        # A scheduled run takes one of its owner's TASKS_PER_USER like a launched task: an
        # account's schedules can't hold more of the queue's workers than its launches can.
        at_cap = task_cap_error(schedule.widget.owner_id)
        if at_cap:
            skipped_because = f"Skipped: {at_cap}"
    run = Run(
        widget_id=schedule.widget_id,
        kind="scheduled",
        task_name=schedule.task_name,
        schedule_id=schedule_id,
        actor_id=None,
        scheduled_for=occurrence,
        status="skipped" if skipped_because else "queued",
    )
    if skipped_because:
        run.finished_at = now
        run.error_message = skipped_because
    db.session.add(run)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # the occurrence's run exists already
        return None
    return run


def tick() -> list[Run]:
    """One pass of the scheduler: mark runs of dead workers missing, fire due occurrences."""
    history.mark_missing(_stale_after())
    return fire_due()


def _stale_after() -> timedelta:
    from ..runs.execution import stale_after

    return stale_after(current_app._get_current_object())  # type: ignore[attr-defined]


def min_minutes() -> int:
    """The shortest interval this site allows (SCHEDULE_MIN_MINUTES, at least 1)."""
    return max(1, int(current_app.config["SCHEDULE_MIN_MINUTES"]))
