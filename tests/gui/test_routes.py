"""GUI widgets: the sandboxed frame, its CSP, the call route and its token, the client runtime.

The browser proves the isolation end to end (tests/browser/test_gui_widgets.py); these tests pin
down each piece the isolation rests on, without a browser or a sandbox (the runner is faked).
"""

import json
import re
from pathlib import Path

import pytest
from itsdangerous import TimestampSigner

from pyspace.extensions import db
from pyspace.gui import routes as gui_routes
from pyspace.gui.call_tokens import CallTokenError, actor_for_call_token, issue_call_token
from pyspace.gui.frame_boot import client_runtime_files
from pyspace.models import Secret, User
from pyspace.sandbox.results import RunResult
from pyspace.secrets import vault
from tests.gui.client_runtime import client_error

ROOT = Path(__file__).resolve().parents[2]
BOOT_JSON = re.compile(r'<script type="application/json" id="pyspace-boot">(.*?)</script>', re.S)
SECRET_VALUE = "sk-live-0123456789abcdef-do-not-leak"


@pytest.fixture
def fake_runner(monkeypatch):
    """Replace the sandbox with a recorder: the call route's job ends where the runner's begins."""
    calls = []

    def call_function(widget, fn_name, args, kwargs, actor_id, session_id=None):
        calls.append(
            {"widget": widget.id, "fn": fn_name, "args": args, "kwargs": kwargs, "actor": actor_id}
        )
        return RunResult(ok=True, result={"echo": args, "kw": kwargs})

    monkeypatch.setattr(gui_routes, "call_and_record", call_function)
    return calls


def frame_boot(client, widget_id) -> dict:
    response = client.get(f"/widgets/{widget_id}/frame")
    assert response.status_code == 200
    return json.loads(BOOT_JSON.search(response.get_data(as_text=True)).group(1))


def call(client, widget_id, fn="greet", token=None, body=None, headers=None):
    headers = dict(headers or {})
    if token is not None:
        headers["X-Call-Token"] = token
    return client.post(
        f"/widgets/{widget_id}/call/{fn}",
        headers=headers,
        data=json.dumps(body if body is not None else {"args": ["Bob"], "kwargs": {}}),
        content_type="application/json",
    )


def user_id(app, username):
    with app.app_context():
        return db.session.scalar(db.select(User.id).filter_by(username=username))


def add_secret(app, widget_id, name="api_key", value=SECRET_VALUE):
    with app.app_context():
        db.session.add(
            Secret(widget_id=widget_id, name=name, ciphertext=vault.encrypt_value(value))
        )
        db.session.commit()


@pytest.fixture
def public_gui(alice):
    return alice.create_widget("Greeter", "gui", visibility="public")


# --- The frame on the page, and the frame document ---------------------------------------


def test_gui_widget_page_embeds_an_opaque_origin_frame(client, public_gui):
    html = client.get(f"/widgets/{public_gui}").get_data(as_text=True)
    iframe = re.search(r"<iframe[^>]*data-gui-frame[^>]*>", html, re.S).group(0)
    assert 'sandbox="allow-scripts allow-downloads"' in iframe
    assert "allow-same-origin" not in html
    assert f'src="/widgets/{public_gui}/frame"' in iframe


def handed_runtime(html: str) -> dict[str, str]:
    """The files the page downloads for its frames, as its head names them."""
    head = html.split("</head>", maxsplit=1)[0]
    return json.loads(
        re.search(r'<meta name="pyspace-gui-runtime" content=\'([^\']*)\'>', head).group(1)
    )


def test_widget_page_downloads_pyodide_for_its_frame_from_versioned_urls(client, public_gui):
    html = client.get(f"/widgets/{public_gui}").get_data(as_text=True)
    handed = handed_runtime(html)
    assert set(handed) >= {"wasm", "stdlib", "lock", "runtime"}
    assert re.fullmatch(r"/gui/runtime-[0-9a-f]{20}\.json", handed.pop("runtime"))
    for url in handed.values():
        assert re.fullmatch(r"/static/vendor/pyodide/[\w.-]+(\?v=[0-9a-f]{20}|/[\w.-]+)", url)


