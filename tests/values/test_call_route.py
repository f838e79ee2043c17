"""Portable values through a GUI widget's call route, in real sandboxed runs: every value type
both ways and through a background task, rows and searches handed out with references only
this page can send back, task progress for the caller, and secrets masked or withheld inside
values."""

import datetime
import json
import time

import pytest

from pyspace.extensions import db
from pyspace.gui.references import sign_reference
from pyspace.models import Widget
from pyspace.tables import rows, schema
from tests.gui.test_routes import call, frame_boot
from tests.sandbox.helpers import add_secret
from tests.tasks.helpers import TASK_CONFIG, consumer
from tests.values.runtimes import CLIENT_ANVIL, load_serialise

client_side = load_serialise(CLIENT_ANVIL, "client_anvil")
client_media = __import__("client_anvil._media").__dict__["_media"]

SERVER_CODE = """
import datetime
import anvil.server
import anvil.secrets
from anvil.tables import app_tables

@anvil.server.portable_class
class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y

@anvil.server.callable
def echo(value):
    return value

@anvil.server.callable
def describe(value):
    return {k: type(v).__name__ for k, v in value.items()}

@anvil.server.callable
def make_point():
    return {"p": Point(1, 2), "when": datetime.date(2024, 5, 1)}

@anvil.server.callable
def unportable():
    return [1, 2, {"when": {1, 2}}]

@anvil.server.callable
def through_task(value):
    return anvil.server.launch_background_task("keep", value)

@anvil.server.background_task
def keep(value):
    anvil.server.task_state["seen"] = value
    return value

@anvil.server.background_task
def fail():
    raise ValueError("bad data")

@anvil.server.callable
def failing_task():
    return anvil.server.launch_background_task("fail")

@anvil.server.callable
def get_tasks():
    return app_tables.tasks.search()

@anvil.server.callable
def get_first():
    return app_tables.tasks.search()[0]

@anvil.server.callable
def update_task(task, complete):
    task.update(complete=complete)
    return task["name"]

@anvil.server.callable
def server_to_server(day):
    return anvil.server.call("echo", {"day": day, "next": day + datetime.timedelta(days=1)})

@anvil.server.callable
def missing_inside():
    return anvil.server.call("no_such_function")

@anvil.server.background_task
def use_stored(values):
    values["row"].update(complete=True)
    names = [row["name"] for row in values["rows"]]
    return {"names": names, "p": values["p"], "row": values["row"]}

@anvil.server.callable
def stored_through_task():
    first = app_tables.tasks.search()[0]
    return anvil.server.launch_background_task(
        "use_stored", {"row": first, "rows": app_tables.tasks.search(), "p": Point(5, 6)}
    )

@anvil.server.background_task
def reveal():
    return {"k": "key=" + anvil.secrets.get_secret("api_key")}

@anvil.server.callable
def secret_task():
    return anvil.server.launch_background_task("reveal")

@anvil.server.callable
def task_by_id(task_id):
    return anvil.server.get_background_task(task_id)

@anvil.server.callable
def secret_inside():
    key = anvil.secrets.get_secret("api_key")
    return {"deep": [{"k": "key=" + key}], "p": Point(key, 0),
            "file": anvil.BlobMedia("text/plain", ("x" + key + "y").encode(), name="f.txt")}
"""

SECRET = "sk-portable-9f8e7d6c"


@pytest.fixture(autouse=True)
def task_config(app_config):
    app_config.update(TASK_CONFIG)
    app_config.update({"RUN_WALL_SECONDS": 20.0, "RUN_CPU_SECONDS": 10})


@pytest.fixture
def widget_id(app, alice):
    widget_id = alice.create_widget("Values", "gui", visibility="public", server_code=SERVER_CODE)
    with app.app_context():
        widget = db.session.get(Widget, widget_id)
        table = schema.create_table(widget, "tasks")
        schema.add_column(table, "name", "text")
        schema.add_column(table, "complete", "bool")
    add_secret(app, widget_id, "api_key", SECRET)
    return widget_id


