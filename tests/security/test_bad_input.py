"""Bad input gets a 4xx, never a 500: inputs that could reach a 500 page, one by one, and a fuzz
pass over every route's parameters and query strings."""

import json
import re

import pytest
from flask import url_for

from pyspace.sandbox.results import RunResult
from tests.gui.test_routes import call, frame_boot
from tests.sandbox.helpers import SMALL_LIMITS, run_json
from tests.security.test_routes import ROUTES, STATE_CHANGING, _methods, _rules

HUGE = "9" * 30

# Left out of the fuzz pass over every route: the first three would end it (a fresh session)
# rather than find a 500; /healthz answers 503 on purpose when no queue consumer is running
# (tests/operations/test_health.py).
NOT_FUZZED = {"auth.logout", "widgets.owner.delete", "admin.disable_user", "operations.healthz"}


def strict_json(response) -> object:
    """The body as JSON, refusing NaN and Infinity (which browsers' JSON.parse refuses too)."""

    def refuse(name):
        raise ValueError(f"{name} in a JSON answer")

    return json.loads(response.get_data(as_text=True), parse_constant=refuse)


@pytest.fixture
def public_gui(alice):
    return alice.create_widget("Greeter", "gui", visibility="public")


def raw_call(client, widget_id, token, body: str):
    return client.post(
        f"/widgets/{widget_id}/call/greet",
        data=body,
        headers={"X-Call-Token": token},
        content_type="application/json",
    )


@pytest.mark.parametrize(
    "body, status",
    [
        ('{"args": ' + "[" * 100_000 + "]" * 100_000 + "}", 413),
        ('{"args": [' + "7" * 4_301 + "]}", 400),
        ('{"args": [NaN]}', 400),
        ('{"args": [Infinity]}', 400),
        ('{"args": [-Infinity]}', 400),
        ('{"args": [1e999]}', 400),
        (b'{"args": ["\xff"]}', 400),
    ],
    ids=["nested-100000", "int-4301-digits", "nan", "infinity", "minus-infinity", "1e999", "utf8"],
)
def test_hostile_call_bodies_get_a_4xx_with_valid_json(app, alice, public_gui, body, status):
    token = frame_boot(alice.client, public_gui)["callToken"]
    response = raw_call(app.test_client(), public_gui, token, body)
    assert response.status_code == status
    answer = strict_json(response)
    assert answer["ok"] is False and answer["error"]["message"]


@pytest.mark.parametrize(
    "body",
    [
        '{"op": "search", "filters": ' + "[" * 100_000 + "]" * 100_000 + "}",
        '{"op": "add_row", "table": "t", "values": {"n": ' + "7" * 4_301 + "}}",
        '{"op": "search", "table": NaN}',
        b'{"op": "search", "table": "\xff"}',
        "[1, 2]",
        '{"op": "page", "ref": "forged", "offset": -1}',
        '{"op": "search", "table": {"$row": 1}}',
        '{"op": "get_by_id", "table": "t", "id": []}',
        '{"op": "nothing"}',
    ],
    ids=["nested", "int-4301-digits", "nan", "utf8", "list", "forged", "odd-table", "odd-id", "op"],
)
def test_hostile_client_table_questions_get_a_4xx_or_a_refusal_as_json(
    app, alice, public_gui, body
):
    token = frame_boot(alice.client, public_gui)["callToken"]
    response = app.test_client().post(
        f"/widgets/{public_gui}/call/-/tables",
        data=body,
        headers={"X-Call-Token": token},
        content_type="application/json",
    )
    assert response.status_code in (200, 400, 413)
    answer = strict_json(response)
    assert answer["ok"] is False and answer["error"]["message"]


def test_a_call_body_over_the_request_limit_gets_json_too(app, alice, public_gui):
    token = frame_boot(alice.client, public_gui)["callToken"]
    body = '{"args": ["' + "x" * (3 * 1024 * 1024) + '"]}'
    response = raw_call(app.test_client(), public_gui, token, body)
    assert response.status_code == 413
    assert strict_json(response)["ok"] is False