def test_client_runtime_comes_in_one_immutable_bundle_of_its_files(app, client, public_gui):
    bundle_url = handed_runtime(client.get(f"/widgets/{public_gui}").get_data(as_text=True))[
        "runtime"
    ]
    response = client.get(bundle_url)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    bundle = dict(response.get_json())
    with app.test_request_context():
        assert tuple(bundle) == client_runtime_files()
    served = client.get("/static/gui-runtime/anvil/server.py")
    assert bundle["anvil/server.py"] == served.get_data(as_text=True)
    served.close()


def test_a_stale_client_runtime_bundle_is_gone(client):
    assert client.get("/gui/runtime-00000000000000000000.json").status_code == 404


def test_frame_document_leaves_pyodide_downloads_to_the_embedding_page(client, public_gui):
    html = client.get(f"/widgets/{public_gui}/frame").get_data(as_text=True)
    assert "pyodide.asm.wasm" not in html and "python_stdlib.zip" not in html


def test_versioned_pyodide_files_are_immutable_and_stale_versions_are_not(client, public_gui):
    html = client.get(f"/widgets/{public_gui}").get_data(as_text=True)
    wasm = handed_runtime(html)["wasm"]
    response = client.get(wasm)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    response.close()
    stale = client.get(wasm.split("?")[0] + "?v=00000000000000000000")
    assert stale.headers["Cache-Control"] == "no-cache"
    stale.close()


def test_script_widget_has_no_frame_and_no_frame_route(client, alice):
    widget_id = alice.create_widget("Script", "script", visibility="public")
    assert "data-gui-frame" not in client.get(f"/widgets/{widget_id}").get_data(as_text=True)
    assert client.get(f"/widgets/{widget_id}/frame").status_code == 404


def test_editor_previews_gui_widgets_only(alice):
    gui_id = alice.create_widget("GUI", "gui")
    script_id = alice.create_widget("Script", "script")
    gui_editor = alice.client.get(f"/widgets/{gui_id}/edit").get_data(as_text=True)
    assert "gui-preview" in gui_editor and f"/widgets/{gui_id}/frame" in gui_editor
    assert "gui-preview" not in alice.client.get(f"/widgets/{script_id}/edit").get_data(
        as_text=True
    )


@pytest.mark.parametrize(
    "visibility, viewer, status",
    [
        ("private", "owner", 200),
        ("private", "other", 404),
        ("private", "anonymous", 404),
        ("public", "owner", 200),
        ("public", "other", 200),
        ("public", "anonymous", 200),
    ],
)
def test_frame_is_shown_only_to_those_who_may_see_the_widget(
    alice, make_client, visibility, viewer, status
):
    widget_id = alice.create_widget("GUI", "gui", visibility=visibility)
    if viewer == "owner":
        client = alice.client
    else:
        other = make_client()
        if viewer == "other":
            other.register("bob")
        client = other.client
    assert client.get(f"/widgets/{widget_id}/frame").status_code == status


def test_frame_document_is_sandboxed_by_its_own_csp(client, public_gui):
    response = client.get(f"/widgets/{public_gui}/frame")
    csp = dict(
        part.strip().split(" ", 1)
        for part in response.headers["Content-Security-Policy"].split(";")
    )
    # Opaque origin even when the frame URL is opened directly, outside the <iframe sandbox>.
    assert csp["sandbox"] == "allow-scripts allow-downloads"
    assert csp["default-src"] == "'none'"
    assert csp["form-action"] == "'none'" and csp["base-uri"] == "'none'"
    assert csp["frame-ancestors"] == "http://localhost"
    scripts = csp["script-src"].split()
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
    assert sorted(csp["connect-src"].split()) == sorted(
        [
            "http://localhost/static/vendor/pyodide/",
            "http://localhost/static/vendor/micropython/",
            "http://localhost/static/gui-runtime/",
            f"http://localhost/widgets/{public_gui}/call/",
        ]
    )
    assert response.headers["Cache-Control"] == "no-store"