def _call(client, widget_id, token, fn, *args, **kwargs):
    body = {
        "args": client_side.encode(list(args), "args"),
        "kwargs": client_side.encode(kwargs, "kwargs"),
    }
    response = call(client, widget_id, fn, token, body)
    return response.status_code, response.get_json()


def _result(client, widget_id, token, fn, *args, **kwargs):
    status, answer = _call(client, widget_id, token, fn, *args, **kwargs)
    assert status == 200 and answer["ok"], answer
    return answer["result"]


def _ask(client, widget_id, token, route, body):
    response = client.post(
        f"/widgets/{widget_id}/call/-/{route}",
        headers={"X-Call-Token": token},
        data=json.dumps(body),
        content_type="application/json",
    )
    return response.status_code, response.get_json()


def _values():
    return {
        "aware": datetime.datetime(2024, 5, 1, 9, 0, tzinfo=datetime.UTC),
        "day": datetime.date(2024, 2, 29),
        "media": client_media.BlobMedia("application/octet-stream", bytes(range(256)), name="b"),
        "nested": [1, "two", {"three": [None, True, 2.5]}],
    }


def test_every_value_type_round_trips_through_a_server_function(app, alice, widget_id):
    token = frame_boot(alice.client, widget_id)["callToken"]
    sent = _values()
    received = client_side.decode(_result(alice.client, widget_id, token, "echo", sent))
    assert received["aware"] == sent["aware"] and received["aware"].tzinfo is not None
    assert received["day"] == sent["day"]
    assert received["media"].get_bytes() == bytes(range(256)) and received["media"].name == "b"
    assert received["nested"] == sent["nested"]
    kinds = _result(alice.client, widget_id, token, "describe", sent)
    assert kinds == {"aware": "datetime", "day": "date", "media": "BlobMedia", "nested": "list"}


@client_side.portable_class
class Point:
    """The client code's side of the server code's Point."""

    def __init__(self, x, y):
        self.x, self.y = x, y


def test_a_portable_class_defined_on_both_sides_crosses(app, alice, widget_id):
    token = frame_boot(alice.client, widget_id)["callToken"]
    received = client_side.decode(_result(alice.client, widget_id, token, "make_point"))
    assert isinstance(received["p"], Point) and (received["p"].x, received["p"].y) == (1, 2)
    assert received["when"] == datetime.date(2024, 5, 1)
    back = client_side.decode(_result(alice.client, widget_id, token, "echo", Point(3, 4)))
    assert isinstance(back, Point) and (back.x, back.y) == (3, 4)


def test_an_unportable_result_is_a_serialization_error_naming_its_path(app, alice, widget_id):
    token = frame_boot(alice.client, widget_id)["callToken"]
    status, answer = _call(alice.client, widget_id, token, "unportable")
    assert status == 200 and answer["ok"] is False
    assert answer["error"]["type"] == "SerializationError"
    assert "returned a value that is not portable: result[2]['when']" in answer["error"]["message"]


def test_unknown_function_is_a_no_server_function_error(app, alice, widget_id):
    token = frame_boot(alice.client, widget_id)["callToken"]
    _, answer = _call(alice.client, widget_id, token, "nope")
    assert answer["error"]["type"] == "NoServerFunctionError"
    _status, answer = _call(alice.client, widget_id, token, "missing_inside")
    assert answer["error"]["type"] == "NoServerFunctionError"


def test_server_code_calls_its_own_function_with_the_same_rules(app, alice, widget_id):
    token = frame_boot(alice.client, widget_id)["callToken"]
    day = datetime.date(2024, 12, 31)
    received = client_side.decode(_result(alice.client, widget_id, token, "server_to_server", day))
    assert received == {"day": day, "next": datetime.date(2025, 1, 1)}


