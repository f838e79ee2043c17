"""A secret's value is nowhere but in the owner's explicit View value (and inside the sandbox).

One widget with a secret is used every way the product allows — pages and fragments of every GET
route, runs, a GUI call, a fork, an error page — and then every response, log line, audit row and
byte of the database files is searched for the value.
"""

import io
import json
import logging
import zipfile

import pytest
from flask import url_for

from pyspace.extensions import db
from pyspace.gui.call_tokens import issue_call_token
from pyspace.gui.frame_boot import client_runtime
from pyspace.log_format import TEXT_FORMAT, JsonFormatter
from pyspace.models import AuditEvent, Secret, User, Widget
from pyspace.sandbox.redaction import WITHHELD
from pyspace.secrets import vault
from tests.conftest import stored_bytes
from tests.sandbox.helpers import ROOMY_LIMITS, add_secret
from tests.security.test_routes import ROUTES

VALUE = "sk-sweep-5e1d9a77c3b24f0e"
HX = {"HX-Request": "true"}
SERVER_CODE = """\
import anvil.secrets
import anvil.server

key = anvil.secrets.get_secret("api_key")
print("stdout:", key)


@anvil.server.callable
def leak():
    return {"key": anvil.secrets.get_secret("api_key")}


@anvil.server.callable
def fail():
    raise ValueError("bad key " + anvil.secrets.get_secret("api_key"))
"""
# Routes that exist to show or export the value to its owner, on purpose (both POSTs).
EXPLICIT_VIEWS = {"secrets.reveal", "secrets.export_values"}


@pytest.fixture(autouse=True)
def small_limits(app_config):
    app_config.update(ROOMY_LIMITS)


@pytest.fixture
def logs():
    """Every log line (SQL with its parameters included) written during the test, as text and
    as the JSON lines of PYSPACE_LOG_FORMAT=json."""
    lines = []
    handler = logging.Handler(logging.DEBUG)
    formatters = (logging.Formatter(TEXT_FORMAT), JsonFormatter())
    handler.emit = lambda record: lines.extend(f.format(record) for f in formatters)
    root, engine = logging.getLogger(), logging.getLogger("sqlalchemy.engine")
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    engine.setLevel(logging.INFO)
    yield lines
    engine.setLevel(logging.NOTSET)
    root.removeHandler(handler)
    root.setLevel(old_level)


@pytest.fixture
def widget(app, alice):
    widget_id = alice.create_widget("Weather", "gui", server_code=SERVER_CODE, visibility="public")
    add_secret(app, widget_id, "api_key", VALUE)
    with app.app_context():
        secret_id = db.session.scalar(db.select(Secret.id).filter_by(widget_id=widget_id))
    return widget_id, secret_id


def get_routes(app, widget_id, secret_id, username):
    """The URL of every GET route for this widget and secret (all edit modes)."""
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if (
                "GET" not in rule.methods
                or rule.endpoint in EXPLICIT_VIEWS
                or rule.endpoint == "static"
            ):
                continue
            values = {
                "widget_id": widget_id,
                "secret_id": secret_id,
                "username": username,
                "user_id": 1,
                # Data-table routes (the widget has no tables: they answer 404, showing nothing).
                "table_id": 1,
                "column_id": 1,
                "row_id": 1,
                # Outbox mail, classes, one-time links and HTTP endpoints that don't exist.
                "mail_id": 1,
                "classroom_id": 1,
                "module_id": 1,
                "token": "not-a-token",
                "subpath": "missing",
                # The client runtime's bundle, as GUI widgets' pages name it.
                "version": client_runtime().version,
            }
            modes = ("name", "value", "details") if "mode" in rule.arguments else (None,)
            for mode in modes:
                arguments = {name: values[name] for name in rule.arguments if name != "mode"}
                yield (
                    rule.endpoint,
                    url_for(rule.endpoint, **arguments, **({"mode": mode} if mode else {})),
                )


def readable(response) -> str:
    """A response's text; for a zip (the export), the text of every file in it, since a
    compressed body would hide a value from a plain search."""
    if response.mimetype == "application/zip":
        with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
            return "\n".join(
                archive.read(name).decode("utf-8", "replace") for name in archive.namelist()
            )
    return response.get_data(as_text=True)


