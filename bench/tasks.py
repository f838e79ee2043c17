"""Task benchmarks: how late a schedule's run starts after its due time (the real consumer and
scheduler, default tick), how soon one account's task starts while another's schedules keep
its task cap full (the fair queue), and runs per second with 1 and 2 queue workers on Redis
against the same runs executed locally, in this process, one after another.

Consumers are started with `flask --app app tasks consumer`, as `./manage.sh serve` and
`./manage.sh worker` start them, against this run's throw-away database.
"""

import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from pyspace.extensions import db
from pyspace.models import Run, Schedule, Widget, utcnow
from pyspace.runs import history
from pyspace.runs.execution import execute_run, launch_task
from pyspace.runs.queue import enqueue_run, queue_workers
from pyspace.tasks import schedules

from .measure import Report
from .sample_data import make_user

PROJECT = Path(__file__).resolve().parents[1]
TASK_CODE = """
import anvil.server

@anvil.server.background_task
def hello():
    print('Hello, world!')
"""


def _consumer(app, queue_url: str, workers: int, scheduler: bool) -> subprocess.Popen:
    """`flask tasks consumer` for this app's database and `queue_url`."""
    config = app.config
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYSPACE_")}
    env.update(
        DATABASE_URL=config["SQLALCHEMY_DATABASE_URI"],
        PYSPACE_SECRET_KEY=config["SECRET_KEY"],
        PYSPACE_SECRETS_KEY=config["SECRETS_KEY"],
        PYSPACE_QUEUE_URL=queue_url,
        PYSPACE_RUN_POOL_SIZE=str(config["RUN_POOL_SIZE"]),
        PYSPACE_ALLOW_UNSANDBOXED_RUNS=str(config["ALLOW_UNSANDBOXED_RUNS"]).lower(),
    )
    command = [sys.executable, "-m", "flask", "--app", "app", "tasks", "consumer"]
    command += ["--workers", str(workers)] + ([] if scheduler else ["--no-scheduler"])
    return subprocess.Popen(
        command, cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.01)
    raise TimeoutError("the consumers did not finish the runs in time")


def _finished(app, run_ids: list[int]) -> bool:
    with app.app_context():
        db.session.expire_all()
        active = db.session.scalar(
            db.select(db.func.count())
            .select_from(Run)
            .where(Run.id.in_(run_ids), Run.status.in_(("queued", "running")))
        )
        return active == 0


def _task_widget(app, owner: str) -> str:
    with app.app_context():
        widget = Widget(owner_id=make_user(owner), title="Tasks", server_code=TASK_CODE)
        db.session.add(widget)
        db.session.commit()
        return widget.id


def bench_schedule_latency(app, report: Report, samples: int, workdir: str) -> None:
    """Due time → run started, with the real consumer and scheduler (default 1 s tick)."""
    widget_id = _task_widget(app, "scheduler")
    with app.app_context():
        widget = db.session.get(Widget, widget_id)
        schedule_id = schedules.create_schedule(widget, "hello", schedules.Interval("hour", n=1)).id
    queue_url = "sqlite:///" + str(Path(workdir) / "latency-queue.sqlite")
    consumer = _consumer(app, queue_url, workers=1, scheduler=True)
    latencies = []
    samples += 1  # the first occurrence also waits for the consumer to start: not counted
    try:
        for _ in range(samples):
            with app.app_context():
                due = utcnow() + timedelta(seconds=0.5)
                db.session.execute(
                    db.update(Schedule).filter_by(id=schedule_id).values(next_run_at=due)
                )
                db.session.commit()

            def started(due=due):
                with app.app_context():
                    db.session.expire_all()
                    run = db.session.scalar(
                        db.select(Run).filter_by(schedule_id=schedule_id, scheduled_for=due)
                    )
                    return run is not None and run.status in ("completed", "failed")

            _wait(started, timeout=60)
            with app.app_context():
                run = db.session.scalar(
                    db.select(Run).filter_by(schedule_id=schedule_id, scheduled_for=due)
                )
                latencies.append((run.started_at - due).total_seconds() * 1000)
    finally:
        _stop([consumer])
    latencies = latencies[1:]
    report.add("schedule due → run started (SQLite queue, 1 s tick)", latencies)
    report.check(
        "schedule due → run started (SQLite queue, 1 s tick)",
        "< 2 s median",
        report.median("schedule due → run started (SQLite queue, 1 s tick)") < 2000,
    )


def _redis_url() -> str | None:
    url = os.environ.get("PYSPACE_TEST_REDIS_URL")
    if url or not shutil.which("redis-server"):
        return url
    started = subprocess.run(
        [str(PROJECT / "scripts" / "start-test-redis.sh")],
        capture_output=True,
        text=True,
        check=False,
    )
    return started.stdout.strip() or None


