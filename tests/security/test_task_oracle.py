"""Background tasks are not an oracle: what a visitor reads back of a task they started is
withheld whole when it held a secret value, and every such answer counts against their
extraction budget.

The attack: alice's public GUI widget launches a task with the visitor's query and reports the
task back. Before, a visitor guessed without limit ("failed", with the output hidden, when the
guess held the PIN; "completed" otherwise), and the task's state was masked in place
(`{'query': '12***55'}`), so where the mask fell showed which digits matched.
"""

import json

import pytest

from pyspace.extensions import db
from pyspace.models import AuditEvent, Run
from pyspace.sandbox.redaction import WITHHELD
from tests.gui.test_routes import call, frame_boot
from tests.sandbox.helpers import add_secret
from tests.tasks.helpers import TASK_CONFIG, consumer, wait_for

PIN = "7305"
SERVER_CODE = """
import anvil.secrets
import anvil.server

@anvil.server.background_task
def search(query):
    pin = anvil.secrets.get_secret('pin')
    anvil.server.task_state['query'] = query
    return {'query': query, 'found': pin in query}

@anvil.server.callable
def echo(query):
    anvil.secrets.get_secret('pin')
    return query

@anvil.server.callable
def start(query):
    return anvil.server.launch_background_task('search', query).get_id()

@anvil.server.callable
def report(task_id):
    task = anvil.server.get_background_task(task_id)
    return {
        'status': task.get_termination_status(),
        'state': task.get_state(),
        'value': task.get_return_value(),
    }
"""


@pytest.fixture
def app_config(app_config):
    return {**app_config, **TASK_CONFIG}


@pytest.fixture
def search_widget(app, alice):
    widget_id = alice.create_widget("Search", "gui", visibility="public", server_code=SERVER_CODE)
    add_secret(app, widget_id, "pin", PIN)
    return widget_id


def _task_of(app, task_id: str) -> Run:
    with app.app_context():
        db.session.expire_all()
        run = db.session.get(Run, int(task_id))
        db.session.expunge(run)
        return run


def _guess(app, client, widget_id, token, query):
    """Start a task with `query`, wait for it to end, and read it back: (status, answer)."""
    started = call(client, widget_id, "start", token, {"args": [query]})
    assert started.status_code == 200, started.get_data(as_text=True)
    task_id = started.get_json()["result"]
    wait_for(lambda: not _task_of(app, task_id).is_active, timeout=60)
    answer = call(client, widget_id, "report", token, {"args": [task_id]})
    return answer.status_code, answer.get_json(), task_id


def test_a_visitors_task_state_is_withheld_whole_not_masked_in_place(
    app, search_widget, make_client
):
    visitor = make_client()
    token = frame_boot(visitor.client, search_widget)["callToken"]
    with consumer(app):
        _, _, task_id = _guess(app, visitor.client, search_widget, token, f"12{PIN}55")
    stored = _task_of(app, task_id)
    assert json.loads(stored.state_json) == {"output_hidden": WITHHELD}
    assert "12***55" not in (stored.state_json or "") and PIN not in (stored.state_json or "")
    assert stored.held_secret and stored.status == "failed"


@pytest.mark.long
def test_reading_back_a_task_that_held_the_secret_is_withheld_and_counted(
    app, alice, search_widget, make_client
):
    app.config["EXTRACTION_BUDGET"] = 2
    visitor = make_client()
    token = frame_boot(visitor.client, search_widget)["callToken"]
    with consumer(app):
        # A guess without the PIN reads back in full, and is not counted.
        status, miss, _ = _guess(app, visitor.client, search_widget, token, "0000")
        assert status == 200
        assert miss["result"] == {
            "status": "completed",
            "state": {"query": "0000"},
            "value": {"query": "0000", "found": False},
        }
        # A guess holding it: the whole answer is withheld (no status, state or value).
        for _ in range(2):
            status, hit, _ = _guess(app, visitor.client, search_widget, token, f"12{PIN}55")
            assert status == 200
            assert hit == {"ok": False, "error": {"type": "OutputHidden", "message": WITHHELD}}
        # Two withheld answers used the budget up: the visitor is refused, the owner is told.
        refused = call(visitor.client, search_widget, "start", token, {"args": ["1111"]})
    assert refused.status_code == 429
    assert refused.get_json()["error"]["type"] == "TooManyHiddenResults"
    with app.app_context():
        events = db.session.scalars(db.select(AuditEvent).filter_by(action="extraction")).all()
        assert len(events) == 1 and "anonymous visitor" in events[0].detail


def test_the_owner_reads_its_own_tasks_masked_and_is_never_counted(app, alice, search_widget):
    app.config["EXTRACTION_BUDGET"] = 1
    token = frame_boot(alice.client, search_widget)["callToken"]
    with consumer(app):
        for _ in range(2):
            status, answer, _ = _guess(app, alice.client, search_widget, token, f"12{PIN}55")
            assert status == 200
            assert answer["result"]["state"] == {"query": "12***55"}
            assert answer["result"]["status"] == "completed"


def test_a_withheld_answer_counts_when_a_worker_runs_the_call(app, search_widget, make_client):
    app.config.update(RUNS_ON="queue", EXTRACTION_BUDGET=1)
    visitor = make_client()
    token = frame_boot(visitor.client, search_widget)["callToken"]
    with consumer(app):
        hit = call(visitor.client, search_widget, "echo", token, {"args": [PIN]})
        assert hit.get_json()["error"]["type"] == "OutputHidden"
        refused = call(visitor.client, search_widget, "echo", token, {"args": ["0000"]})
    assert refused.status_code == 429
