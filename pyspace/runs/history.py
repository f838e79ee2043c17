"""The run history: one `Run` row for every execution of a widget's code, and its retention.

Every place that runs code records through here (`start_run` / `finish_run`): Run presses, GUI
server calls, background tasks and scheduled occurrences. What is stored comes from a
`RunResult`, which the runner has already redacted; a task's `task_state` is redacted by its
channel service before it is stored. Nothing here decrypts anything.
"""

import functools
import json
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, delete, func, or_, select, update

from ..database import begin_bookkeeping, rows_changed
from ..extensions import db
from ..models import ACTIVE_RUN_STATUSES, Run, Schedule, utcnow
from ..sandbox.results import RunResult

HISTORY_PAGE_SIZE = 20
# How much of a run's output the history keeps (the runner already caps what a run may print).
STORED_OUTPUT_CHARS = 64 * 1024
FAILED_STATUSES = ("failed", "killed", "missing")


def worker_name() -> str:
    """This process, as recorded on the runs it executes (host:pid)."""
    return f"{_host_name()}:{os.getpid()}"[:100]


@functools.cache
def _host_name() -> str:
    # Asked once per process: every Run press records it.
    return socket.gethostname()


def new_run(widget_id: str, kind: str, actor_id: int | None, **fields) -> Run:
    """A new queued run (committed): the id the queue carries."""
    run = Run(widget_id=widget_id, kind=kind, actor_id=actor_id, status="queued", **fields)
    db.session.add(run)
    db.session.commit()
    return run


def record_finished(
    widget_id: str,
    kind: str,
    actor_id: int | None,
    result: RunResult,
    started_at: datetime,
    **fields,
) -> Run:
    """Record a run that already ran here (an interactive run in the web process): one insert
    and the widget's retention, in one commit that does not wait for the disk, so a Run press
    pays for one write and no sync."""
    begin_bookkeeping()
    run = Run(
        widget_id=widget_id,
        kind=kind,
        actor_id=actor_id,
        started_at=started_at,
        worker=worker_name(),
        **fields,
    )
    db.session.add(run)
    _store_outcome(run, result, killed=False)
    prune_history(widget_id, commit=False)
    db.session.commit()
    return run


def claim_run(run_id: int) -> bool:
    """Mark a queued run as running here; False if it is not queued any more (killed before it
    started, or already taken by another worker the queue delivered it to)."""
    now = utcnow()
    claimed = rows_changed(
        update(Run)
        .where(Run.id == run_id, Run.status == "queued")
        .values(status="running", started_at=now, heartbeat_at=now, worker=worker_name())
    )
    db.session.commit()
    return claimed == 1


def finish_run(run_id: int, result: RunResult, killed: bool = False) -> Run | None:
    """Store a run's (already redacted) outcome, update its schedule's failure streak, and
    apply the widget's retention. Returns the run, or None if it was deleted meanwhile."""
    run = db.session.get(Run, run_id, populate_existing=True)
    if run is None:
        return None
    _store_outcome(run, result, killed)
    _count_towards_streak(run)
    prune_history(run.widget_id, commit=False)  # in the same transaction: one commit per run
    db.session.commit()
    return run


def _store_outcome(run: Run, result: RunResult, killed: bool) -> None:
    error = result.error
    if killed:
        status = "killed"
    elif result.ok:
        status = "completed"
    elif error and error.get("type") == "TimeLimitExceeded" and run.kind in ("task", "scheduled"):
        status = "killed"
    else:
        status = "failed"
    now = utcnow()
    run.status = status
    run.finished_at = now
    run.duration_ms = int(result.duration_ms)
    run.stdout = result.stdout[:STORED_OUTPUT_CHARS]
    run.stderr = result.stderr[:STORED_OUTPUT_CHARS]
    if killed:
        run.error_type, run.error_message = "BackgroundTaskKilled", "The task was killed."
    elif error:
        run.error_type = str(error.get("type", "Error"))[:100]
        run.error_message = str(error.get("message", ""))
        run.error_traceback = str(error.get("traceback") or "") or None
    run.return_json = json.dumps(result.result) if result.ok and result.result is not None else None
    # Once set (also by a task_state that held a value), it stays set.
    run.held_secret = bool(run.held_secret) or result.held_secret
    run.withheld_fields = ",".join(sorted(result.withheld)) or None
    run.args_json = None  # a launch's arguments are only needed until it ran


def mark_missing(stale_after: timedelta) -> list[int]:
    """Runs whose worker stopped beating for `stale_after` become `missing` (never silently
    lost); returns their ids."""
    cutoff = utcnow() - stale_after
    ids = db.session.scalars(
        select(Run.id).where(Run.status == "running", Run.heartbeat_at < cutoff)
    ).all()
    for run_id in ids:
        changed = rows_changed(
            update(Run)
            .where(Run.id == run_id, Run.status == "running", Run.heartbeat_at < cutoff)
            .values(
                status="missing",
                finished_at=utcnow(),
                error_type="WorkerLost",
                error_message="The worker running this task stopped answering; "
                "the task's outcome is unknown.",
                args_json=None,
            )
        )
        if changed:
            run = db.session.get(Run, run_id, populate_existing=True)
            if run is not None:
                _count_towards_streak(run)
    db.session.commit()
    return list(ids)