@pytest.mark.parametrize(
    "path",
    [
        f"/?page={HUGE}",
        "/?page=-1",
        "/?page=abc",
        "/u/alice?page=" + HUGE,
    ],
)
def test_a_huge_or_bad_page_number_is_a_400_that_says_why(client, alice, path):
    response = client.get(path)
    assert response.status_code == 400
    assert "must be a whole number" in response.get_data(as_text=True)


def test_a_30_digit_secret_id_is_not_found(alice):
    widget_id = alice.create_widget("W")
    for path in (
        f"/widgets/{widget_id}/secrets/{HUGE}",
        f"/widgets/{widget_id}/secrets/{HUGE}/edit/name",
    ):
        assert alice.client.get(path).status_code == 404
    response = alice.post(f"/widgets/{widget_id}/secrets/{HUGE}/value", {"value": "x"})
    assert response.status_code == 404


@pytest.mark.parametrize("argument", ["before", "after", "focus"])
def test_a_huge_secrets_paging_argument_is_a_400(alice, argument):
    widget_id = alice.create_widget("W")
    path = "more" if argument != "focus" else ""
    response = alice.client.get(
        f"/widgets/{widget_id}/secrets/{path}?{argument}={HUGE}".replace("/?", "?"),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 400


def test_json_clients_get_their_errors_as_json(alice):
    response = alice.client.get(f"/?page={HUGE}", headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert strict_json(response)["error"]["message"].startswith("“page” must be")


@pytest.fixture
def small_limits(app_config):
    app_config.update(SMALL_LIMITS)


def test_widget_code_writing_a_deeply_nested_frame_gets_a_clean_error(small_limits, alice):
    code = (
        "import os, struct, anvil._channel as channel\n"
        "frame = b'[' * 30000 + b']' * 30000\n"
        "os.write(channel._CHANNEL.fd, struct.pack('>I', len(frame)) + frame)\n"
        "import time; time.sleep(1)\n"
    )
    widget_id = alice.create_widget("Nested", server_code=code)
    answer = run_json(alice, widget_id)
    assert answer["ok"] is False
    assert answer["error"]["type"] == "SandboxError"
    assert "nested too deeply" in answer["error"]["message"]


def test_a_nan_result_is_refused_as_not_json(small_limits, app, alice):
    code = "import anvil.server\n@anvil.server.callable\ndef greet(name):\n    return float(name)\n"
    widget_id = alice.create_widget("NaN", "gui", visibility="public", server_code=code)
    token = frame_boot(alice.client, widget_id)["callToken"]
    for value in ("nan", "inf"):
        response = call(alice.client, widget_id, "greet", token, {"args": [value]})
        assert response.status_code == 200
        answer = strict_json(response)
        assert answer["ok"] is False and "not JSON" in answer["error"]["message"]


# --- The fuzz pass ---------------------------------------------------------------------------

HOSTILE = [
    HUGE,
    "9" * 5000,
    "-1",
    "0",
    "../../etc/passwd",
    "..%2f..%2fetc",
    "%00",
    "\x00",
    "é✓🙂",
    "\u202e",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "a" * 5000,
    "NaN",
    "1e999",
    "\u00b2",
    "echo\n",
]
# Query strings: every argument a view reads, with the values that broke them before.
QUERY_NAMES = ["page", "before", "after", "focus", "next", "edit"]
QUERY_HOSTILE = [HUGE, "-1", "../../etc/passwd", "\x00", "é✓🙂", "a" * 5000, "\u00b2", "²-²"]


def _fuzz_urls(app, rule, values: dict) -> list[str]:
    urls = []
    for name in sorted(rule.arguments):
        for hostile in HOSTILE:
            with app.test_request_context():
                try:
                    urls.append(url_for(rule.endpoint, **{**values, name: hostile}))
                except Exception:
                    # A value the route's converter can't even build (an int route given
                    # text): request it by hand instead.
                    url = url_for(rule.endpoint, **values)
                    urls.append(url.replace(str(values[name]), hostile.replace("/", "%2F"), 1))
    with app.test_request_context():
        base = url_for(rule.endpoint, **values)
    for query in QUERY_NAMES:
        urls += [f"{base}?{query}={hostile}" for hostile in QUERY_HOSTILE]
    return urls


@pytest.fixture
def fake_runs(monkeypatch):
    """The fuzz pass is about the web layer: runs and calls answer at once."""
    # Where the Run press and GUI calls reach the sandbox (through the run history).
    monkeypatch.setattr("pyspace.runs.execution.run_widget", lambda *a: RunResult(ok=True))
    monkeypatch.setattr(
        "pyspace.runs.execution.call_function", lambda *a: RunResult(ok=True, result=1)
    )


def _table_column_row_and_schedule(app, widget_id: str) -> tuple[int, int, int, int]:
    """Ids of the widget's first table, its first column, a row in it, and its schedule."""
    from pyspace.extensions import db
    from pyspace.models import DataTable, Schedule
    from pyspace.tables.rows import add_rows

    with app.app_context():
        table = db.session.scalar(db.select(DataTable).filter_by(widget_id=widget_id))
        [row_id] = add_rows(table, [{"city": "Oslo", "temp": 3.5}])
        schedule_id = db.session.scalar(db.select(Schedule.id).filter_by(widget_id=widget_id))
        return table.id, table.columns[0].id, row_id, schedule_id


@pytest.mark.parametrize("who", ["owner", "anonymous"])
@pytest.mark.long
def test_fuzzing_every_routes_parameters_never_gives_a_500(app, alice, make_client, fake_runs, who):
    # An unexpected exception must come back as the 500 the assertion looks for.
    app.config["PROPAGATE_EXCEPTIONS"] = False
    # The weather-logger example: a GUI widget with a secret, a table, columns and a schedule.
    used = alice.post("/examples/weather-logger/use")
    widget_id = used.headers["Location"].rstrip("/").split("/")[-2]
    alice.save_widget(widget_id, visibility="public")
    html = alice.client.get(f"/widgets/{widget_id}/secrets").get_data(as_text=True)
    secret_id = int(re.search(r'id="secret-(\d+)"', html).group(1))
    table_id, column_id, row_id, schedule_id = _table_column_row_and_schedule(app, widget_id)
    visitor = alice if who == "owner" else make_client()
    token = frame_boot(visitor.client, widget_id)["callToken"]
    values = {
        "widget_id": widget_id,
        "secret_id": secret_id,
        "mode": "name",
        "fn_name": "greet",
        "user_id": 1,
        "username": "alice",
        "filename": "css/app.css",
        "slug": "weather-logger",
        "table_id": table_id,
        "column_id": column_id,
        "row_id": row_id,
        "schedule_id": schedule_id,
        "code_id": 1,
        "mail_id": 1,
        "classroom_id": 1,
        "module_id": 1,
        "token": "not-a-token",
        "subpath": "missing",
        "version": "0" * 20,
    }
    csrf = visitor.csrf_token()
    seen, requests = set(), 0
    for rule in _rules(app):
        if rule.endpoint in NOT_FUZZED:
            continue
        for url in _fuzz_urls(app, rule, {k: values[k] for k in rule.arguments}):
            for method in _methods(rule):
                data = None
                headers = {"X-Call-Token": token}
                if method in STATE_CHANGING:
                    data = {"csrf_token": csrf, "value": "v", "name": "n", "move": "x:9" * 9}
                response = visitor.client.open(url, method=method, data=data, headers=headers)
                requests += 1
                assert response.status_code < 500, (method, url[:200], response.status_code)
                seen.add(rule.endpoint)
    assert seen == set(ROUTES) - NOT_FUZZED
    assert requests > 1000


# --- Data tables, history, task ids and names: each answered a 500 -------------------------

OUT_OF_RANGE_DATETIMES = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"]
DEEP_OBJECT = "[" * 200_000 + "]" * 200_000


def _table_with(app, widget_id: str, type_: str) -> tuple[int, int]:
    """A table `t` with one column `c` of `type_`: (table id, column id)."""
    from pyspace.extensions import db
    from pyspace.models import Widget
    from pyspace.tables import schema

    with app.app_context():
        table = schema.create_table(db.session.get(Widget, widget_id), "t")
        column = schema.add_column(table, "c", type_)
        return table.id, column.id


def _row_count(app) -> int:
    from pyspace.extensions import db
    from pyspace.models import DataRow

    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(DataRow))


@pytest.mark.parametrize(
    "type_, text",
    [("datetime", text) for text in OUT_OF_RANGE_DATETIMES] + [("simple_object", DEEP_OBJECT)],
    ids=["datetime-year-1-east", "datetime-year-9999-west", "object-nested-200000"],
)
def test_a_value_a_cell_cant_hold_is_a_422_when_adding_a_row(app, alice, type_, text):
    widget_id = alice.create_widget("W")
    table_id, column_id = _table_with(app, widget_id, type_)
    base = f"/widgets/{widget_id}/tables/{table_id}/rows"
    response = alice.post(base, {f"col-{column_id}": text}, htmx=True)
    assert response.status_code == 422
    assert _row_count(app) == 0


@pytest.mark.parametrize("text", OUT_OF_RANGE_DATETIMES)
def test_an_out_of_range_datetime_is_a_422_when_saving_a_cell(app, alice, text):
    from pyspace.extensions import db
    from pyspace.models import DataTable
    from pyspace.tables.rows import add_row

    widget_id = alice.create_widget("W")
    table_id, column_id = _table_with(app, widget_id, "datetime")
    with app.app_context():
        row_id = add_row(db.session.get(DataTable, table_id), {})
    url = f"/widgets/{widget_id}/tables/{table_id}/rows/{row_id}/cells/{column_id}"
    response = alice.post(url, {"value": text}, htmx=True)
    assert response.status_code == 422
    assert "outside the years 1–9999" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "type_, text",
    [("datetime", text) for text in OUT_OF_RANGE_DATETIMES]
    + [("simple_object", '"' + DEEP_OBJECT + '"')],
    ids=["datetime-year-1-east", "datetime-year-9999-west", "object-nested-200000"],
)
def test_a_csv_cell_a_column_cant_hold_is_a_422_naming_the_line(app, alice, type_, text):
    widget_id = alice.create_widget("W")
    table_id, _ = _table_with(app, widget_id, type_)
    url = f"/widgets/{widget_id}/tables/{table_id}/import"
    response = alice.post(url, {"csv": f"c\n{text}\n", "step": "apply"}, htmx=True)
    assert response.status_code == 422
    assert "Line 2" in response.get_data(as_text=True)
    assert _row_count(app) == 0


