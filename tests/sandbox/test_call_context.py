"""`anvil.server.context`: "server_module" code, and who called it: the browser (a Run press
or a GUI call), an HTTP request, or a background task (with its id)."""

import json

import pytest

from tests.sandbox.helpers import confinement, run_json
from tests.tasks.helpers import TASK_CONFIG, consumer, runs_of, wait_for

CODE = """
import anvil.server

def describe():
    c = anvil.server.context
    return {"type": c.type, "client": c.client.type, "ip": c.client.ip,
            "trusted": c.remote_caller.is_trusted, "task": c.background_task_id}

@anvil.server.http_endpoint("/who")
def who():
    return describe()

@anvil.server.background_task
def task():
    return describe()

if __name__ == "__main__":
    print(describe())
    launched = anvil.server.launch_background_task("task")
    print(launched.get_id())
"""


@pytest.fixture
def app_config(app_config):
    app_config.update(TASK_CONFIG)
    return app_config


def test_context_names_the_browser_an_http_request_and_a_background_task(app, alice):
    confinement(app)
    widget_id = alice.create_widget("Who", server_code=CODE, visibility="public")
    with consumer(app):
        answer = run_json(alice, widget_id)
        assert answer["ok"], answer
        first, task_id = answer["stdout"].splitlines()
        assert first == str(
            {
                "type": "server_module",
                "client": "browser",
                "ip": "127.0.0.1",
                "trusted": False,
                "task": None,
            }
        )
        task = wait_for(
            lambda: [r for r in runs_of(app, widget_id) if r.kind == "task" and not r.is_active]
        )[0]
    assert json.loads(task.return_json) == {
        "type": "server_module",
        "client": "background_task",
        "ip": None,
        "trusted": True,
        "task": task_id,
    }
    endpoint = app.test_client().get(f"/_/api/{widget_id}/who").get_json()
    assert endpoint == {
        "type": "server_module",
        "client": "http",
        "ip": "127.0.0.1",
        "trusted": False,
        "task": None,
    }
