"""`flask tasks …`: the queue consumer (with the scheduler) and one scheduler pass.

`./manage.sh serve` starts `flask tasks consumer` beside the web server; `./manage.sh worker`
runs one on a worker host. Every consumer also runs the scheduler loop (`scheduler.py`).
"""

import logging
import threading

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from ..log_format import configure_logging
from ..operations.heartbeat import start_consumer_threads
from ..runs.queue import huey_for, queue_workers
from ..sandbox import runner_for
from ..sandbox.settings import settings_from_config
from .scheduler import scheduler_loop
from .schedules import tick

log = logging.getLogger(__name__)
tasks_cli = AppGroup("tasks", help="Background tasks, schedules and the queue consumer.")
# A consumer's warm pool holds this many rounds of its workers' runs: a class's tasks launched
# together start from ready sandboxes while used ones are replaced.
POOL_ROUNDS = 4


def consumer_pool_size(app: Flask, workers: int) -> int:
    """The warm pool a consumer of `workers` keeps: RUN_POOL_SIZE (or the machine's default),
    but no more than POOL_ROUNDS × workers, as it never runs more than `workers` at once."""
    return min(settings_from_config(app.config).pool_size, POOL_ROUNDS * workers)


def run_consumer(app: Flask, workers: int, scheduler: bool = True) -> None:
    """Execute queued runs with `workers` threads (and run the scheduler) until stopped."""
    stopping = threading.Event()
    # A consumer is a server: its pool fills now, not on its first task (a class's 30 tasks
    # launched at once waited for 30 cold sandboxes). With a sandbox service the pool is the
    # service's, and the consumer's runs wait in a fair queue of their own there.
    app.config["RUN_POOL_SIZE"] = consumer_pool_size(app, workers)
    runner_for(app, role="consumer")
    # The heartbeat /healthz reads, and the daily backup (pyspace/operations/).
    start_consumer_threads(app, stopping)
    log.info(
        "queue consumer started: %d workers, scheduler %s", workers, "on" if scheduler else "off"
    )
    if scheduler:
        threading.Thread(
            target=scheduler_loop, args=(app, stopping), name="scheduler", daemon=True
        ).start()
    try:
        # An idle consumer polls SQLite storage at most every 0.25 s (Huey's default backs off to
        # 10 s), so a run starts well within the scheduler's 2 s target; Redis blocks instead.
        huey_for(app).create_consumer(
            workers=workers,
            worker_type="thread",
            periodic=False,
            initial_delay=0.05,
            backoff=1.5,
            max_delay=0.25,
        ).run()
    finally:
        stopping.set()
        log.info("queue consumer stopped")


@tasks_cli.command("consumer")
@click.option("--workers", type=int, default=None, help="Runs at once (default QUEUE_WORKERS).")
@click.option("--no-scheduler", is_flag=True, help="Only execute runs; don't fire schedules.")
def consumer(workers: int | None, no_scheduler: bool) -> None:
    """Execute queued runs (background, scheduled and, with RUNS_ON=queue, interactive ones)."""
    configure_logging(logging.INFO)  # text, or JSON lines with PYSPACE_LOG_FORMAT=json
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    count = workers or queue_workers(app)
    click.echo(f"py.space consumer: {count} workers, scheduler {'off' if no_scheduler else 'on'}")
    run_consumer(app, count, scheduler=not no_scheduler)


@tasks_cli.command("tick")
def tick_once() -> None:
    """One scheduler pass: fire due schedules, mark runs of dead workers missing."""
    made = tick()
    click.echo(f"{len(made)} occurrence(s) claimed")
