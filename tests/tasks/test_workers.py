"""Several processes: schedulers sharing one database fire each occurrence once; workers on
Redis share the runs; RUNS_ON=queue sends a Run press to a worker; a worker killed with SIGKILL
leaves its run `missing`.

The Redis tests need a Redis server: `./manage.sh test` starts a throwaway one on loopback
(`scripts/start-test-redis.sh`) and sets PYSPACE_TEST_REDIS_URL; run by hand without it, they
are skipped with that reason.
"""

import json
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from pyspace.extensions import db
from pyspace.models import Run, Schedule, Widget, utcnow
from pyspace.runs import history
from pyspace.runs.queue import enqueue_run
from pyspace.tasks import schedules
from tests.sandbox.helpers import run_json

from .helpers import TASK_CONFIG, runs_of, wait_for

ROOT = Path(__file__).resolve().parents[2]
TASK_CODE = """
import os
import time
import anvil.server

@anvil.server.background_task
def nap(seconds):
    anvil.server.task_state['started'] = True
    time.sleep(seconds)
    return seconds

if __name__ == "__main__":
    print('answered')
"""


@pytest.fixture
def redis_url():
    url = os.environ.get("PYSPACE_TEST_REDIS_URL")
    if not url:
        pytest.skip(
            "needs Redis: PYSPACE_TEST_REDIS_URL=$(scripts/start-test-redis.sh) "
            "(./manage.sh test does this)"
        )
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    except redis.ConnectionError as error:
        pytest.skip(f"the Redis server at {url} is not answering: {error}")
    return url


@pytest.fixture
def app_config(app_config, request):
    config = {**app_config, **TASK_CONFIG, "TASK_HEARTBEAT_SECONDS": 0.3}
    if "redis_url" in request.fixturenames:
        config["QUEUE_URL"] = request.getfixturevalue("redis_url")
    return config


@pytest.fixture
def start_process(app, app_config, tmp_path):
    """Start `python -m tests.tasks.worker_process` with the test's config; killed at the end."""
    config_file = tmp_path / "worker-config.json"
    config_file.write_text(json.dumps(app_config))
    started = []

    def start(*args: str) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.tasks.worker_process", str(config_file), *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={k: v for k, v in os.environ.items() if not k.startswith("PYSPACE_")},
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def _widget(app, alice) -> str:
    return alice.create_widget("Napper", server_code=TASK_CODE)


@pytest.fixture
def thirty_schedules(app_config):
    """Room for one widget's 30 schedules, each occurrence queued (not skipped at the task cap):
    set before the app and the worker processes read the config."""
    app_config.update(SCHEDULES_PER_WIDGET=30, SCHEDULES_PER_USER=30, TASKS_PER_USER=100)


@pytest.mark.long
def test_two_schedulers_sharing_one_sqlite_database_fire_each_occurrence_once(
    thirty_schedules, app, alice, start_process
):
    widget_id = _widget(app, alice)
    with app.app_context():
        widget = db.session.get(Widget, widget_id)
        ids = [
            # Hourly: the next occurrence after the claimed one is far outside the test.
            schedules.create_schedule(widget, "nap", schedules.Interval("hour", n=1)).id
            for _ in range(30)
        ]
        # Every schedule is due now: both processes find all 30 on their first tick.
        due = utcnow() - timedelta(seconds=1)
        db.session.execute(db.update(Schedule).values(next_run_at=due))
        db.session.commit()
    first, second = start_process("ticks", "3"), start_process("ticks", "3")
    claimed = [int(p.communicate(timeout=60)[0].strip() or -1) for p in (first, second)]
    runs = runs_of(app, widget_id)
    assert sum(claimed) == 30, claimed
    assert sorted(run.schedule_id for run in runs) == sorted(ids)
    assert {(run.scheduled_for, run.status) for run in runs} == {(due, "queued")}


def test_two_workers_on_redis_share_the_runs(app, alice, redis_url, start_process):
    app.config["TASKS_PER_USER"] = 100
    widget_id = _widget(app, alice)
    with app.app_context():
        run_ids = [
            history.new_run(
                widget_id, "task", None, task_name="nap", args_json='{"args": [0.5]}'
            ).id
            for _ in range(8)
        ]
        for run_id in run_ids:
            enqueue_run(run_id)
    workers = [start_process("consumer", "1"), start_process("consumer", "1")]

    def all_done():
        runs = runs_of(app, widget_id)
        return runs if all(run.status == "completed" for run in runs) else None

    runs = wait_for(all_done, timeout=60)
    by_worker = {run.worker for run in runs}
    assert {worker.split(":")[1] for worker in by_worker} == {str(w.pid) for w in workers}
    assert [json.loads(run.return_json) for run in runs] == [0.5] * 8


def test_with_runs_on_queue_a_run_press_is_answered_by_a_worker(
    app, alice, redis_url, start_process
):
    widget_id = _widget(app, alice)
    worker = start_process("consumer", "1")
    app.config["RUNS_ON"] = "queue"
    answer = run_json(alice, widget_id)
    assert answer["ok"] and answer["stdout"] == "answered\n"
    (run,) = runs_of(app, widget_id)
    assert run.kind == "run" and run.worker.endswith(f":{worker.pid}")
    assert run.worker != history.worker_name()


def test_a_worker_killed_mid_task_leaves_the_run_missing(app, alice, redis_url, start_process):
    widget_id = _widget(app, alice)
    worker = start_process("consumer", "1")
    with app.app_context():
        run_id = history.new_run(
            widget_id, "task", None, task_name="nap", args_json='{"args": [30]}'
        ).id
        enqueue_run(run_id)

    def running():
        (run,) = runs_of(app, widget_id)
        return run.status == "running" and run.state_json

    wait_for(running, timeout=30)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)

    def marked_missing():
        with app.app_context():
            schedules.tick()
            return db.session.get(Run, run_id, populate_existing=True).status == "missing"

    wait_for(marked_missing, timeout=10, every=0.2)
    (run,) = runs_of(app, widget_id)
    assert run.error_type == "WorkerLost" and run.finished_at is not None


def test_a_consumer_fills_a_pool_sized_to_its_workers_before_its_first_task(app, monkeypatch):
    from pyspace.sandbox.settings import settings_from_config
    from pyspace.tasks import cli

    events: list = []
    monkeypatch.setattr(
        cli,
        "runner_for",
        lambda app, role: events.append(settings_from_config(app.config).pool_size),
    )

    class Consumer:
        def run(self):
            events.append("consuming")

    class Huey:
        def create_consumer(self, **options):
            return Consumer()

    monkeypatch.setattr(cli, "huey_for", lambda app: Huey())
    app.config["RUN_POOL_SIZE"] = 40
    cli.run_consumer(app, workers=3, scheduler=False)
    # The pool was started before the consumer took anything, at 4 per worker (not 40).
    assert events == [cli.POOL_ROUNDS * 3, "consuming"]
    app.config["RUN_POOL_SIZE"] = 5
    cli.run_consumer(app, workers=3, scheduler=False)
    assert events[-2:] == [5, "consuming"]
