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
from typing import cast

from flask import current_app
from sqlalchemy import (
    ColumnElement,
    CursorResult,
    bindparam,
    func,
    select,
    text,
    update,
)

from .. import owner_alerts, quotas
from ..bounded_input import MAX_INT
from ..counters import observe_queue_wait
from ..database import begin_bookkeeping, retry_when_busy, rows_changed
from ..extensions import db
from ..models import ACTIVE_RUN_STATUSES, Run, Schedule, Widget, utcnow
from ..sandbox.results import RunResult

HISTORY_PAGE_SIZE = 20
# How much of each text field of a run the history keeps (stdout, stderr, error message,
# traceback, return value): the start and the end of anything longer, so one run can't store
# megabytes (the runner caps what a run may print, but not what it raises or returns).
STORED_OUTPUT_CHARS = 64 * 1024
# The fields a run stores, counted against its owner's storage budget (`stored_bytes`).
STORED_FIELDS = (
    "stdout",
    "stderr",
    "error_message",
    "error_traceback",
    "state_json",
    "return_json",
)
# A run storing more than this is checked against its owner's storage budget; past it, each
# field keeps OVER_BUDGET_CHARS (its start and end).
HISTORY_FREE_BYTES = 4 * 1024
OVER_BUDGET_CHARS = 1024
# How much of each field one page of the history shows (the start and the end), so a page of
# HISTORY_PAGE_SIZE runs stays well under a megabyte.
SHOWN_FIELD_CHARS = 4 * 1024
FAILED_STATUSES = ("failed", "killed", "missing")
# How many of the latest runs the fair queue looks at to see when each account was last served.
FAIRNESS_WINDOW_RUNS = 5000
# Runs one prune deletes at most (runs keep up to 64 KB of output each): every recorded run
# prunes, so a lowered HISTORY_MAX_RUNS is reached within a few runs, each a short write.
PRUNE_BATCH_RUNS = 50


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
    pays for one write and no sync. Tried again while the database is busy: the run happened,
    its record must not be lost to another account's write."""

    def write() -> Run:
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

    return retry_when_busy(write)


def claim_run(run_id: int) -> bool:
    """Mark a queued run as running here; False if it is not queued any more (killed before it
    started, or already taken by another worker the queue delivered it to)."""

    def write() -> bool:
        now = utcnow()
        claimed = rows_changed(
            update(Run)
            .where(Run.id == run_id, Run.status == "queued")
            .values(status="running", started_at=now, heartbeat_at=now, worker=worker_name())
        )
        db.session.commit()
        return claimed == 1

    claimed = retry_when_busy(write)
    if claimed:
        observe_queue_wait(run_id)
    return claimed


def claim_next_run() -> int | None:
    """Claim the queued run that is fairest to start next, and return its id (None: nothing
    queued). Fair means round-robin across accounts: the account with the fewest runs running
    goes first; among equals, the one whose last run started longest ago (or never); then its
    run queued longest. So a flood of one account's runs waits behind each other account's
    next run, never in front of it."""
    running = (
        select(Widget.owner_id.label("owner_id"), func.count().label("busy"))
        .select_from(Run)
        .join(Widget, Widget.id == Run.widget_id)
        .where(Run.status == "running")
        .group_by(Widget.owner_id)
        .subquery()
    )
    # When each account's last run started, among the site's latest runs (a range of the
    # primary key, so the look-up stays small however long the history): an account with
    # no start among them has waited longest anyway.
    window_start = select(func.coalesce(func.max(Run.id), 0) - FAIRNESS_WINDOW_RUNS)
    served = (
        select(Widget.owner_id.label("owner_id"), func.max(Run.started_at).label("last_start"))
        .select_from(Run)
        .join(Widget, Widget.id == Run.widget_id)
        .where(Run.id > window_start.scalar_subquery(), Run.started_at.is_not(None))
        .group_by(Widget.owner_id)
        .subquery()
    )
    fairest = (
        select(Run.id)
        .join(Widget, Widget.id == Run.widget_id)
        .outerjoin(running, running.c.owner_id == Widget.owner_id)
        .outerjoin(served, served.c.owner_id == Widget.owner_id)
        .where(Run.status == "queued")
        .order_by(func.coalesce(running.c.busy, 0), served.c.last_start.asc().nulls_first(), Run.id)
        .limit(1)
    )
    # Another consumer may claim the same run between the choice and the claim: choose again.
    for _ in range(10):
        run_id = db.session.scalar(fairest)
        db.session.rollback()  # end the read: the claim is a write transaction of its own
        if run_id is None:
            return None
        if claim_run(run_id):
            return run_id
    return None


