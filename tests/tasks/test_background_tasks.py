"""Background tasks: Anvil's API inside the sandbox, executed through the queue in a fresh
sandbox of their own, with task_state, kill, limits, secrets and the run history."""

import json
from pathlib import Path

import pytest

from pyspace.extensions import db
from pyspace.models import Run
from tests.sandbox.helpers import add_secret, run_json

from .helpers import TASK_CONFIG, consumer, runs_of, wait_for

SECRET_VALUE = "owm-5f2a9c0e77-task-secret"


@pytest.fixture
def app_config(app_config):
    return {**app_config, **TASK_CONFIG}


def _task_runs(app, widget_id):
    return [run for run in runs_of(app, widget_id) if run.kind == "task"]


def test_a_launched_task_runs_in_its_own_sandbox_and_reports_state_and_result(app, alice):
    code = """
import anvil.server

@anvil.server.background_task
def count(limit, step=1):
    total = 0
    for i in range(0, limit, step):
        total += i
        anvil.server.task_state['done'] = i
    print('counted', total)
    return {'total': total}

if __name__ == "__main__":
    task = anvil.server.launch_background_task('count', 5, step=1)
    print('launched', task.get_task_name(), task.get_id())
"""
    widget_id = alice.create_widget("Counter", server_code=code)
    with consumer(app):
        answer = run_json(alice, widget_id)
        assert answer["ok"], answer
        assert "launched count" in answer["stdout"]
        task = wait_for(lambda: [r for r in _task_runs(app, widget_id) if not r.is_active])[0]
    assert task.status == "completed", (task.error_type, task.error_message, task.stderr)
    assert json.loads(task.return_json) == {"total": 10}
    assert json.loads(task.state_json) == {"done": 4}
    assert "counted 10" in task.stdout
    assert task.args_json is None  # arguments are kept only until the task ran
    # The Run press that launched it is in the history too.
    assert sorted(run.kind for run in runs_of(app, widget_id)) == ["run", "task"]


def test_task_methods_see_the_outcome_and_reraise_the_tasks_error(app, alice):
    code = """
import time
import anvil.server

@anvil.server.background_task
def fails():
    raise ValueError('bad input 42')

@anvil.server.background_task
def works():
    return 7

if __name__ == "__main__":
    t1 = anvil.server.launch_background_task('fails')
    t2 = anvil.server.launch_background_task('works')
    for _ in range(200):
        if t1.get_termination_status() and t2.get_termination_status():
            break
        time.sleep(0.05)
    print(t1.get_termination_status(), t2.get_termination_status(), t2.get_return_value())
    print(t2.is_completed(), t1.is_running(), t2.get_start_time() is not None)
    try:
        t1.is_completed()
    except ValueError as error:
        print('reraised', type(error).__name__, error)
    print(type(t1.get_error()).__name__)
    same = anvil.server.get_background_task(t2.get_id())
    print('found', same.get_task_name(), len(anvil.server.list_background_tasks()))
    try:
        anvil.server.get_background_task('999999')
    except anvil.server.BackgroundTaskNotFound as error:
        print('not found')
"""
    widget_id = alice.create_widget("Outcomes", server_code=code)
    with consumer(app):
        answer = run_json(alice, widget_id)
    assert answer["ok"], answer
    lines = answer["stdout"].splitlines()
    assert lines[0] == "failed completed 7"
    assert lines[1] == "True False True"
    assert lines[2] == "reraised ValueError bad input 42"
    assert lines[3] == "ValueError"
    assert lines[4] == "found works 2"
    assert lines[5] == "not found"