def test_frame_document_holds_no_csrf_token_and_escapes_the_widget_html(alice, make_client):
    widget_id = alice.create_widget(
        "GUI",
        "gui",
        visibility="public",
        html='<button id="go">Go</button></script><script>alert(1)</script>',
    )
    page = alice.client.get(f"/widgets/{widget_id}").get_data(as_text=True)
    csrf_token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    frame = alice.client.get(f"/widgets/{widget_id}/frame").get_data(as_text=True)
    assert csrf_token not in frame and "csrf" not in frame.lower()
    # The author's HTML is data for the boot script, never markup of the frame document itself.
    assert "<script>alert(1)" not in frame and '<button id="go">' not in frame
    assert frame_boot(alice.client, widget_id)["html"].startswith('<button id="go">')


def test_secret_values_never_reach_the_page_or_the_frame(app, alice, make_client, decryptions):
    widget_id = alice.create_widget(
        "Uses a key",
        "gui",
        visibility="public",
        server_code="import anvil.secrets\nimport anvil.server\n\n@anvil.server.callable\n"
        "def key_length():\n    return len(anvil.secrets.get_secret('api_key'))\n",
    )
    add_secret(app, widget_id)
    before = decryptions.count
    viewer = make_client().client
    for client in (alice.client, viewer):
        for url in (f"/widgets/{widget_id}", f"/widgets/{widget_id}/frame"):
            assert SECRET_VALUE not in client.get(url).get_data(as_text=True)
    assert decryptions.count == before


# --- Call tokens ------------------------------------------------------------------------


def test_call_token_names_its_widget_and_viewer(app):
    with app.test_request_context():
        token = issue_call_token("w1", 7)
        assert actor_for_call_token(token, "w1") == 7
        with pytest.raises(CallTokenError, match="another widget"):
            actor_for_call_token(token, "w2")
        with pytest.raises(CallTokenError, match="not valid"):
            actor_for_call_token(token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "w1")
        with pytest.raises(CallTokenError, match="no widget token"):
            actor_for_call_token("", "w1")


def test_call_token_expires(app, monkeypatch):
    with app.test_request_context():
        real_timestamp = TimestampSigner.get_timestamp
        monkeypatch.setattr(
            TimestampSigner, "get_timestamp", lambda self: real_timestamp(self) - 2 * 3600
        )
        token = issue_call_token("w1", None)
        monkeypatch.setattr(TimestampSigner, "get_timestamp", real_timestamp)
        with pytest.raises(CallTokenError, match="expired"):
            actor_for_call_token(token, "w1")


# --- The call route -----------------------------------------------------------------------


@pytest.mark.parametrize("viewer", ["owner", "other", "anonymous"])
def test_call_runs_the_function_as_the_viewer_the_token_names(
    app, alice, make_client, fake_runner, public_gui, viewer
):
    client = alice.client
    if viewer != "owner":
        other = make_client()
        if viewer == "other":
            other.register("bob")
        client = other.client
    token = frame_boot(client, public_gui)["callToken"]
    # No CSRF token and no cookie: the call token alone authorizes the call.
    response = call(
        app.test_client(),
        public_gui,
        "greet",
        token,
        {"args": ["Bob", 2], "kwargs": {"loud": True}},
    )
    assert response.status_code == 200
    assert response.get_json() == {"ok": True, "result": {"echo": ["Bob", 2], "kw": {"loud": True}}}
    expected_actor = {
        "owner": user_id(app, "alice"),
        "other": user_id(app, "bob"),
        "anonymous": None,
    }[viewer]
    assert fake_runner == [
        {
            "widget": public_gui,
            "fn": "greet",
            "args": ["Bob", 2],
            "kwargs": {"loud": True},
            "actor": expected_actor,
        }
    ]
    assert "Set-Cookie" not in response.headers


