"""What `/healthz` checks: the database answers, sandboxes can start, the queue consumer is
alive and the disk has room. Every check reads; none writes to the database or starts a sandbox
of its own (the sandbox check asks the runner's known state: found once per process, or asked of
the machine's sandbox service)."""

import shutil
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import text

from ..extensions import db
from ..sandbox import runner_for
from .heartbeat import beat_age

MiB = 1024 * 1024


@dataclass
class Check:
    ok: bool
    detail: str


def check_database() -> Check:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as error:  # any driver's "can't connect", "locked", …
        db.session.rollback()
        return Check(False, f"the database does not answer: {type(error).__name__}")
    return Check(True, "answers")


def check_sandbox(app: Flask) -> Check:
    state = runner_for(app).state()
    if state.sandboxed:
        return Check(True, "sandboxes start")
    if state.usable:
        return Check(True, "UNSANDBOXED runs allowed: " + str(state.problem))
    return Check(False, f"sandboxes can't start: {state.problem}")


def check_consumer(app: Flask) -> Check:
    limit = float(app.config["HEALTH_CONSUMER_SECONDS"])
    if limit <= 0:
        return Check(True, "not checked here (HEALTH_CONSUMER_SECONDS=0)")
    age = beat_age(app)
    if age is None:
        return Check(False, "no queue consumer has run (start `flask tasks consumer`)")
    if age > limit:
        return Check(False, f"the queue consumer's last heartbeat was {age:.0f} s ago")
    return Check(True, f"heartbeat {age:.0f} s ago")


def check_disk(app: Flask) -> Check:
    free_mb = shutil.disk_usage(app.instance_path).free // MiB
    minimum = int(app.config["HEALTH_MIN_FREE_MB"])
    if free_mb < minimum:
        return Check(False, f"{free_mb} MB free in the instance folder (below {minimum} MB)")
    return Check(True, f"{free_mb} MB free")


def health_report(app: Flask) -> tuple[bool, dict]:
    """(all ok, {"status": "ok"|"failing", "checks": {name: {"ok", "detail"}}, "failing": [...]})"""
    checks = {
        "database": check_database(),
        "sandbox": check_sandbox(app),
        "consumer": check_consumer(app),
        "disk": check_disk(app),
    }
    failing = [name for name, check in checks.items() if not check.ok]
    report: dict[str, object] = {
        "status": "failing" if failing else "ok",
        "checks": {name: {"ok": c.ok, "detail": c.detail} for name, c in checks.items()},
    }
    if failing:
        report["failing"] = failing
    return not failing, report
