"""The run history has a ceiling per run: every stored text field (output, error message,
traceback, return value) keeps at most STORED_OUTPUT_CHARS, its start and its end, and one page
of the history shows each field's start and end only, so a page stays small whatever ran."""

import json

import pytest

from pyspace.extensions import db
from pyspace.models import Run, utcnow
from pyspace.runs import history
from pyspace.runs.history import STORED_OUTPUT_CHARS
from pyspace.sandbox.results import RunResult
from tests.sandbox.helpers import SMALL_LIMITS, run_json

HUGE = 3_900_000


@pytest.fixture
def app_config(app_config):
    return {**app_config, **SMALL_LIMITS}


def _record(app, widget_id, result: RunResult) -> Run:
    with app.app_context():
        run_id = history.record_finished(widget_id, "run", None, result, utcnow()).id
        run = db.session.get(Run, run_id, populate_existing=True)
        db.session.expunge(run)
        return run


def test_a_huge_error_message_and_traceback_keep_their_start_and_end(app, alice):
    widget_id = alice.create_widget("W")
    error = {
        "type": "Exception",
        "message": "START" + "A" * HUGE + "END",
        "traceback": "Traceback (most recent call last):\n" + "  line\n" * HUGE + "Exception: X",
    }
    run = _record(app, widget_id, RunResult(ok=False, error=error))
    for stored in (run.error_message, run.error_traceback):
        assert len(stored) <= STORED_OUTPUT_CHARS
        assert "characters cut" in stored
    assert run.error_message.startswith("START") and run.error_message.endswith("END")
    assert run.error_traceback.startswith("Traceback") and run.error_traceback.endswith("X")


def test_huge_output_keeps_its_start_and_end(app, alice):
    widget_id = alice.create_widget("W")
    text = "first line\n" + "x" * HUGE + "\nlast line"
    run = _record(app, widget_id, RunResult(ok=True, stdout=text, stderr=text))
    for stored in (run.stdout, run.stderr):
        assert len(stored) <= STORED_OUTPUT_CHARS
        assert stored.startswith("first line") and stored.endswith("last line")


@pytest.mark.parametrize("value", [['é\\"' * HUGE], {"k": "A" * HUGE}])
def test_a_huge_return_value_is_stored_as_the_start_and_end_of_its_json(app, alice, value):
    widget_id = alice.create_widget("W")
    run = _record(app, widget_id, RunResult(ok=True, result=value))
    assert len(run.return_json) <= STORED_OUTPUT_CHARS
    shown = json.loads(run.return_json)
    assert isinstance(shown, str) and "characters cut" in shown
    assert shown.startswith(json.dumps(value)[:10]) and shown.endswith(json.dumps(value)[-10:])


def test_a_small_return_value_is_stored_as_it_is(app, alice):
    widget_id = alice.create_widget("W")
    run = _record(app, widget_id, RunResult(ok=True, result={"n": [1, 2, "three"]}))
    assert json.loads(run.return_json) == {"n": [1, 2, "three"]}


def test_a_run_raising_a_huge_exception_stores_a_capped_error_and_a_page_stays_small(app, alice):
    widget_id = alice.create_widget(
        "Loud", server_code="print('x' * 60000)\nraise Exception('A' * 3_000_000 + 'END')\n"
    )
    answer = run_json(alice, widget_id)
    assert answer["ok"] is False and answer["error"]["type"] == "Exception"
    with app.app_context():
        [run] = db.session.scalars(db.select(Run).filter_by(widget_id=widget_id)).all()
        assert len(run.error_message) <= STORED_OUTPUT_CHARS
        assert run.error_message.endswith("END")
        assert len(run.error_traceback or "") <= STORED_OUTPUT_CHARS
        for _ in range(19):  # a full page of such runs
            db.session.add(
                Run(
                    widget_id=widget_id,
                    kind="run",
                    status="failed",
                    stdout=run.stdout,
                    stderr="e" * STORED_OUTPUT_CHARS,
                    error_type="Exception",
                    error_message=run.error_message,
                    error_traceback=run.error_traceback,
                    return_json=json.dumps("r" * (STORED_OUTPUT_CHARS - 2)),
                )
            )
        db.session.commit()
    page = alice.client.get(f"/widgets/{widget_id}/history")
    assert page.status_code == 200 and page.get_data(as_text=True).count("data-run") == 20
    assert len(page.get_data()) < 512 * 1024
    as_json = alice.client.get(
        f"/widgets/{widget_id}/history", headers={"Accept": "application/json"}
    )
    assert len(as_json.get_data()) < 1024 * 1024
    first = as_json.get_json()["runs"][-1]
    assert (
        first["error"]["message"].endswith("END") and "characters cut" in first["error"]["message"]
    )