def test_call_passes_the_runners_error_answer_through(app, alice, monkeypatch, public_gui):
    error = {"ok": False, "error": {"type": "ValueError", "message": "bad input"}}
    failure = RunResult(ok=False, error={**error["error"], "traceback": "secret frames"})
    monkeypatch.setattr(gui_routes, "call_and_record", lambda *args, **kwargs: failure)
    token = frame_boot(alice.client, public_gui)["callToken"]
    assert call(app.test_client(), public_gui, "greet", token).get_json() == error


def test_session_cookie_alone_cannot_call(alice, fake_runner, public_gui):
    # Alice is logged in and owns the widget, but a cookie is not a call token.
    response = call(
        alice.client, public_gui, "greet", token=None, headers={"X-CSRFToken": alice.csrf_token()}
    )
    assert response.status_code == 401
    assert response.get_json()["error"]["type"] == "CallTokenError"
    assert fake_runner == []


def test_call_token_of_one_widget_cannot_call_another(app, alice, fake_runner, public_gui):
    other_id = alice.create_widget("Other", "gui", visibility="public")
    token = frame_boot(alice.client, public_gui)["callToken"]
    response = call(app.test_client(), other_id, "greet", token)
    assert response.status_code == 401
    assert "another widget" in response.get_json()["error"]["message"]
    assert fake_runner == []


def test_forged_call_token_is_refused(app, fake_runner, public_gui):
    with app.test_request_context():
        from itsdangerous import URLSafeTimedSerializer

        forged = URLSafeTimedSerializer("not-the-key", salt="pyspace.gui.call-token").dumps(
            {"widget": public_gui, "actor": 1}
        )
    assert call(app.test_client(), public_gui, "greet", forged).status_code == 401
    assert fake_runner == []


def test_widget_made_private_answers_only_its_owner(
    app, alice, make_client, fake_runner, public_gui
):
    bob = make_client()
    bob.register("bob")
    bob_token = frame_boot(bob.client, public_gui)["callToken"]
    alice_token = frame_boot(alice.client, public_gui)["callToken"]
    alice.save_widget(public_gui, visibility="private")
    assert call(app.test_client(), public_gui, "greet", bob_token).status_code == 404
    assert call(app.test_client(), public_gui, "greet", alice_token).status_code == 200
    assert [entry["actor"] for entry in fake_runner] == [user_id(app, "alice")]


def test_disabled_viewers_token_stops_working(app, alice, make_client, fake_runner, public_gui):
    bob = make_client()
    bob.register("bob")
    token = frame_boot(bob.client, public_gui)["callToken"]
    with app.app_context():
        db.session.get(User, user_id(app, "bob")).is_disabled = True
        db.session.commit()
    assert call(app.test_client(), public_gui, "greet", token).status_code == 401
    assert fake_runner == []


def test_deleted_widget_cannot_be_called(app, alice, fake_runner, public_gui):
    token = frame_boot(alice.client, public_gui)["callToken"]
    alice.post(f"/widgets/{public_gui}/delete")
    assert call(app.test_client(), public_gui, "greet", token).status_code == 404
    assert fake_runner == []


@pytest.mark.parametrize(
    "fn, body, message",
    [
        ("greet", "not json", "must be JSON"),
        ("greet", '["a list"]', "must be"),
        ("greet", '{"args": "Bob"}', '"args" must be a list'),
        ("greet", '{"kwargs": [1]}', '"kwargs" must be an object'),
        ("__import__('os')", "{}", "not a function name"),
        ("9lives", "{}", "not a function name"),
        ("pkg..fn", "{}", "not a function name"),
        ("pkg.", "{}", "not a function name"),
        ("f" * 101, "{}", "not a function name"),
    ],
)
def test_malformed_calls_are_refused_before_the_runner(
    app, alice, fake_runner, public_gui, fn, body, message
):
    token = frame_boot(alice.client, public_gui)["callToken"]
    response = app.test_client().post(
        f"/widgets/{public_gui}/call/{fn}",
        data=body,
        headers={"X-Call-Token": token},
        content_type="application/json",
    )
    assert response.status_code == 400
    answer = response.get_json()
    assert answer["ok"] is False and message in answer["error"]["message"]
    assert fake_runner == []


