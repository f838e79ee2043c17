"""The job queue (Huey): carries run ids — never code, arguments or values — to consumers.

One machine: SQLite storage in `instance/queue.sqlite`, nothing else to run. Many machines:
`QUEUE_URL=redis://…` on every host. A message only says "a run is waiting": the consumer that
takes it claims the fairest queued run in the database (`history.claim_next_run`: the account
with the fewest runs running first, then the run queued longest), not the run the message
names. So the queue is round-robin across accounts rather than first-come, and a run executes
at most once even if the queue delivered a message twice.
"""

import os
import threading

from flask import Flask, current_app
from huey import RedisHuey, SqliteHuey
from huey.api import Huey

from ..config import ConfigError, names_redis

QUEUE_NAME = "pyspace-runs"
_creating = threading.Lock()


def make_huey(app: Flask) -> Huey:
    """A Huey bound to the app's queue storage, with the one task it knows: execute a run."""
    url = app.config.get("QUEUE_URL") or ""
    if names_redis(url):
        huey: Huey = RedisHuey(QUEUE_NAME, url=url, results=False)
    elif url.startswith("sqlite:///") or not url:
        filename = url[len("sqlite:///") :] or os.path.join(app.instance_path, "queue.sqlite")
        huey = SqliteHuey(QUEUE_NAME, filename=filename, results=False)
    else:
        raise ConfigError(
            f"PYSPACE_QUEUE_URL={url!r} is not a redis:// or sqlite:/// URL "
            "(empty: SQLite in instance/queue.sqlite)."
        )

    @huey.task(name="execute_run")
    def execute_run_task(run_id: int) -> None:
        from ..runs.execution import execute_next_run

        with app.app_context():
            execute_next_run()

    huey.pyspace_execute_run = execute_run_task
    return huey


def huey_for(app: Flask) -> Huey:
    """The app's Huey, made on first use."""
    huey = app.extensions.get("huey")
    if huey is None:
        with _creating:
            huey = app.extensions.get("huey")
            if huey is None:
                huey = app.extensions["huey"] = make_huey(app)
    return huey


def enqueue_run(run_id: int) -> None:
    """Hand the run's id to the queue (after the run's row is committed)."""
    huey_for(current_app._get_current_object()).pyspace_execute_run(run_id)  # type: ignore[attr-defined]


def queue_workers(app: Flask) -> int:
    """How many runs one consumer executes at once: QUEUE_WORKERS, by default 4 per CPU core
    and at least 8 (a task mostly waits on its sandbox, so a class's tasks launched together
    start in a few rounds; and more workers than TASKS_PER_USER leave room for other accounts
    while one account's tasks run)."""
    configured = app.config.get("QUEUE_WORKERS")
    if configured:
        return int(configured)
    return max(8, 4 * (os.cpu_count() or 1))


def work_once(app: Flask) -> bool:
    """Take one message off the queue and execute the fairest queued run here; False if the
    queue was empty.
    (The consumer does this in a loop; tests and benchmarks call it directly.)"""
    huey = huey_for(app)
    task = huey.dequeue()
    if task is None:
        return False
    huey.execute(task)
    return True