def test_kill_stops_a_running_task_within_five_seconds(app, alice):
    code = """
import time
import anvil.server

@anvil.server.background_task
def forever():
    n = 0
    while True:
        n += 1
        anvil.server.task_state['n'] = n
        time.sleep(0.1)

if __name__ == "__main__":
    task = anvil.server.launch_background_task('forever')
    for _ in range(100):
        if task.get_state().get('n', 0) >= 3:
            break
        time.sleep(0.05)
    print('progress seen', task.get_state()['n'] >= 3)
    task.kill()
    started = time.time()
    while task.is_running() and time.time() - started < 5:
        time.sleep(0.05)
    print(task.get_termination_status(), time.time() - started < 5)
    try:
        task.is_completed()
    except anvil.server.BackgroundTaskKilled:
        print('killed raised')
"""
    widget_id = alice.create_widget("Killer", server_code=code)
    with consumer(app):
        answer = run_json(alice, widget_id)
    assert answer["ok"], answer
    assert answer["stdout"].splitlines() == ["progress seen True", "killed True", "killed raised"]
    (task,) = _task_runs(app, widget_id)
    assert task.status == "killed"
    assert json.loads(task.state_json)["n"] >= 3


def test_task_state_outside_a_task_is_a_clear_error(app, alice):
    code = "import anvil.server\nanvil.server.task_state['x'] = 1\n"
    widget_id = alice.create_widget("Outside", server_code=code)
    answer = run_json(alice, widget_id)
    assert answer["error"]["type"] == "RuntimeError"
    assert "only available inside a background task" in answer["error"]["message"]


def test_more_tasks_than_the_per_account_limit_are_refused_not_queued(app, alice):
    app.config["TASKS_PER_USER"] = 2
    code = """
import anvil.server

@anvil.server.background_task
def wait():
    pass

if __name__ == "__main__":
    for n in range(3):
        try:
            anvil.server.launch_background_task('wait')
            print('launched', n)
        except anvil.server.BackgroundTaskError as error:
            print('refused', n, error)
"""
    widget_id = alice.create_widget("Greedy", server_code=code)
    answer = run_json(alice, widget_id)  # no consumer: the first two stay queued
    lines = answer["stdout"].splitlines()
    assert lines[:2] == ["launched 0", "launched 1"]
    assert lines[2].startswith("refused 2 Too many background tasks")
    assert len(_task_runs(app, widget_id)) == 2


def test_a_task_reads_secrets_and_its_stored_output_state_and_result_are_redacted(app, alice):
    code = """
import anvil.secrets
import anvil.server

@anvil.server.background_task
def leak():
    key = anvil.secrets.get_secret('api_key')
    print('key is', key)
    anvil.server.task_state['key'] = key
    return {'key': key}

if __name__ == "__main__":
    anvil.server.launch_background_task('leak')
"""
    widget_id = alice.create_widget("Secretive", server_code=code)
    add_secret(app, widget_id, "api_key", SECRET_VALUE)
    with consumer(app):
        run_json(alice, widget_id)
        task = wait_for(lambda: [r for r in _task_runs(app, widget_id) if not r.is_active])[0]
    assert task.status == "completed"
    assert task.stdout == "key is ***\n"
    assert json.loads(task.state_json) == {"key": "***"}
    assert json.loads(task.return_json) == {"key": "***"}
    history = alice.client.get(
        f"/widgets/{widget_id}/history", headers={"Accept": "application/json"}
    )
    assert SECRET_VALUE not in history.get_data(as_text=True)
    with app.app_context():
        rows = db.session.execute(db.select(Run.__table__)).all()
    assert SECRET_VALUE not in repr(rows)


def test_a_task_that_runs_past_its_wall_time_is_killed(app, alice):
    app.config["TASK_WALL_SECONDS"] = 1.0
    code = """
import time
import anvil.server

@anvil.server.background_task
def slow():
    time.sleep(30)

if __name__ == "__main__":
    anvil.server.launch_background_task('slow')
"""
    widget_id = alice.create_widget("Slow", server_code=code)
    with consumer(app):
        run_json(alice, widget_id)
        task = wait_for(lambda: [r for r in _task_runs(app, widget_id) if not r.is_active])[0]
    assert task.status == "killed"
    assert task.error_type == "TimeLimitExceeded"
    assert task.duration_ms < 5000