def test_dotted_function_names_reach_the_runner(app, alice, fake_runner, public_gui):
    token = frame_boot(alice.client, public_gui)["callToken"]
    response = call(app.test_client(), public_gui, "Server_Batching.batch_call_executor", token)
    assert response.status_code == 200
    assert [c["fn"] for c in fake_runner] == ["Server_Batching.batch_call_executor"]


def test_oversized_call_is_refused(app, alice, fake_runner, public_gui):
    token = frame_boot(alice.client, public_gui)["callToken"]
    response = call(app.test_client(), public_gui, "greet", token, {"args": ["x" * 300_000]})
    assert response.status_code == 413 and "at most" in response.get_json()["error"]["message"]
    assert fake_runner == []


def test_call_answers_are_readable_by_the_frame_but_never_with_credentials(
    app, alice, fake_runner, public_gui
):
    token = frame_boot(alice.client, public_gui)["callToken"]
    client = app.test_client()
    preflight = client.options(
        f"/widgets/{public_gui}/call/greet",
        headers={
            "Origin": "null",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, x-call-token",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "X-Call-Token" in preflight.headers["Access-Control-Allow-Headers"]
    for response in (
        preflight,
        call(client, public_gui, "greet", token, headers={"Origin": "null"}),
        call(client, public_gui, "greet", "bad-token", headers={"Origin": "null"}),
    ):
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "Access-Control-Allow-Credentials" not in response.headers


def test_gui_call_of_a_script_widget_is_not_found(app, alice, fake_runner):
    widget_id = alice.create_widget("Script", "script", visibility="public")
    with app.test_request_context():
        token = issue_call_token(widget_id, None)
    assert call(app.test_client(), widget_id, "greet", token).status_code == 404


# --- Static files the frame loads ---------------------------------------------------------


@pytest.mark.parametrize(
    "path, content_type",
    [
        ("/static/vendor/pyodide/pyodide.asm.wasm", "application/wasm"),
        ("/static/vendor/pyodide/pyodide.mjs", "text/javascript"),
        ("/static/vendor/micropython/micropython.wasm", "application/wasm"),
        ("/static/vendor/micropython/micropython.mjs", "text/javascript"),
        ("/static/js/gui-frame.js", "text/javascript"),
        ("/static/gui-runtime/anvil/server.py", "text/x-python"),
    ],
)
def test_frame_static_files_are_shared_with_the_opaque_origin(client, path, content_type):
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == content_type
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cache-Control"] == "no-cache"
    response.close()


def test_other_static_files_are_not_shared_cross_origin(client):
    response = client.get("/static/css/app.css")
    assert "Access-Control-Allow-Origin" not in response.headers
    response.close()


def test_vendored_pyodide_is_complete_and_its_version_recorded():
    pyodide = ROOT / "static" / "vendor" / "pyodide"
    for name in (
        "pyodide.mjs",
        "pyodide.asm.mjs",
        "pyodide.asm.wasm",
        "python_stdlib.zip",
        "pyodide-lock.json",
    ):
        assert (pyodide / name).is_file(), name
    version = json.loads((pyodide / "package.json").read_text())["version"]
    assert version in (pyodide / "VERSION.md").read_text()
    assert f'"{version}"' in (pyodide / "pyodide.mjs").read_text()


# --- The client runtime --------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "import anvil.secrets",
        "from anvil.secrets import get_secret",
        "import anvil; anvil.secrets.get_secret('api_key')",
    ],
)
def test_client_anvil_secrets_refuses_with_a_clear_error(statement):
    last_line = client_error(statement)
    assert last_line.startswith(
        "anvil.SecretsUnavailableError: Secrets are only available in server code."
    )