def _wait_for_task(client, widget_id, token, ref, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, answer = _ask(client, widget_id, token, "task", {"ref": ref})
        assert status == 200 and answer["ok"], answer
        if answer["task"]["termination_status"] is not None:
            return answer["task"]
        time.sleep(0.1)
    raise AssertionError("the task did not finish")


def test_values_round_trip_through_a_background_task(app, alice, widget_id):
    token = frame_boot(alice.client, widget_id)["callToken"]
    sent = _values()
    with consumer(app):
        task = _result(alice.client, widget_id, token, "through_task", sent)
        assert task["$t"] == "task" and task["ref"]
        info = _wait_for_task(alice.client, widget_id, token, task["ref"])
    assert info["termination_status"] == "completed"
    for received in (
        client_side.decode(info["return_value"]),
        client_side.decode(info["state"])["seen"],
    ):
        assert received["aware"] == sent["aware"]
        assert received["day"] == sent["day"]
        assert received["media"].get_bytes() == bytes(range(256))
        assert received["nested"] == sent["nested"]


def test_a_failed_tasks_error_reaches_the_caller(app, alice, widget_id):
    token = frame_boot(alice.client, widget_id)["callToken"]
    with consumer(app):
        task = _result(alice.client, widget_id, token, "failing_task")
        info = _wait_for_task(alice.client, widget_id, token, task["ref"])
    assert info["termination_status"] == "failed"
    assert info["error"] == {"type": "ValueError", "message": "bad data"}


def test_a_task_reference_works_only_on_the_page_it_was_given_to(app, alice, bob, widget_id):
    token = frame_boot(alice.client, widget_id)["callToken"]
    task = _result(alice.client, widget_id, token, "failing_task")
    other_page = frame_boot(bob.client, widget_id)["callToken"]
    status, answer = _ask(bob.client, widget_id, other_page, "task", {"ref": task["ref"]})
    assert status == 400 and answer["error"]["type"] == "SerializationError"
    forged = task["ref"][:-3] + "abc"
    status, answer = _ask(alice.client, widget_id, token, "task", {"ref": forged})
    assert status == 400


def _add_rows(app, widget_id, count):
    from tests.tables.helpers import run_code

    result = run_code(
        app,
        widget_id,
        "from anvil.tables import app_tables\n"
        f"for n in range({count}):\n"
        "    app_tables.tasks.add_row(name=f'task {n}', complete=False)\n",
    )
    assert result.ok, result.error


def test_a_returned_row_comes_back_as_the_same_live_row(app, alice, widget_id):
    _add_rows(app, widget_id, 2)
    token = frame_boot(alice.client, widget_id)["callToken"]
    row = _result(alice.client, widget_id, token, "get_first")
    assert row["$t"] == "row" and row["values"]["name"] == "task 0" and row["ref"]
    # The browser may change what it shows; only the signed reference counts.
    sent_back = dict(row, id="999", table="other", values={"name": "forged"})
    response = call(
        alice.client,
        widget_id,
        "update_task",
        token,
        {"args": [sent_back], "kwargs": {"complete": True}},
    )
    assert response.get_json() == {"ok": True, "result": "task 0"}
    again = _result(alice.client, widget_id, token, "get_first")
    assert again["values"] == {"name": "task 0", "complete": True}


@pytest.mark.parametrize("forgery", ["no ref", "forged ref", "other page", "other widget"])
def test_a_row_not_given_to_this_page_is_refused(app, alice, bob, widget_id, forgery):
    _add_rows(app, widget_id, 1)
    token = frame_boot(alice.client, widget_id)["callToken"]
    row = _result(alice.client, widget_id, token, "get_first")
    client, widget, page = alice.client, widget_id, token
    if forgery == "no ref":
        row.pop("ref")
    elif forgery == "forged ref":
        row["ref"] = row["ref"][:-4] + "AAAA"
    elif forgery == "other page":
        client = bob.client
        page = frame_boot(bob.client, widget_id)["callToken"]
    else:
        widget = alice.create_widget("Other", "gui", visibility="public", server_code=SERVER_CODE)
        page = frame_boot(alice.client, widget)["callToken"]
    response = call(client, widget, "update_task", page, {"args": [row, True], "kwargs": {}})
    assert response.status_code == 400
    assert response.get_json()["error"]["type"] == "SerializationError"
    check = _result(alice.client, widget_id, token, "get_first")
    assert check["values"]["complete"] is False


def test_a_search_arrives_with_its_first_page_and_fetches_the_rest(
    app, alice, widget_id, make_client
):
    _add_rows(app, widget_id, 130)
    token = frame_boot(alice.client, widget_id)["callToken"]
    search = _result(alice.client, widget_id, token, "get_tasks")
    assert search["$t"] == "search" and search["more"] is True and "query" not in search
    assert len(search["rows"]) == 100
    status, page = _ask(
        alice.client, widget_id, token, "rows", {"ref": search["ref"], "offset": 100}
    )
    assert status == 200 and page["more"] is False
    names = [row["values"]["name"] for row in search["rows"] + page["rows"]]
    assert names == [f"task {n}" for n in range(130)]
    status, length = _ask(
        alice.client, widget_id, token, "rows", {"ref": search["ref"], "count": True}
    )
    assert length == {"ok": True, "count": 130}
    # A row of a later page goes back like any other.
    response = call(
        alice.client,
        widget_id,
        "update_task",
        token,
        {"args": [page["rows"][-1], True], "kwargs": {}},
    )
    assert response.get_json() == {"ok": True, "result": "task 129"}
    # Another viewer's page can't use the search's reference.
    visitor = make_client()
    other = frame_boot(visitor.client, widget_id)["callToken"]
    status, _ = _ask(visitor.client, widget_id, other, "rows", {"ref": search["ref"], "offset": 0})
    assert status == 400


def test_a_secret_inside_a_value_is_masked_for_the_owner_and_withheld_from_others(
    app, alice, bob, widget_id
):
    token = frame_boot(alice.client, widget_id)["callToken"]
    owner_sees = client_side.decode(_result(alice.client, widget_id, token, "secret_inside"))
    assert owner_sees["deep"] == [{"k": "key=***"}]
    assert owner_sees["p"].x == "***"
    assert owner_sees["file"].get_bytes() == b"x***y"
    assert SECRET not in json.dumps(_call(alice.client, widget_id, token, "secret_inside")[1])
    other = frame_boot(bob.client, widget_id)["callToken"]
    _status, answer = _call(bob.client, widget_id, other, "secret_inside")
    assert answer["ok"] is False and answer["error"]["type"] == "OutputHidden"
    assert SECRET not in json.dumps(answer)


def test_a_tasks_secret_is_masked_for_the_owner_and_withheld_from_another_viewer(
    app, alice, bob, widget_id
):
    token = frame_boot(alice.client, widget_id)["callToken"]
    with consumer(app):
        task = _result(alice.client, widget_id, token, "secret_task")
        info = _wait_for_task(alice.client, widget_id, token, task["ref"])
    assert info["return_value"] == {"k": "key=***"}
    other = frame_boot(bob.client, widget_id)["callToken"]
    # A server function that hands the task to another viewer has its whole answer withheld
    # (it read an outcome that held a secret value)...
    _, answer = _call(bob.client, widget_id, other, "task_by_id", task["id"])
    assert answer["ok"] is False and answer["error"]["type"] == "OutputHidden"
    # ...and a reference to the task on another viewer's page shows it failed, outcome withheld.
    with app.test_request_context():
        ref = sign_reference({"kind": "task", "id": task["id"]}, widget_id, other)
    status, answer = _ask(bob.client, widget_id, other, "task", {"ref": ref})
    assert status == 200 and answer["task"]["termination_status"] == "failed"
    assert answer["task"]["error"] == {
        "type": "OutputHidden",
        "message": "Output hidden: it contained a secret value",
    }
    assert answer["task"]["return_value"] is None
    assert SECRET not in json.dumps(answer) and "***" not in json.dumps(answer)


def test_rows_searches_and_portable_objects_go_through_a_background_task(app, alice, widget_id):
    _add_rows(app, widget_id, 3)
    token = frame_boot(alice.client, widget_id)["callToken"]
    with consumer(app):
        task = _result(alice.client, widget_id, token, "stored_through_task")
        info = _wait_for_task(alice.client, widget_id, token, task["ref"])
    assert info["termination_status"] == "completed", info
    returned = info["return_value"]
    assert returned["names"] == ["task 0", "task 1", "task 2"]
    assert returned["row"]["values"] == {"name": "task 0", "complete": True}
    assert returned["row"]["ref"]  # a row in a task's return value can be sent back too
    point = client_side.decode(returned["p"])
    assert isinstance(point, Point) and (point.x, point.y) == (5, 6)
    answer = call(
        alice.client,
        widget_id,
        "update_task",
        token,
        {"args": [returned["row"], False], "kwargs": {}},
    ).get_json()
    assert answer == {"ok": True, "result": "task 0"}


def test_a_result_nested_past_the_channels_limit_is_refused_before_redaction(app, alice):
    code = (
        "import os, anvil._channel as channel, anvil.secrets, anvil.server\n"
        "@anvil.server.callable\n"
        "def deep():\n"
        "    anvil.secrets.get_secret('api_key')\n"
        "    value = []\n"
        "    for _ in range(900):\n"
        "        value = [value]\n"
        "    channel.send({'op': 'done', 'error': None, 'result': value})\n"
        "    os._exit(0)\n"
    )
    widget_id = alice.create_widget("Deep", "gui", visibility="public", server_code=code)
    add_secret(app, widget_id, "api_key", SECRET)
    token = frame_boot(alice.client, widget_id)["callToken"]
    status, answer = _call(alice.client, widget_id, token, "deep")
    assert status == 200 and answer["ok"] is False
    assert answer["error"]["type"] == "SerializationError"
    assert "nested more than 64" in answer["error"]["message"]


def test_task_state_nested_past_the_channels_limit_is_refused(app, alice):
    code = (
        "import anvil._channel as channel, anvil.server\n"
        "@anvil.server.callable\n"
        "def deep():\n"
        "    value = {}\n"
        "    for _ in range(900):\n"
        "        value = {'v': value}\n"
        "    return channel.ask({'op': 'set_task_state', 'state': value})\n"
    )
    widget_id = alice.create_widget("Deep state", "gui", visibility="public", server_code=code)
    token = frame_boot(alice.client, widget_id)["callToken"]
    answer = _result(alice.client, widget_id, token, "deep")
    assert answer == {
        "ok": False,
        "message": "The request nests more than 64 lists and dicts deep.",
    }


def test_a_later_page_holding_a_secret_value_is_masked_for_the_owner_and_withheld_from_others(
    app, alice, widget_id, make_client
):
    # The run that made the search read no secret; its later pages are read with no run at all.
    _add_rows(app, widget_id, 100)
    with app.app_context():
        table = schema.table_named(widget_id, "tasks")
        rows.add_row(table, {"name": f"key {SECRET}", "complete": False})
    token = frame_boot(alice.client, widget_id)["callToken"]
    search = _result(alice.client, widget_id, token, "get_tasks")
    status, page = _ask(
        alice.client, widget_id, token, "rows", {"ref": search["ref"], "offset": 100}
    )
    assert status == 200 and [row["values"]["name"] for row in page["rows"]] == ["key ***"]

    visitor = make_client()
    other = frame_boot(visitor.client, widget_id)["callToken"]
    theirs = _result(visitor.client, widget_id, other, "get_tasks")
    status, hidden = _ask(
        visitor.client, widget_id, other, "rows", {"ref": theirs["ref"], "offset": 100}
    )
    assert status == 200 and hidden["error"]["type"] == "OutputHidden"
    assert SECRET not in json.dumps(hidden)