def _count_towards_streak(run: Run) -> None:
    if run.schedule_id is None:
        return
    # One more failure, counted in the UPDATE itself (two workers finishing at once both count).
    streak: ColumnElement[int] | int
    if run.status in FAILED_STATUSES:
        streak = Schedule.failure_streak + 1
    elif run.status == "completed":
        streak = 0
    else:
        return
    db.session.execute(
        update(Schedule).where(Schedule.id == run.schedule_id).values(failure_streak=streak)
    )


def prune_history(widget_id: str, commit: bool = True) -> int:
    """Delete the widget's finished runs beyond HISTORY_MAX_RUNS (newest kept) or older than
    HISTORY_MAX_DAYS; returns how many went."""
    keep = max(1, int(current_app.config["HISTORY_MAX_RUNS"]))
    oldest = utcnow() - timedelta(days=int(current_app.config["HISTORY_MAX_DAYS"]))
    finished = (Run.widget_id == widget_id, Run.status.not_in(ACTIVE_RUN_STATUSES))
    # The id of the oldest run kept by count (NULL while there are fewer: `id <` it is then
    # never true). One statement, as every Run press prunes.
    boundary = (
        select(Run.id)
        .where(*finished)
        .order_by(Run.id.desc())
        .offset(keep - 1)
        .limit(1)
        .scalar_subquery()
    )
    removed = rows_changed(
        delete(Run)
        .where(*finished, or_(Run.created_at < oldest, Run.id < boundary))
        # The session holds none of the pruned runs (old, finished ones): skipping the ORM's
        # look-up of which loaded objects to update takes 1.05 ms to 0.9 ms a recorded run.
        .execution_options(synchronize_session=False)
    )
    if commit:
        db.session.commit()
    return removed


@dataclass
class HistoryPage:
    runs: list[Run]
    page: int
    has_next: bool
    kind: str
    status: str


def history_page(widget_id: str, page: int = 1, kind: str = "", status: str = "") -> HistoryPage:
    """One page of the widget's runs, newest first, filtered by kind and status if given."""
    page = max(1, page)
    query = select(Run).where(Run.widget_id == widget_id)
    if kind:
        query = query.where(Run.kind == kind)
    if status:
        query = query.where(Run.status == status)
    rows = db.session.scalars(
        query.order_by(Run.id.desc())
        .offset((page - 1) * HISTORY_PAGE_SIZE)
        .limit(HISTORY_PAGE_SIZE + 1)
    ).all()
    return HistoryPage(
        list(rows[:HISTORY_PAGE_SIZE]), page, len(rows) > HISTORY_PAGE_SIZE, kind, status
    )


def _iso(moment) -> str | None:
    return moment.isoformat() + "Z" if moment else None


def _loads(text: str | None):
    return json.loads(text) if text else None


def run_as_json(run: Run) -> dict:
    """A run as the history's JSON shows it (everything in it is already redacted)."""
    return {
        "id": run.id,
        "kind": run.kind,
        "task_name": run.task_name,
        "schedule_id": run.schedule_id,
        "status": run.status,
        "scheduled_for": _iso(run.scheduled_for),
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "duration_ms": run.duration_ms,
        "stdout": run.stdout,
        "stderr": run.stderr,
        "error": {"type": run.error_type, "message": run.error_message or ""}
        if run.error_type
        else None,
        "state": _loads(run.state_json),
        "return_value": _loads(run.return_json),
    }


def result_of(run: Run) -> RunResult:
    """A finished run as the RunResult the Run button and GUI calls show."""
    error = None
    if run.error_type:
        error = {
            "type": run.error_type,
            "message": run.error_message or "",
            "traceback": run.error_traceback or "",
        }
    return RunResult(
        ok=run.status == "completed",
        stdout=run.stdout,
        stderr=run.stderr,
        error=error,
        duration_ms=float(run.duration_ms or 0),
        result=_loads(run.return_json),
        withheld=set(run.withheld_fields.split(",")) if run.withheld_fields else set(),
        held_secret=run.held_secret,
    )


def active_task_count(owner_id: int) -> int:
    """Background and scheduled tasks of `owner_id`'s widgets that are queued or running."""
    from ..models import Widget

    count = db.session.scalar(
        select(func.count())
        .select_from(Run)
        .join(Widget, Widget.id == Run.widget_id)
        .where(
            Widget.owner_id == owner_id,
            Run.kind.in_(("task", "scheduled")),
            Run.status.in_(ACTIVE_RUN_STATUSES),
        )
    )
    return count or 0
