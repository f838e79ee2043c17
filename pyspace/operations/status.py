"""What the site is doing, read from the database: runs in the last hour, the queue, failing
schedules, the largest accounts and recent extraction alerts. Shared by `/metrics` (the numbers)
and `/admin/status` (the page). Every function only reads."""

import os
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import func, select

from ..extensions import db
from ..models import (
    AuditEvent,
    DataTable,
    ExtractionCounter,
    Run,
    Schedule,
    ServerModule,
    User,
    Widget,
    utcnow,
)
from ..sandbox import RunnerState, runner_for

HOUR = timedelta(hours=1)


@dataclass
class RunsSummary:
    by_kind_status: dict[tuple[str, str], int]
    total: int
    failed: int
    mean_ms: float | None
    max_ms: int | None


@dataclass
class FailingSchedule:
    id: int
    widget_id: str
    widget_title: str
    owner: str
    task_name: str
    failure_streak: int
    enabled: bool


@dataclass
class AccountStorage:
    username: str
    widgets: int
    code_bytes: int
    table_bytes: int
    table_rows: int

    @property
    def total_bytes(self) -> int:
        return self.code_bytes + self.table_bytes


@dataclass
class Alert:
    widget_id: str
    widget_title: str
    owner: str
    detail: str
    created_at: datetime


def runs_last_hour(now: datetime | None = None) -> RunsSummary:
    since = (now or utcnow()) - HOUR
    rows = db.session.execute(
        select(Run.kind, Run.status, func.count())
        .where(Run.created_at >= since)
        .group_by(Run.kind, Run.status)
    ).all()
    by_kind_status = {(kind, status): int(count) for kind, status, count in rows}
    mean_ms, max_ms = db.session.execute(
        select(func.avg(Run.duration_ms), func.max(Run.duration_ms)).where(
            Run.created_at >= since, Run.duration_ms.is_not(None)
        )
    ).one()
    return RunsSummary(
        by_kind_status,
        sum(by_kind_status.values()),
        sum(n for (_, status), n in by_kind_status.items() if status in ("failed", "missing")),
        float(mean_ms) if mean_ms is not None else None,
        int(max_ms) if max_ms is not None else None,
    )


def queue_depth() -> dict[str, int]:
    """Runs waiting for a worker ("queued") and being executed ("running"), by kind."""
    rows = db.session.execute(
        select(Run.status, Run.kind, func.count())
        .where(Run.status.in_(("queued", "running")))
        .group_by(Run.status, Run.kind)
    ).all()
    return {f"{status}:{kind}": int(count) for status, kind, count in rows}


def failing_schedules(limit: int = 20) -> list[FailingSchedule]:
    rows = db.session.execute(
        select(Schedule, Widget.title, User.username)
        .join(Widget, Schedule.widget_id == Widget.id)
        .join(User, Widget.owner_id == User.id)
        .where(Schedule.failure_streak > 0)
        .order_by(Schedule.failure_streak.desc(), Schedule.id)
        .limit(limit)
    ).all()
    return [
        FailingSchedule(s.id, s.widget_id, title, owner, s.task_name, s.failure_streak, s.enabled)
        for s, title, owner in rows
    ]


def largest_accounts(limit: int = 10) -> list[AccountStorage]:
    """Accounts by what they store: their widgets' code and their data tables' values."""
    modules = (
        select(
            ServerModule.widget_id.label("widget_id"),
            func.sum(func.length(ServerModule.code)).label("module_bytes"),
        )
        .group_by(ServerModule.widget_id)
        .subquery()
    )
    code = (
        select(
            Widget.owner_id.label("owner_id"),
            func.count(Widget.id).label("widgets"),
            func.sum(
                func.coalesce(modules.c.module_bytes, 0)
                + func.length(Widget.client_code)
                + func.length(Widget.html)
            ).label("code_bytes"),
        )
        .outerjoin(modules, modules.c.widget_id == Widget.id)
        .group_by(Widget.owner_id)
        .subquery()
    )
    tables = (
        select(
            Widget.owner_id.label("owner_id"),
            func.sum(DataTable.byte_count).label("table_bytes"),
            func.sum(DataTable.row_count).label("table_rows"),
        )
        .join(Widget, DataTable.widget_id == Widget.id)
        .group_by(Widget.owner_id)
        .subquery()
    )
    total = func.coalesce(code.c.code_bytes, 0) + func.coalesce(tables.c.table_bytes, 0)
    rows = db.session.execute(
        select(
            User.username,
            func.coalesce(code.c.widgets, 0),
            func.coalesce(code.c.code_bytes, 0),
            func.coalesce(tables.c.table_bytes, 0),
            func.coalesce(tables.c.table_rows, 0),
        )
        .join(code, code.c.owner_id == User.id)
        .outerjoin(tables, tables.c.owner_id == User.id)
        .order_by(total.desc(), User.username)
        .limit(limit)
    ).all()
    return [AccountStorage(u, int(w), int(c), int(t), int(r)) for u, w, c, t, r in rows]


def recent_alerts(limit: int = 10, within: timedelta = timedelta(days=7)) -> list[Alert]:
    """Possible extraction attempts (see pyspace/extraction.py), newest first."""
    rows = db.session.execute(
        select(AuditEvent, Widget.title, User.username)
        .join(Widget, AuditEvent.widget_id == Widget.id)
        .join(User, Widget.owner_id == User.id)
        .where(AuditEvent.action == "extraction", AuditEvent.created_at >= utcnow() - within)
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    ).all()
    return [Alert(e.widget_id, title, owner, e.detail, e.created_at) for e, title, owner in rows]


def active_extraction_blocks() -> int:
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(ExtractionCounter)
            .where(ExtractionCounter.blocked_until > utcnow())
        )
        or 0
    )


def warm_pool_idle(app: Flask) -> int | None:
    """Ready sandboxes in the warm pool this process's runs use (its own, or the sandbox
    service's); None when there is no pool to look at."""
    state = _pool_state(app)
    return state.idle if state is not None and state.pool_size else None


def warm_pool_size(app: Flask) -> int:
    """How many ready sandboxes that warm pool keeps (0: no pool to look at)."""
    state = _pool_state(app)
    return state.pool_size if state is not None else 0


def _pool_state(app: Flask) -> RunnerState | None:
    # Looking never starts a pool: a process that would keep its own says nothing until its
    # first run has made it; one that leases from the machine's sandbox service asks it.
    runner = app.extensions.get("runner")
    if runner is None and app.config.get("SANDBOX_SERVICE"):
        runner = runner_for(app)
    return runner.state() if runner is not None else None


def disk_free_bytes(app: Flask) -> int:
    return shutil.disk_usage(app.instance_path).free


def instance_used_bytes(app: Flask) -> int:
    """Bytes in the instance folder's files (database, queue, keys; not its subfolders)."""
    total = 0
    with os.scandir(app.instance_path) as entries:
        for entry in entries:
            if entry.is_file(follow_symlinks=False):
                total += entry.stat(follow_symlinks=False).st_size
    return total