def test_a_datetime_at_the_edge_of_the_range_in_utc_is_still_stored(app, alice):
    widget_id = alice.create_widget("W")
    table_id, column_id = _table_with(app, widget_id, "datetime")
    base = f"/widgets/{widget_id}/tables/{table_id}/rows"
    response = alice.post(base, {f"col-{column_id}": "9999-12-31T23:59:59+01:00"}, htmx=True)
    assert response.status_code == 200
    assert _row_count(app) == 1


@pytest.mark.parametrize("edit", ["²-²", f"{HUGE}-1", "9" * 5000 + "-1"])
def test_an_odd_cell_to_edit_shows_the_rows_without_editing(app, alice, edit):
    widget_id = alice.create_widget("W")
    table_id, _ = _table_with(app, widget_id, "text")
    response = alice.client.get(f"/widgets/{widget_id}/tables/{table_id}/rows?edit={edit}")
    assert response.status_code == 200


@pytest.mark.parametrize("name", ["read-ings", "readings!", "r\u00e9adings"])
def test_a_table_name_must_match_the_name_rule_whole(app, alice, name):
    widget_id = alice.create_widget("W")
    response = alice.post(f"/widgets/{widget_id}/tables", {"name": name}, htmx=True)
    assert response.status_code == 422
    assert "Use letters, digits and underscores" in response.get_data(as_text=True)