def test_launching_from_the_top_level_is_refused_inside_the_task_it_would_relaunch(app, alice):
    code = """
import anvil.server

@anvil.server.background_task
def once():
    return 1

anvil.server.launch_background_task('once')
"""
    widget_id = alice.create_widget("Unguarded", server_code=code)
    with consumer(app):
        assert run_json(alice, widget_id)["ok"]
        task = wait_for(lambda: [r for r in _task_runs(app, widget_id) if not r.is_active])[0]
    assert task.status == "failed"
    assert "top level" in task.error_message and "__main__" in task.error_message
    assert len(_task_runs(app, widget_id)) == 1  # no chain of tasks launching tasks


def test_the_queue_carries_run_ids_never_arguments_or_code(app, alice):
    marker = "arg-7c0ffee-never-in-the-queue"
    code = f"""
import anvil.server

@anvil.server.background_task
def keep(value):
    pass

if __name__ == "__main__":
    anvil.server.launch_background_task('keep', '{marker}')
"""
    widget_id = alice.create_widget("Ids only", server_code=code)
    run_json(alice, widget_id)  # no consumer: the task's message waits in the queue
    queue_files = list((Path(app.instance_path)).glob("queue.sqlite*"))
    assert queue_files
    stored = b"".join(path.read_bytes() for path in queue_files)
    assert marker.encode() not in stored and b"background_task" not in stored
    (task,) = _task_runs(app, widget_id)
    assert task.status == "queued" and marker in task.args_json


def test_task_state_writes_are_throttled_and_the_last_state_always_arrives(app, alice, monkeypatch):
    from pyspace.sandbox.services import ChannelServices, services_for
    from pyspace.tasks import channel

    sent = []
    store = channel.SERVICES["set_task_state"]

    def counting(request, run):
        sent.append(request["state"])
        return store(request, run)

    # The app's registry copied the handlers when the app was built: give its runner (made at
    # the first run) a registry with the counting handler instead.
    counted = ChannelServices()
    counted.add({**services_for(app), "set_task_state": counting})
    monkeypatch.setitem(app.extensions, "channel_services", counted)
    code = """
import anvil.server

@anvil.server.background_task
def busy():
    for i in range(20000):
        anvil.server.task_state['i'] = i

if __name__ == "__main__":
    anvil.server.launch_background_task('busy')
"""
    widget_id = alice.create_widget("Busy", server_code=code)
    with consumer(app):
        run_json(alice, widget_id)
        task = wait_for(lambda: [r for r in _task_runs(app, widget_id) if not r.is_active])[0]
    assert task.status == "completed"
    assert json.loads(task.state_json) == {"i": 19999}
    assert sent[-1] == {"i": 19999}
    assert len(sent) < 100  # 20,000 writes, a handful of messages


def test_a_widget_cannot_see_or_kill_another_widgets_tasks(app, alice, bob):
    code = """
import time
import anvil.server

@anvil.server.background_task
def mine():
    time.sleep(30)

if __name__ == "__main__":
    print(anvil.server.launch_background_task('mine').get_id())
"""
    victim = alice.create_widget("Victim", server_code=code)
    task_id = run_json(alice, victim)["stdout"].strip()
    probe = f"""
import anvil.server
for attempt in (lambda: anvil.server.get_background_task('{task_id}'),):
    try:
        attempt()
        print('found it')
    except anvil.server.BackgroundTaskNotFound:
        print('not found')
print(len(anvil.server.list_background_tasks()))
from anvil import _channel
print(_channel.ask({{"op": "kill_task", "id": "{task_id}"}})["ok"])
"""
    for owner in (alice, bob):  # another widget of the same owner, and someone else's
        attacker = owner.create_widget("Probe", server_code=probe)
        assert run_json(owner, attacker)["stdout"] == "not found\n0\nFalse\n"
    (task,) = _task_runs(app, victim)
    assert task.status == "queued" and not task.kill_requested
