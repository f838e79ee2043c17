"""A GUI frame restores the deployment's Pyodide memory snapshot (pyspace/gui/snapshot.py) and
behaves exactly as one that started Python from scratch: client code runs, anvil.server.call
waits for the server through JSPI, and no two frames share a random generator's state."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

from pyspace.gui import frame_boot, snapshot
from tests.browser.conftest import CHROMIUM
from tests.browser.test_gui_widgets import add_widget, booted_frame

PROJECT = Path(__file__).resolve().parents[2]

SERVER_CODE = """\
import anvil.server


@anvil.server.callable
def hello(name):
    return f"Hello, {name}!"
"""

CLIENT_CODE = """\
import random

import anvil.server
from js import document

document.getElementById("greeting").textContent = anvil.server.call("hello", "snapshot")
document.getElementById("random").textContent = repr(random.random())
"""

HTML = '<p id="greeting"></p><p id="random"></p>'


@pytest.fixture(scope="module")
def made_snapshot():
    """The snapshot of the vendored Pyodide, made as `./manage.sh serve` makes it: in a process
    of its own (Playwright's sync API can't start inside the browser tests' running one)."""
    subprocess.run(
        [sys.executable, "-c", "import pyspace.gui.snapshot as s; raise SystemExit(s.main())"],
        cwd=PROJECT,
        env={**os.environ, "PYSPACE_CHROMIUM": CHROMIUM},
        check=True,
        timeout=300,
    )
    return snapshot.snapshot_path(snapshot.STATIC_ROOT)


@pytest.fixture
def open_widget(app, page, make_user):
    """Opens a new public GUI widget of alice's (the greeting and random draw) in `page`;
    returns its id."""

    def open_() -> str:
        make_user("alice")
        widget_id = add_widget(
            app,
            "alice",
            "Snapshot",
            visibility="public",
            server_code=SERVER_CODE,
            client_code=CLIENT_CODE,
            html=HTML,
        )
        page.goto(f"/widgets/{widget_id}")
        return widget_id

    return open_


def test_frame_restores_the_snapshot_and_client_code_calls_the_server(
    app, page, made_snapshot, open_widget
):
    assert made_snapshot.is_file()
    open_widget()
    frame = booted_frame(page)
    expect(frame.locator("html")).to_have_attribute("data-pyspace-start", "snapshot")
    expect(frame.locator("#greeting")).to_have_text("Hello, snapshot!")


def test_frame_boots_from_the_bytes_its_page_hands_it_and_downloads_none_itself(
    app, page, made_snapshot, open_widget
):
    open_widget()
    frame = booted_frame(page)
    expect(frame.locator("html")).to_have_attribute("data-pyspace-files", "handed")
    expect(frame.locator("#greeting")).to_have_text("Hello, snapshot!")
    gui_frame = next(f for f in page.frames if f != page.main_frame)
    fetched_by_frame = gui_frame.evaluate(
        "performance.getEntriesByType('resource').map(e => e.name)"
    )
    fetched_by_page = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
    for name in ("pyodide.asm.wasm", "python_stdlib.zip", ".bin.gz", "/gui/runtime-"):
        assert not [url for url in fetched_by_frame if name in url]
        assert [url for url in fetched_by_page if name in url]
    # The client runtime came in the page's one bundle, not file by file.
    assert not [url for url in fetched_by_frame if "/static/gui-runtime/" in url]


def test_frame_opened_on_its_own_downloads_pyodide_itself(app, page, made_snapshot, open_widget):
    widget_id = open_widget()
    page.goto(f"/widgets/{widget_id}/frame")
    html = page.locator("html")
    expect(html).to_have_attribute("data-pyspace", "ready", timeout=60_000)
    expect(html).to_have_attribute("data-pyspace-files", "fetched")
    expect(html).to_have_attribute("data-pyspace-start", "snapshot")
    expect(page.locator("#greeting")).to_have_text("Hello, snapshot!")


def test_frames_restored_from_one_snapshot_draw_different_random_numbers(
    app, page, made_snapshot, open_widget
):
    widget_id = open_widget()
    draws = []
    for _ in range(2):
        page.goto(f"/widgets/{widget_id}")
        frame = booted_frame(page)
        expect(frame.locator("html")).to_have_attribute("data-pyspace-start", "snapshot")
        expect(frame.locator("#random")).to_have_text(re.compile(r"0\.\d+"))
        draws.append(frame.locator("#random").text_content())
    assert draws[0] != draws[1]


def test_frame_starts_python_from_scratch_without_a_snapshot(app, page, monkeypatch, open_widget):
    monkeypatch.setattr(frame_boot, "snapshot_url", lambda: None)
    open_widget()
    frame = booted_frame(page)
    expect(frame.locator("html")).to_have_attribute("data-pyspace-start", "scratch")
    expect(frame.locator("#greeting")).to_have_text("Hello, snapshot!")


def test_frame_boots_when_a_download_of_its_runtime_is_dropped_once(app, page, open_widget):
    dropped = []

    def drop_the_first_try(route):
        if route.request.url in dropped:
            route.continue_()
        else:
            dropped.append(route.request.url)
            route.abort("connectionreset")

    page.route(re.compile(r"/static/gui-runtime/"), drop_the_first_try)
    widget_id = open_widget()
    # On its own, the frame fetches the runtime's files itself (its page would hand them over).
    page.goto(f"/widgets/{widget_id}/frame")
    expect(page.locator("html")).to_have_attribute("data-pyspace", "ready", timeout=60_000)
    expect(page.locator("#greeting")).to_have_text("Hello, snapshot!")
    assert len(dropped) == len(frame_boot_files(app))


def frame_boot_files(app):
    with app.test_request_context():
        return frame_boot.client_runtime_files()


def test_page_hands_its_frame_pyodide_when_each_download_is_dropped_once(
    app, page, made_snapshot, open_widget
):
    dropped = []

    def drop_the_first_try(route):
        if route.request.frame == page.main_frame and route.request.url not in dropped:
            dropped.append(route.request.url)
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route(re.compile(r"/static/vendor/pyodide/|/gui/runtime-"), drop_the_first_try)
    open_widget()
    frame = booted_frame(page)
    expect(frame.locator("html")).to_have_attribute("data-pyspace-files", "handed")
    expect(frame.locator("#greeting")).to_have_text("Hello, snapshot!")
    dropped_names = {url.rsplit("/", 1)[1].split("?")[0] for url in dropped}
    assert dropped_names >= {"pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json"}
    assert [name for name in dropped_names if name.startswith("runtime-")]


def test_a_restored_frame_has_the_client_runtime_imported_already(
    app, page, make_user, made_snapshot
):
    make_user("alice")
    widget_id = add_widget(
        app,
        "alice",
        "Already imported",
        visibility="public",
        server_code=SERVER_CODE,
        client_code=(
            "import sys\n"
            "before = 'anvil.server' in sys.modules and 'anvil.users' in sys.modules\n"
            "import anvil.server\n"
            "from js import document\n"
            "document.getElementById('greeting').textContent = anvil.server.call('hello', "
            "'imported' if before else 'not imported')\n"
        ),
        html=HTML,
    )
    page.goto(f"/widgets/{widget_id}")
    frame = booted_frame(page)
    expect(frame.locator("html")).to_have_attribute("data-pyspace-start", "snapshot")
    expect(frame.locator("#greeting")).to_have_text("Hello, imported!")