@pytest.mark.parametrize("page", ["99999999999999999999", "0", "²", str(2**63 - 1)])
def test_a_huge_or_odd_history_page_is_a_400_or_an_empty_page(app, alice, page):
    widget_id = alice.create_widget("W")
    response = alice.client.get(f"/widgets/{widget_id}/history?page={page}")
    if page == str(2**63 - 1):  # a page number a database integer holds: simply empty
        assert response.status_code == 200
    else:
        assert response.status_code == 400
        assert "must be a whole number" in response.get_data(as_text=True)


def test_a_server_function_name_with_a_trailing_newline_is_refused(app, alice, public_gui):
    token = frame_boot(alice.client, public_gui)["callToken"]
    response = call(alice.client, public_gui, "greet%0A", token)
    assert response.status_code == 400
    assert "is not a function name" in strict_json(response)["error"]["message"]


def test_a_background_task_id_that_is_no_number_is_no_such_task(small_limits, app, alice):
    code = (
        "import anvil.server\n"
        "for task_id in ['\\u00b2', '9' * 30, '9' * 5000, '-1', ' 1', '1\\n']:\n"
        "    try:\n"
        "        anvil.server.get_background_task(task_id)\n"
        "    except Exception as error:\n"
        "        print(type(error).__name__)\n"
    )
    widget_id = alice.create_widget("Ids", server_code=code)
    answer = run_json(alice, widget_id)
    assert answer["ok"] is True, answer
    assert answer["stdout"].split() == ["BackgroundTaskNotFound"] * 6
    with app.app_context():
        from pyspace.extensions import db
        from pyspace.models import Run

        assert db.session.scalar(db.select(Run.status).filter_by(widget_id=widget_id)) == (
            "completed"
        )


