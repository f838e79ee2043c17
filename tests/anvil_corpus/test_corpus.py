"""Real Anvil server modules (modules/), unchanged, as py.space widgets' server code: their
functions called over the call route the way Anvil client code calls them, with the answers
Anvil gives."""

from pathlib import Path

import pytest

from pyspace.extensions import db
from pyspace.models import Widget
from pyspace.tables import schema
from tests.gui.test_routes import call, frame_boot
from tests.tasks.helpers import TASK_CONFIG, consumer
from tests.values.test_call_route import _result, _wait_for_task, client_side

MODULES = Path(__file__).parent / "modules"
TABLES_RUNTIME = Path(__file__).parents[2] / "sandbox_runtime" / "anvil" / "tables" / "__init__.py"


def module(name: str) -> str:
    return (MODULES / name).read_text()


@pytest.fixture(autouse=True)
def task_config(app_config):
    app_config.update(TASK_CONFIG)
    app_config.update({"RUN_WALL_SECONDS": 20.0, "RUN_CPU_SECONDS": 10})


def gui_widget(app, accounts, title, server_code, tables=None) -> str:
    widget_id = accounts.create_widget(title, "gui", visibility="public", server_code=server_code)
    with app.app_context():
        widget = db.session.get(Widget, widget_id)
        for table_name, columns in (tables or {}).items():
            table = schema.create_table(widget, table_name)
            for column, type_ in columns:
                schema.add_column(table, column, type_)
    return widget_id


def test_default_template_greets_the_caller(app, alice):
    widget_id = gui_widget(app, alice, "Default", module("default_server.py"))
    token = frame_boot(alice.client, widget_id)["callToken"]
    assert _result(alice.client, widget_id, token, "say_hello_name", "Ada") == (
        "Hello from the server, Ada!"
    )


@pytest.mark.skipif(
    "def has_row" not in TABLES_RUNTIME.read_text(),
    reason="the TodoList template calls app_tables.tasks.has_row (the tables runtime's)",
)
def test_todo_list_template_lists_updates_and_deletes_rows_passed_back(app, alice):
    widget_id = gui_widget(
        app,
        alice,
        "TodoList",
        module("todo_list_server.py"),
        {"tasks": [("name", "text"), ("complete", "bool")]},
    )
    token = frame_boot(alice.client, widget_id)["callToken"]
    _result(alice.client, widget_id, token, "add_tasks")
    _result(alice.client, widget_id, token, "add_task", "Water the plants")
    tasks = _result(alice.client, widget_id, token, "get_tasks")
    assert tasks["$t"] == "search"
    assert [row["values"] for row in tasks["rows"]] == [
        {"name": "Buy the shopping", "complete": False},
        {"name": "Walk the dog", "complete": False},
        {"name": "Water the plants", "complete": False},
    ]
    shopping, dog, _plants = tasks["rows"]
    # As the template's ItemTemplate1 does: update_task(task=self.item, complete=...).
    answer = call(
        alice.client,
        widget_id,
        "update_task",
        token,
        {"args": [], "kwargs": {"task": dog, "complete": True}},
    ).get_json()
    assert answer == {"ok": True, "result": None}
    # As Form1.delete_task does: delete_task(task).
    answer = call(
        alice.client, widget_id, "delete_task", token, {"args": [shopping], "kwargs": {}}
    ).get_json()
    assert answer == {"ok": True, "result": None}
    tasks = _result(alice.client, widget_id, token, "get_tasks")
    assert [row["values"] for row in tasks["rows"]] == [
        {"name": "Walk the dog", "complete": True},
        {"name": "Water the plants", "complete": False},
    ]


def test_background_task_pattern_reports_progress_and_returns_its_value(app, alice):
    widget_id = gui_widget(app, alice, "Progress", module("progress_task_server.py"))
    token = frame_boot(alice.client, widget_id)["callToken"]
    with consumer(app):
        task = _result(alice.client, widget_id, token, "launch_counting", 10)
        info = _wait_for_task(alice.client, widget_id, token, task["ref"])
        failed = _result(alice.client, widget_id, token, "launch_refusal", "not today")
        failure = _wait_for_task(alice.client, widget_id, token, failed["ref"])
    assert info["termination_status"] == "completed"
    assert client_side.decode(info["state"]) == {"progress": 100}
    assert client_side.decode(info["return_value"]) == {"total": 45, "steps": 10}
    assert failure["termination_status"] == "failed"
    assert failure["error"] == {"type": "ValueError", "message": "not today"}
