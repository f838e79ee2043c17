"""POST /widgets/<id>/run: who may run what, the JSON and htmx answers, secrets and limits."""

import pytest

from pyspace.extensions import db
from pyspace.models import AuditEvent, Widget
from tests.sandbox.helpers import ROOMY_LIMITS, add_secret, run_json


@pytest.fixture(autouse=True)
def small_limits(app_config):
    app_config.update(ROOMY_LIMITS)


def test_owner_run_returns_the_documented_json(alice):
    widget_id = alice.create_widget(
        "Hello", server_code="import sys\nprint('hello')\nprint('warn', file=sys.stderr)\n"
    )
    answer = run_json(alice, widget_id)
    assert answer["ok"] is True
    assert answer["stdout"] == "hello\n"
    assert answer["stderr"] == "warn\n"
    assert answer["error"] is None
    assert isinstance(answer["duration_ms"], (int, float)) and answer["duration_ms"] > 0


def test_error_reports_type_message_and_a_traceback_of_the_widgets_own_code(alice):
    widget_id = alice.create_widget("Broken", server_code="def f():\n    return 1 / 0\n\nf()\n")
    answer = run_json(alice, widget_id)
    assert answer["ok"] is False
    assert answer["error"]["type"] == "ZeroDivisionError"
    assert answer["error"]["message"] == "division by zero"
    trace = answer["error"]["traceback"]
    assert 'File "server_code.py", line 4' in trace and "return 1 / 0" in trace
    assert "bootstrap" not in trace and "sandbox_runtime" not in trace


@pytest.mark.parametrize("visibility", ["public", "private"])
@pytest.mark.parametrize("who", ["owner", "other user", "anonymous"])
def test_who_may_run_a_widget(alice, make_client, visibility, who):
    widget_id = alice.create_widget("W", server_code="print('ran')\n", visibility=visibility)
    if who == "owner":
        runner = alice
    else:
        runner = make_client()
        if who == "other user":
            runner.register("bob")
    response = runner.post(f"/widgets/{widget_id}/run", headers={"Accept": "application/json"})
    if who == "owner" or visibility == "public":
        assert response.status_code == 200
        assert response.get_json()["stdout"] == "ran\n"
    else:
        assert response.status_code == 404
        assert b"run-result" not in response.data and b"stdout" not in response.data