def finish_run(run_id: int, result: RunResult, killed: bool = False) -> Run | None:
    """Store a run's (already redacted) outcome, update its schedule's failure streak, and
    apply the widget's retention. Returns the run, or None if it was deleted meanwhile. Tried
    again while the database is busy (the outcome must not be lost)."""

    def write() -> Run | None:
        run = db.session.get(Run, run_id, populate_existing=True)
        if run is None:
            return None
        _store_outcome(run, result, killed)
        _count_towards_streak(run)
        prune_history(run.widget_id, commit=False)  # in the same transaction: one commit per run
        db.session.commit()
        return run

    run = retry_when_busy(write)
    if run is not None:
        _alert_when_failing(run)
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
    run.stdout = clipped(result.stdout)
    run.stderr = clipped(result.stderr)
    if killed:
        run.error_type, run.error_message = "BackgroundTaskKilled", "The task was killed."
    elif error:
        run.error_type = str(error.get("type", "Error"))[:100]
        run.error_message = clipped(str(error.get("message", "")))
        run.error_traceback = clipped(str(error.get("traceback") or "")) or None
    run.return_json = _stored_json(result.result) if result.ok else None
    # Once set (also by a task_state that held a value), it stays set.
    run.held_secret = bool(run.held_secret) or result.held_secret
    run.withheld_fields = ",".join(sorted(result.withheld)) or None
    run.args_json = None  # a launch's arguments are only needed until it ran
    _keep_within_budget(run)


def _stored_size(run: Run) -> int:
    return sum(len((getattr(run, field) or "").encode("utf-8")) for field in STORED_FIELDS)


