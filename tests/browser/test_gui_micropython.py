"""GUI widgets whose owner chose MicroPython for the client code, in real Chromium: the same
`anvil` runtime as on Pyodide (server calls with portable values, errors by their server type,
the viewer's user, no secrets), started from MicroPython's own files, which the embedding page
hands over, without a byte of Pyodide."""

import json

from playwright.sync_api import expect

from tests.browser.conftest import sign_up
from tests.browser.test_gui_widgets import (
    API_KEY,
    SECRET_CLIENT_CODE,
    SECRET_HTML,
    SECRET_SERVER_CODE,
    add_widget,
    booted_frame,
    press_echo_secret_and_fail,
)

VALUES_SERVER_CODE = """\
import datetime

import anvil
import anvil.server


@anvil.server.callable
def describe(when, media):
    return {
        "next_day": when + datetime.timedelta(days=1),
        "media": anvil.BlobMedia("text/plain", media.get_bytes().upper(), name="shout.txt"),
    }
"""

VALUES_CLIENT_CODE = """\
import datetime
import json
import sys

import anvil
import anvil.server
import anvil.users
from js import document
from pyodide.ffi import create_proxy

answer = anvil.server.call(
    "describe", datetime.date(2026, 12, 31), anvil.BlobMedia("text/plain", b"hi", name="a.txt")
)
user = anvil.users.get_user()
document.getElementById("facts").textContent = json.dumps({
    "implementation": sys.implementation.name,
    "next_day": answer["next_day"].isoformat(),
    "media": [answer["media"].name, answer["media"].get_bytes().decode()],
    "viewer": user["username"] if user else None,
})


def on_click(event):
    document.getElementById("clicked").textContent = anvil.server.call("describe_missing")


document.getElementById("go").addEventListener("click", create_proxy(on_click))
"""

VALUES_HTML = '<p id="facts"></p><button id="go">Go</button><p id="clicked"></p>'

FAILING_CLIENT_CODE = """\
print("before the error")


def broken():
    return 1 / 0


broken()
"""


def watch_requests(page) -> list[str]:
    """Every URL the page and its frame request, in order."""
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    return urls


def test_a_micropython_widget_calls_its_server_functions_and_never_sees_a_secret(
    app, page, screenshot, make_user
):
    make_user("alice")
    widget_id = add_widget(
        app,
        "alice",
        "Key checker on MicroPython",
        visibility="public",
        client_python="micropython",
        secrets={"api_key": API_KEY},
        server_code=SECRET_SERVER_CODE,
        client_code=SECRET_CLIENT_CODE,
        html=SECRET_HTML,
    )
    requested = watch_requests(page)

    page.goto(f"/widgets/{widget_id}")
    frame = booted_frame(page)
    root = frame.locator("html")
    expect(root).to_have_attribute("data-pyspace-start", "micropython")
    # MicroPython's WebAssembly and the client runtime came from the page, which has a cache.
    expect(root).to_have_attribute("data-pyspace-files", "handed")
    expect(frame.locator("#pyspace-status")).to_contain_text("MicroPython ready in")
    console = frame.locator("#pyspace-console-output")
    expect(console).to_contain_text("client code started")
    expect(frame.locator("#greeting")).to_have_text("Hello, top level!")

    # anvil.server.call returns the result here too (a blocking request under MicroPython).
    frame.get_by_role("button", name="Key length").click()
    expect(frame.locator("#length")).to_have_text(f"Key length: {len(API_KEY)}")
    expect(console).not_to_contain_text("a removed handler ran")

    press_echo_secret_and_fail(frame, console)
    screenshot("gui-widget-micropython")

    assert API_KEY not in page.content()
    assert API_KEY not in root.inner_html()
    assert [url for url in requested if "/vendor/pyodide/" in url] == []
    assert any("/vendor/micropython/micropython.wasm" in url for url in requested)


def test_micropython_client_code_gets_portable_values_the_viewer_and_pyodide_names(
    app, page, make_user
):
    make_user("alice")
    widget_id = add_widget(
        app,
        "alice",
        "Values",
        visibility="public",
        client_python="micropython",
        server_code=VALUES_SERVER_CODE,
        client_code=VALUES_CLIENT_CODE,
        html=VALUES_HTML,
    )
    sign_up(page, "bob")

    page.goto(f"/widgets/{widget_id}")
    frame = booted_frame(page)
    expect(frame.locator("#facts")).not_to_be_empty()
    facts = json.loads(frame.locator("#facts").text_content())
    assert facts == {
        "implementation": "micropython",
        "next_day": "2027-01-01",
        "media": ["shout.txt", "HI"],
        "viewer": "bob",
    }

    # A server function that doesn't exist: Anvil's NoServerFunctionError, in the console.
    frame.get_by_role("button", name="Go").click()
    expect(frame.locator("#pyspace-console-output")).to_contain_text("NoServerFunctionError")


def test_a_micropython_traceback_starts_in_the_client_code(app, page, make_user):
    make_user("alice")
    widget_id = add_widget(
        app,
        "alice",
        "Broken",
        visibility="public",
        client_python="micropython",
        client_code=FAILING_CLIENT_CODE,
        html="<p>broken</p>",
    )

    page.goto(f"/widgets/{widget_id}")
    frame = booted_frame(page)
    console = frame.locator("#pyspace-console-output")
    expect(console).to_contain_text("before the error")
    expect(console).to_contain_text('File "client_code.py", line 5, in broken')
    expect(console).to_contain_text("ZeroDivisionError")