def sweep(accounts, urls) -> list[str]:
    """GET each URL as a page and as an htmx fragment; the bodies of every answer."""
    bodies = []
    for _endpoint, url in urls:
        for headers in ({}, HX):
            bodies.append(readable(accounts.client.get(url, headers=headers)))
    return bodies


def test_no_get_route_shows_the_value_to_anyone(app, alice, make_client, widget):
    widget_id, secret_id = widget
    # The value is there to be found: the owner's View value (a POST) shows it.
    assert VALUE in alice.post(f"/widgets/{widget_id}/secrets/{secret_id}/reveal").get_data(
        as_text=True
    )
    urls = list(get_routes(app, widget_id, secret_id, "alice"))
    assert {endpoint for endpoint, _ in urls} >= {
        endpoint
        for endpoint in ROUTES
        if endpoint not in EXPLICIT_VIEWS | {"static"}
        and "GET" in next(r.methods for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    }
    bob = make_client()
    bob.register("bob")
    for who in (alice, bob, make_client()):
        for body in sweep(who, urls):
            assert VALUE not in body


def _run_and_call(app, accounts, widget_id, actor_id):
    run = accounts.post(f"/widgets/{widget_id}/run", headers={"Accept": "application/json"})
    fragment = accounts.post(f"/widgets/{widget_id}/run", htmx=True)
    with app.test_request_context():
        token = issue_call_token(widget_id, actor_id)
    answers = [
        accounts.client.post(
            f"/widgets/{widget_id}/call/{fn}",
            data="{}",
            headers={"X-Call-Token": token, "Content-Type": "application/json"},
        )
        for fn in ("leak", "fail")
    ]
    return run, fragment, answers


def test_runs_calls_and_their_errors_show_the_value_masked_to_the_owner(app, alice, widget, logs):
    widget_id, _ = widget
    with app.app_context():
        owner_id = db.session.scalar(db.select(Widget.owner_id).filter_by(id=widget_id))
    run, fragment, answers = _run_and_call(app, alice, widget_id, owner_id)
    assert run.status_code == 200 and run.get_json()["stdout"] == "stdout: ***\n"
    assert "stdout: ***" in fragment.get_data(as_text=True)
    assert answers[0].get_json() == {"ok": True, "result": {"key": "***"}}
    assert answers[1].get_json()["error"]["message"] == "bad key ***"
    for response in [run, fragment, *answers]:
        assert VALUE not in response.get_data(as_text=True)
    assert logs and all(VALUE not in line for line in logs)


def test_runs_calls_and_their_errors_withhold_a_field_with_the_value_from_visitors(
    app, make_client, widget, logs
):
    widget_id, _ = widget
    run, fragment, answers = _run_and_call(app, make_client(), widget_id, None)
    assert run.status_code == 200 and run.get_json()["stdout"] == WITHHELD
    assert WITHHELD in fragment.get_data(as_text=True)
    assert answers[0].get_json() == {
        "ok": False,
        "error": {"type": "OutputHidden", "message": WITHHELD},
    }
    assert answers[1].get_json()["error"]["message"] == WITHHELD
    for response in [run, fragment, *answers]:
        assert VALUE not in response.get_data(as_text=True)
        assert "***" not in response.get_data(as_text=True)
    assert logs and all(VALUE not in line for line in logs)
    with app.app_context():
        events = db.session.scalars(db.select(AuditEvent).filter_by(widget_id=widget_id)).all()
        assert any(event.action == "use" for event in events)
        assert all(VALUE not in repr(event.__dict__) for event in events)


def test_a_fork_gets_no_value_and_nothing_decrypts(
    app, alice, make_client, widget, logs, decryptions
):
    widget_id, _ = widget
    bob = make_client()
    bob.register("bob")
    before = decryptions.count
    response = bob.post(f"/widgets/{widget_id}/fork")
    assert response.status_code == 302
    assert decryptions.count == before
    fork_id = response.headers["Location"].rstrip("/").split("/")[-2]
    with app.app_context():
        copied = db.session.scalars(db.select(Secret).filter_by(widget_id=fork_id)).all()
        assert [(s.name, s.ciphertext) for s in copied] == [("api_key", None)]
        fork_secret = copied[0].id
    for body in sweep(bob, get_routes(app, fork_id, fork_secret, "bob")):
        assert VALUE not in body
    run = bob.post(f"/widgets/{fork_id}/run", headers={"Accept": "application/json"})
    assert run.get_json()["error"]["type"] == "SecretError"
    assert VALUE not in run.get_data(as_text=True)
    assert all(VALUE not in line for line in logs)


def test_a_server_error_page_shows_no_value_and_no_internals(
    app_config, app, alice, widget, monkeypatch
):
    widget_id, secret_id = widget
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def crash(*args, **kwargs):
        vault.decrypt_value(db.session.get(Secret, secret_id).ciphertext)  # a value in memory
        raise RuntimeError("internal state")

    monkeypatch.setattr("pyspace.runs.routes.run_and_record", crash)
    for headers in ({}, HX, {"Accept": "application/json"}):
        response = alice.post(f"/widgets/{widget_id}/run", headers=headers)
        body = response.get_data(as_text=True)
        assert response.status_code == 500
        assert VALUE not in body and "Traceback" not in body and "internal state" not in body


def test_the_database_files_and_audit_rows_hold_no_value_after_everything(
    app, alice, make_client, widget
):
    widget_id, secret_id = widget
    alice.post(f"/widgets/{widget_id}/secrets/{secret_id}/reveal")
    alice.post(f"/widgets/{widget_id}/run", headers={"Accept": "application/json"})
    bob = make_client()
    bob.register("bob")
    bob.post(f"/widgets/{widget_id}/fork")
    with app.app_context():
        events = db.session.scalars(db.select(AuditEvent)).all()
        assert {event.action for event in events} >= {"view", "use"}
        assert all(VALUE not in repr(event.__dict__) for event in events)
        assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 2
        raw = stored_bytes(db)
    assert b"api_key" in raw and VALUE.encode() not in raw
    assert json.dumps(VALUE).encode() not in raw


def test_client_table_rows_holding_the_value_are_masked_for_the_owner_and_withheld_from_others(
    app, alice, make_client, widget, logs
):
    # Server code stored the value in a row of a table open to client code: client code
    # reading it gets what a server function returning it would give.
    from pyspace.sandbox.services import RunContext
    from pyspace.tables import schema
    from pyspace.tables.channel import SERVICES

    widget_id, _ = widget
    with app.app_context():
        table = schema.create_table(db.session.get(Widget, widget_id), "notes")
        schema.add_column(table, "text", "text")
        schema.set_client_access(table, "search")
        run = RunContext(widget_id=widget_id, actor_id=None)
        SERVICES["tables_add_row"]({"table": "notes", "values": {"text": f"k={VALUE}"}}, run)
        owner_id = db.session.scalar(db.select(Widget.owner_id).filter_by(id=widget_id))
        owner_token = issue_call_token(widget_id, owner_id)
        visitor_token = issue_call_token(widget_id, None)
    # The setup's own INSERT is logged with the value in it; what follows must log none.
    setup_lines = len(logs)
    answers = {}
    for who, client, token in (
        ("owner", alice.client, owner_token),
        ("visitor", make_client().client, visitor_token),
    ):
        answers[who] = client.post(
            f"/widgets/{widget_id}/call/-/tables",
            data=json.dumps({"op": "search", "table": "notes"}),
            headers={"X-Call-Token": token, "Content-Type": "application/json"},
        )
    assert answers["owner"].get_json()["result"]["rows"][0]["values"]["text"] == "k=***"
    assert answers["visitor"].get_json() == {
        "ok": False,
        "error": {"type": "OutputHidden", "message": WITHHELD},
    }
    for response in answers.values():
        assert VALUE not in response.get_data(as_text=True)
    assert all(VALUE not in line for line in logs[setup_lines:])