def bench_runs_per_second(app, report: Report, runs: int, rounds: int) -> None:
    """Task runs per second: local (this process, one after another), then 1 and 2 workers."""
    widget_id = _task_widget(app, "throughput")
    url = _redis_url()
    if not url:
        print(
            "runs per second on Redis: skipped (no redis-server; see scripts/start-test-redis.sh)"
        )
        return
    import redis

    redis.Redis.from_url(url).flushdb()
    app.config["QUEUE_URL"] = url
    app.extensions.pop("huey", None)

    def batch(count: int = runs) -> list[int]:
        # Every run made here is enqueued: consumers claim the fairest queued run, so a queued
        # run nobody enqueued would be taken in place of one the measurement waits for.
        with app.app_context():
            return [
                history.new_run(widget_id, "task", None, task_name="hello").id for _ in range(count)
            ]

    local = []
    for _ in range(rounds):
        ids = batch()
        started = time.perf_counter()
        with app.app_context():
            for run_id in ids:
                execute_run(run_id)
        local.append(runs / (time.perf_counter() - started))
    report.add("task runs, local (one process, in turn)", local, unit="runs/s")
    for workers in (1, 2):
        consumers = [_consumer(app, url, 1, scheduler=False) for _ in range(workers)]
        try:
            warmup = batch(workers * 2)
            with app.app_context():
                for run_id in warmup:
                    enqueue_run(run_id)
            _wait(lambda warmup=warmup: _finished(app, warmup), timeout=120)
            rates = []
            for _ in range(rounds):
                ids = batch()
                started = time.perf_counter()
                with app.app_context():
                    for run_id in ids:
                        enqueue_run(run_id)
                _wait(lambda ids=ids: _finished(app, ids), timeout=300)
                rates.append(runs / (time.perf_counter() - started))
        finally:
            _stop(consumers)
        report.add(
            f"task runs, {workers} worker{'s' if workers > 1 else ''} on Redis",
            rates,
            unit="runs/s",
            baseline="task runs, local (one process, in turn)",
        )


HOG_CODE = """
import time
import anvil.server

@anvil.server.background_task
def hog():
    time.sleep(HOG_SECONDS)

@anvil.server.background_task
def hello():
    print('Hello, world!')
"""


def _p95(samples: list[float]) -> float:
    if len(samples) < 2:
        return samples[0]
    return statistics.quantiles(samples, n=20, method="inclusive")[18]


def bench_fair_start(app, report: Report, samples: int, workdir: str) -> None:
    """Another account's task start delay while one account's schedules keep its task cap
    full: as many schedules of a long task as a widget may have (5), all due at once (the
    scheduler queues TASKS_PER_USER of them and skips the rest), then `samples` launches of a
    hello task by a second account, each timed from queued to started. The real consumer
    (`flask tasks consumer` with its default workers and the scheduler) on a SQLite queue.
    Target: p95 < 5 s, with the first account's cap full throughout (or the delays were not
    measured against a full cap)."""
    hog_seconds = 30 + 3 * samples
    with app.app_context():
        hog = Widget(
            owner_id=make_user("hog"),
            title="Hog",
            server_code=HOG_CODE.replace("HOG_SECONDS", str(hog_seconds)),
        )
        db.session.add(hog)
        db.session.flush()
        for _ in range(int(app.config["SCHEDULES_PER_WIDGET"])):
            schedules.new_schedule(hog, "hog", schedules.Interval("hour", n=1), enabled=True)
        db.session.execute(
            db.update(Schedule)
            .where(Schedule.widget_id == hog.id)
            .values(next_run_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
        hog_id = hog.id
    bystander = _task_widget(app, "bystander")
    queue_url = "sqlite:///" + str(Path(workdir) / "fair-queue.sqlite")
    saved_url = app.config["QUEUE_URL"]
    app.config["QUEUE_URL"] = queue_url
    app.extensions.pop("huey", None)
    consumer = _consumer(app, queue_url, workers=queue_workers(app), scheduler=True)

    def hog_running() -> bool:
        with app.app_context():
            db.session.expire_all()
            running = db.session.scalar(
                db.select(db.func.count())
                .select_from(Run)
                .where(Run.widget_id == hog_id, Run.status == "running")
            )
            return running == int(app.config["TASKS_PER_USER"])

    delays = []
    try:
        _wait(hog_running, timeout=60)
        for _ in range(samples + 1):  # the first also warms the consumer up: not counted
            with app.app_context():
                run = launch_task(bystander, "hello", [], {}, None)
                run_id, queued_at = run.id, run.created_at
            _wait(lambda run_id=run_id: _finished(app, [run_id]), timeout=60)
            with app.app_context():
                started_at = db.session.get(Run, run_id).started_at
            delays.append((started_at - queued_at).total_seconds() * 1000)
        still_full = hog_running()
    finally:
        _stop([consumer])
        app.config["QUEUE_URL"] = saved_url
        app.extensions.pop("huey", None)
    delays = delays[1:]
    name = "other account's task: queued → started, one account's cap full"
    p95 = _p95(delays)
    report.add(name, delays, p95=p95, hog_cap_full_throughout=still_full)
    report.check(name, "p95 < 5 s", p95 < 5000 and still_full)
