"""With RUNS_ON=queue an endpoint's request is answered by a queue worker, like a GUI call."""

import pytest

from pyspace.sandbox.redaction import WITHHELD
from tests.sandbox.helpers import add_secret, confinement
from tests.tasks.helpers import TASK_CONFIG, consumer, runs_of

CODE = """
import anvil.server, anvil.secrets

@anvil.server.http_endpoint("/hello/:name")
def hello(name):
    return {"hello": name, "client": anvil.server.context.client.type}

@anvil.server.http_endpoint("/leak")
def leak():
    return anvil.secrets.get_secret("api_key")
"""


@pytest.fixture
def app_config(app_config):
    app_config.update(TASK_CONFIG, RUNS_ON="queue")
    return app_config


def test_a_worker_answers_the_request_and_the_run_is_recorded(app, alice):
    confinement(app)
    widget_id = alice.create_widget("Queued API", server_code=CODE, visibility="public")
    add_secret(app, widget_id, "api_key", "sk-queued-endpoint-secret")
    client = app.test_client()
    with consumer(app):
        answer = client.get(f"/_/api/{widget_id}/hello/Ann")
        leak = client.get(f"/_/api/{widget_id}/leak")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json() == {"hello": "Ann", "client": "http"}
    assert leak.status_code == 500 and WITHHELD in leak.get_data(as_text=True)
    assert "sk-queued" not in leak.get_data(as_text=True)
    runs = runs_of(app, widget_id)
    assert [run.kind for run in runs] == ["http", "http"]
    assert all(run.args_json is None for run in runs)