def _keep_within_budget(run: Run) -> None:
    """Count what the run stores (`stored_bytes`); past its owner's storage budget, keep only
    the start and end of each field, and say why in its stderr. The run itself is always
    recorded. (A run storing at most HISTORY_FREE_BYTES is not looked up against the budget:
    HISTORY_MAX_RUNS bounds what small runs keep.)"""
    size = _stored_size(run)
    if size > HISTORY_FREE_BYTES:
        owner_id = db.session.scalar(select(Widget.owner_id).where(Widget.id == run.widget_id))
        refused = quotas.storage_error(owner_id, size) if owner_id is not None else None
        if refused:
            for field in ("stdout", "stderr", "error_message", "error_traceback"):
                value = getattr(run, field)
                if value:
                    setattr(run, field, clipped(value, OVER_BUDGET_CHARS))
            if run.return_json and len(run.return_json) > OVER_BUDGET_CHARS:
                run.return_json = json.dumps(clipped(run.return_json, OVER_BUDGET_CHARS // 2))
            note = f"[py.space: this run's output was not kept in full. {refused}]"
            run.stderr = f"{run.stderr}\n{note}" if run.stderr else note
            size = _stored_size(run)
    run.stored_bytes = size


def clipped(text: str, limit: int = STORED_OUTPUT_CHARS) -> str:
    """`text`, or for text over `limit` characters its start and its end around a note of how
    much was cut (what went wrong is often at the end: a traceback's last line)."""
    if len(text) <= limit:
        return text
    keep = max(0, limit - 100)  # room for the note
    note = f"\n… {len(text) - keep:,} characters cut …\n"
    return text[: keep // 2] + note + text[len(text) - (keep - keep // 2) :]


def _stored_json(value) -> str | None:
    """A return value as the history stores it: its JSON, or, past the cap, the start and the
    end of that JSON as a string (a value cut in two is no longer the value)."""
    if value is None:
        return None
    text = json.dumps(value)
    if len(text) <= STORED_OUTPUT_CHARS:
        return text
    # JSON text is ASCII: quoting it again at most doubles it (each `"` and `\\`).
    return json.dumps(clipped(text, STORED_OUTPUT_CHARS // 2 - 100))


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
    for run_id in ids:
        lost = db.session.get(Run, run_id)
        if lost is not None and lost.status == "missing":
            _alert_when_failing(lost)
    return list(ids)


def _alert_when_failing(run: Run) -> None:
    """Alert the owner (by e-mail, throttled) once the run's schedule has failed
    ALERT_SCHEDULE_FAILURES times in a row, and while it keeps failing."""
    if run.schedule_id is None or run.status not in FAILED_STATUSES:
        return
    schedule = db.session.get(Schedule, run.schedule_id, populate_existing=True)
    needed = max(1, int(current_app.config["ALERT_SCHEDULE_FAILURES"]))
    if schedule is None or schedule.failure_streak < needed:
        return
    owner_alerts.raise_alert(
        run.widget_id,
        "schedule_failing",
        [
            f"Task: {schedule.task_name}",
            f"Failed runs in a row: {schedule.failure_streak}",
            # The error's type only: its message is the run's output, shown in the editor.
            f"Last error: {run.error_type or run.status}",
        ],
    )


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


_FINISHED = "widget_id = :widget_id AND status NOT IN ({})".format(
    ", ".join(f"'{status}'" for status in ACTIVE_RUN_STATUSES)
)
# The widget's finished runs to delete, oldest first: older than `oldest`, or older than the
# `skip`+1-th newest (while there are fewer the subquery is NULL and `id <` it never true).
# Written out once: every Run press prunes, and building this statement with the ORM's
# expression language cost more CPU (1.5 ms on a busy 2-core machine) than running it.
_PRUNE = text(
    f"DELETE FROM runs WHERE id IN (SELECT id FROM runs WHERE {_FINISHED} "
    f"AND (created_at < :oldest OR id < (SELECT id FROM runs WHERE {_FINISHED} "
    "ORDER BY id DESC LIMIT 1 OFFSET :skip)) ORDER BY id LIMIT :batch)"
).bindparams(bindparam("oldest", type_=Run.__table__.c.created_at.type))


def prune_history(widget_id: str, commit: bool = True) -> int:
    """Delete the widget's finished runs beyond HISTORY_MAX_RUNS (newest kept) or older than
    HISTORY_MAX_DAYS, the oldest PRUNE_BATCH_RUNS of them at most; returns how many went.
    The session holds none of the pruned runs (old, finished ones), so it is not told."""
    keep = max(1, int(current_app.config["HISTORY_MAX_RUNS"]))
    oldest = utcnow() - timedelta(days=int(current_app.config["HISTORY_MAX_DAYS"]))
    # A plain SQL statement doesn't flush the session first: the run just recorded or finished
    # must be in the table to count among the newest.
    db.session.flush()
    removed = cast(
        CursorResult,
        db.session.execute(
            _PRUNE,
            {"widget_id": widget_id, "oldest": oldest, "skip": keep - 1, "batch": PRUNE_BATCH_RUNS},
        ),
    ).rowcount
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
    # Past the last page whose offset a database integer can hold, every page is empty anyway.
    page = min(max(1, page), MAX_INT // HISTORY_PAGE_SIZE)
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


def shown_field(text: str | None) -> str:
    """A stored field as one page of the history shows it (start and end, SHOWN_FIELD_CHARS)."""
    return clipped(text or "", SHOWN_FIELD_CHARS)


def run_as_json(run: Run, page: bool = False) -> dict:
    """A run as the history's JSON shows it (everything in it is already redacted); for a
    `page` of the history, each text field's start and end only (`shown_field`)."""
    if page:
        return {
            **run_as_json(run),
            "stdout": shown_field(run.stdout),
            "stderr": shown_field(run.stderr),
            "error": {"type": run.error_type, "message": shown_field(run.error_message)}
            if run.error_type
            else None,
            "state": _loads(run.state_json)
            if len(run.state_json or "") <= SHOWN_FIELD_CHARS
            else shown_field(run.state_json),
            "return_value": _loads(run.return_json)
            if len(run.return_json or "") <= SHOWN_FIELD_CHARS
            else shown_field(run.return_json),
        }
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