# --- The fuzz pass over every channel op -----------------------------------------------------

CHANNEL_KEYS = [
    "id",
    "name",
    "table",
    "values",
    "filters",
    "order",
    "offset",
    "limit",
    "args",
    "kwargs",
    "state",
    "plaintext",
    "ciphertext",
]
CHANNEL_HOSTILE = [
    None,
    "",
    "\u00b2",
    HUGE,
    "9" * 5000,
    -1,
    10**30,
    1.5,
    float("inf"),
    True,
    [],
    {},
    ["x"] * 3,
    {"$datetime": "0001-01-01T00:00:00+01:00"},
    {"$datetime": "9999-12-31T23:59:59-01:00"},
    {"$date": "²"},
    {"t": {"$datetime": "not a date"}},
    "echo\n",
    "\x00",
    "a" * 5000,
]


def _nested(depth: int):
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.long
def test_fuzzing_every_channel_op_answers_and_never_raises(app, alice):
    """Each op, each request field it may read, each hostile value: an answer (ok or a
    refusal), never an exception (which would end the run as a 500, unrecorded)."""
    from pyspace.extensions import db
    from pyspace.models import Widget
    from pyspace.runs import history
    from pyspace.sandbox.services import RunContext, services_for
    from pyspace.tables import schema

    widget_id = alice.create_widget("W")
    with app.app_context():
        table = schema.create_table(db.session.get(Widget, widget_id), "t")
        for name, type_ in (("c", "text"), ("when", "datetime"), ("o", "simple_object")):
            schema.add_column(table, name, type_)
        run_id = history.new_run(widget_id, "task", None, task_name="nap").id
    # As deep as the channel's parser lets a request through (deeper ends the run cleanly).
    deep = _nested(900)
    services = services_for(app)
    assert len(services) >= 10
    for op in sorted(services):
        for key in CHANNEL_KEYS:
            for number, hostile in enumerate([*CHANNEL_HOSTILE, deep, {"o": deep}]):
                request = {"op": op, "table": "t", "name": "nap", key: hostile}
                with app.app_context():
                    run = RunContext(widget_id, alice_id(app), viewer_is_owner=True, run_id=run_id)
                    try:
                        answer = services[op](request, run)
                    except Exception as error:  # the assertion names what broke
                        raise AssertionError((op, key, number, error)) from error
                    assert isinstance(answer, dict) and "ok" in answer, (op, key, number)


def alice_id(app) -> int:
    from pyspace.extensions import db
    from pyspace.models import User

    return db.session.scalar(db.select(User.id).filter_by(username="alice"))
