"""Helpers for the tasks tests: a queue consumer thread in the test process, and history reads."""

import threading
import time
from contextlib import contextmanager

from pyspace.extensions import db
from pyspace.models import Run
from pyspace.runs.queue import work_once

# Fast tests: small limits, no warm pool, a quick heartbeat.
TASK_CONFIG = {
    "RUN_WALL_SECONDS": 10.0,
    "RUN_CPU_SECONDS": 2,
    "RUN_POOL_SIZE": 0,
    "TASK_WALL_SECONDS": 20.0,
    "TASK_HEARTBEAT_SECONDS": 0.5,
    "SCHEDULE_MIN_MINUTES": 1,
}


@contextmanager
def consumer(app, threads: int = 2):
    """Queue consumers in threads of this process, taking run ids off the app's real queue."""
    stopping = threading.Event()

    def work() -> None:
        while not stopping.is_set():
            if not work_once(app):
                time.sleep(0.02)

    workers = [threading.Thread(target=work, daemon=True) for _ in range(threads)]
    for worker in workers:
        worker.start()
    try:
        yield
    finally:
        stopping.set()
        for worker in workers:
            worker.join(timeout=30)


def runs_of(app, widget_id: str) -> list[Run]:
    """The widget's runs, oldest first (detached copies)."""
    with app.app_context():
        db.session.expire_all()
        runs = db.session.scalars(
            db.select(Run).filter_by(widget_id=widget_id).order_by(Run.id)
        ).all()
        db.session.expunge_all()
        return list(runs)


def wait_for(predicate, timeout: float = 15.0, every: float = 0.05):
    """Poll `predicate()` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {predicate.__name__}")