def test_htmx_run_returns_an_escaped_fragment(alice):
    widget_id = alice.create_widget("W", server_code="print('<script>alert(1)</script>')\n")
    response = alice.post(f"/widgets/{widget_id}/run", htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and "run-result" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert "Ran the saved code" in html
    assert "HX-Request" in response.headers.get("Vary", "")


def test_plain_form_post_shows_the_result_on_a_page(alice):
    widget_id = alice.create_widget("W", server_code="print('from a form')\n")
    response = alice.post(f"/widgets/{widget_id}/run")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html and "from a form" in html


def test_editor_save_and_run_saves_the_code_first(alice, app):
    widget_id = alice.create_widget("W", server_code="print('old')\n")
    response = alice.post(
        f"/widgets/{widget_id}/run",
        htmx=True,
        data={
            "title": "W",
            "description": "",
            "visibility": "private",
            "server_code": "print('new')\n",
            "client_code": "",
            "html": "",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "new" in html and "Saved, then ran" in html
    assert "widget-saved" in response.headers["HX-Trigger"]
    with app.app_context():
        assert db.session.get(Widget, widget_id).server_code == "print('new')\n"


def test_save_and_run_with_invalid_form_saves_nothing_and_runs_nothing(alice, app):
    widget_id = alice.create_widget("W", server_code="print('old')\n")
    response = alice.post(
        f"/widgets/{widget_id}/run",
        htmx=True,
        data={"title": "", "visibility": "private", "server_code": "print('new')\n"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Not saved, not run" in html and "Give your widget a title." in html
    with app.app_context():
        assert db.session.get(Widget, widget_id).server_code == "print('old')\n"


def test_a_viewer_cannot_change_code_through_run(alice, make_client, app):
    widget_id = alice.create_widget("W", server_code="print('original')\n", visibility="public")
    bob = make_client()
    bob.register("bob")
    response = bob.post(
        f"/widgets/{widget_id}/run",
        headers={"Accept": "application/json"},
        data={"title": "W", "server_code": "print('hijacked')\n"},
    )
    assert response.get_json()["stdout"] == "original\n"
    with app.app_context():
        assert db.session.get(Widget, widget_id).server_code == "print('original')\n"


def test_get_secret_returns_the_value_redacts_it_and_audits_the_use(alice, app):
    code = (
        "import anvil.secrets\nkey = anvil.secrets.get_secret('api_key')\n"
        "print('key is', key, 'with', len(key), 'chars')\n"
    )
    widget_id = alice.create_widget("W", server_code=code)
    add_secret(app, widget_id, "api_key", "sk-live-123456")
    answer = run_json(alice, widget_id)
    assert answer["stdout"] == "key is *** with 14 chars\n"
    with app.app_context():
        event = db.session.scalar(
            db.select(AuditEvent).filter_by(widget_id=widget_id, action="use")
        )
        assert event.secret_name == "api_key"


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, "The secret 'api_key' has no value yet: set its value in the Secrets panel"),
        ("missing", "No such secret 'api_key'"),
    ],
)
def test_secret_errors_say_what_to_do(alice, app, value, expected):
    widget_id = alice.create_widget(
        "W", server_code="import anvil.secrets\nanvil.secrets.get_secret('api_key')\n"
    )
    if value != "missing":
        add_secret(app, widget_id, "api_key", value)
    answer = run_json(alice, widget_id)
    assert answer["error"]["type"] == "SecretError"
    assert expected in answer["error"]["message"]


def test_secret_error_is_an_exception_the_code_can_catch(alice):
    code = (
        "import anvil.secrets\ntry:\n    anvil.secrets.get_secret('nope')\n"
        "except anvil.secrets.SecretError as e:\n"
        "    print('caught:', e, isinstance(e, Exception))\n"
    )
    answer = run_json(alice, alice.create_widget("W", server_code=code))
    assert answer["stdout"] == "caught: No such secret 'nope' True\n"


@pytest.fixture
def rate_limited(app_config):
    app_config.update(RATELIMIT_ENABLED=True, RUN_ANONYMOUS_RATE_LIMIT="2 per minute")


def test_anonymous_runs_are_rate_limited_per_client(rate_limited, alice, make_client):
    widget_id = alice.create_widget("W", server_code="print('ran')\n", visibility="public")
    viewer = make_client()
    statuses = [viewer.post(f"/widgets/{widget_id}/run", htmx=True).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    # Logged-in users are not held to the anonymous limit.
    assert [alice.post(f"/widgets/{widget_id}/run", htmx=True).status_code for _ in range(3)] == [
        200
    ] * 3


def test_a_run_reads_each_secret_once_and_bounds_its_lookups(alice, app):
    code = (
        "import anvil.secrets\nfor _ in range(50):\n    key = anvil.secrets.get_secret('api_key')\n"
        "for n in range(150):\n    try:\n        anvil.secrets.get_secret(f'nope{n}')\n"
        "    except anvil.secrets.SecretError as error:\n        last = str(error)\n"
        "print(key, last)\n"
    )
    widget_id = alice.create_widget("W", server_code=code)
    add_secret(app, widget_id, "api_key", "loop-value")
    answer = run_json(alice, widget_id)
    assert answer["stdout"] == "*** A run may read at most 100 different secrets.\n"
    with app.app_context():
        uses = db.session.scalars(
            db.select(AuditEvent).filter_by(widget_id=widget_id, action="use")
        ).all()
        assert len(uses) == 1


@pytest.mark.parametrize("answer_as", ["json", "htmx"])
def test_a_run_reading_a_secret_loads_its_widget_and_user_once(alice, app, answer_as):
    """The secret's use and the run's record are committed during the request; neither may make
    the request load its widget or its user again (one SELECT of each in all)."""
    from sqlalchemy import event

    widget_id = alice.create_widget(
        "W", server_code="import anvil.secrets\nprint(len(anvil.secrets.get_secret('api_key')))\n"
    )
    add_secret(app, widget_id, "api_key", "sk-live-123456")
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def executed(_conn, _cursor, statement, *_args) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", executed)
    try:
        if answer_as == "json":
            assert run_json(alice, widget_id)["stdout"] == "14\n"
        else:
            fragment = alice.post(f"/widgets/{widget_id}/run", htmx=True)
            assert fragment.status_code == 200 and "14" in fragment.get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", executed)
    for table in ("widgets", "users"):
        reads = [s for s in statements if s.startswith("SELECT") and f"FROM {table}" in s]
        assert len(reads) == 1, reads
