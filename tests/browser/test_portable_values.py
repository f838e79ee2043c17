"""Anvil's values in real Chromium: GUI widgets whose server code is a real Anvil module,
unchanged (tests/anvil_corpus/modules), and whose client code iterates the rows a server
function returns, passes one back to update it, launches a background task and polls its Task
to completion, and shows a Media image through an object URL."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from pyspace.extensions import db
from pyspace.models import Widget
from pyspace.tables import schema
from tests.browser.test_gui_widgets import add_widget, booted_frame
from tests.tasks.helpers import TASK_CONFIG, consumer

CORPUS = Path(__file__).parents[1] / "anvil_corpus" / "modules"
TABLES_RUNTIME = Path(__file__).parents[2] / "sandbox_runtime" / "anvil" / "tables" / "__init__.py"

TODO_CLIENT_CODE = """\
import anvil.server
from js import document


def render():
    tasks = anvil.server.call("get_tasks")
    listing = document.getElementById("tasks")
    listing.innerHTML = ""
    for task in tasks:
        item = document.createElement("li")
        box = document.createElement("input")
        box.type = "checkbox"
        box.checked = task["complete"]
        box.setAttribute("aria-label", task["name"])
        box.addEventListener("change", lambda event, task=task, box=box: update(task, box))
        remove = document.createElement("button")
        remove.textContent = "Delete " + task["name"]
        remove.addEventListener("click", lambda event, task=task: delete(task))
        label = document.createElement("span")
        label.textContent = task["name"]
        item.append(box, label, remove)
        listing.appendChild(item)
    document.getElementById("count").textContent = f"{len(list(tasks))} tasks"


def update(task, box):
    # As the template's ItemTemplate1 does: the row itself goes back to the server.
    anvil.server.call("update_task", task=task, complete=box.checked)
    render()


def delete(task):
    anvil.server.call("delete_task", task)
    render()


def add(event):
    box = document.getElementById("new-task")
    if box.value:
        anvil.server.call("add_task", box.value)
        box.value = ""
        render()


document.getElementById("add").addEventListener("click", add)
if not list(anvil.server.call("get_tasks")):
    anvil.server.call("add_tasks")
render()
"""

TODO_HTML = """\
<h3>To do</h3>
<ul id="tasks"></ul>
<p id="count"></p>
<input id="new-task" aria-label="New task"> <button id="add">Add task</button>
"""

PICTURE_CODE = """

import datetime
import struct
import zlib

import anvil


def _png_chunk(kind, data):
  return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))


@anvil.server.callable
def picture():
  header = struct.pack('>IIBBBBB', 1, 1, 8, 2, 0, 0, 0)
  png = (b'\\x89PNG\\r\\n\\x1a\\n' + _png_chunk(b'IHDR', header)
         + _png_chunk(b'IDAT', zlib.compress(b'\\x00\\xff\\x00\\x00')) + _png_chunk(b'IEND', b''))
  return {'image': anvil.BlobMedia('image/png', png, name='dot.png'),
          'when': datetime.date(2024, 5, 1)}
"""

TASK_CLIENT_CODE = """\
import anvil.server
from js import clearInterval, document, setInterval
from pyodide.ffi import create_proxy

timers = {}


def show(element_id, text):
    document.getElementById(element_id).textContent = text


def poll():
    task = timers["task"]
    # Completion first: a state read after it is the task's last (read before, it may be older).
    completed = task.is_completed()
    show("progress", f"{task.get_state().get('progress', 0)}%")
    if completed:
        clearInterval(timers["count"])
        total = task.get_return_value()["total"]
        show("result", f"{total}, {task.get_termination_status()}, running {task.is_running()}")


def launch(event):
    timers["task"] = anvil.server.call("launch_counting", 10)
    timers["count"] = setInterval(create_proxy(poll), 200)


def check_refusal():
    task = timers["refusal"]
    if task.get_termination_status() is None:
        return
    clearInterval(timers["refuse"])
    try:
        task.get_error()
    except ValueError as error:
        show("failure", f"{type(error).__name__}: {error}")


def refuse(event):
    timers["refusal"] = anvil.server.call("launch_refusal", "not today")
    timers["refuse"] = setInterval(create_proxy(check_refusal), 200)


def picture(event):
    answer = anvil.server.call("picture")
    image = answer["image"]
    document.getElementById("picture").src = image.get_url()
    show("picture-info", f"{image.content_type} {image.length} {image.name} {answer['when']}")
    timers["image"] = image


def download(event):
    import anvil.media

    anvil.media.download(timers["image"])


for button_id, handler in [
    ("launch", launch), ("refuse", refuse), ("show", picture), ("download", download)
]:
    document.getElementById(button_id).addEventListener("click", handler)
"""

TASK_HTML = """\
<button id="launch">Count</button> <button id="refuse">Refuse</button>
<button id="show">Picture</button> <button id="download">Download</button>
<p id="progress"></p><p id="result"></p><p id="failure"></p>
<img id="picture" alt="a red dot"><p id="picture-info"></p>
"""


@pytest.fixture
def app_config(app_config):
    return {**app_config, **TASK_CONFIG, "RUN_WALL_SECONDS": 20.0, "RUN_CPU_SECONDS": 10}


@pytest.mark.skipif(
    "def has_row" not in TABLES_RUNTIME.read_text(),
    reason="the TodoList template calls app_tables.tasks.has_row (the tables runtime's)",
)
def test_todo_list_template_runs_unchanged_in_a_gui_widget(app, page, screenshot, make_user):
    make_user("alice")
    widget_id = add_widget(
        app,
        "alice",
        "To do",
        visibility="public",
        server_code=(CORPUS / "todo_list_server.py").read_text(),
        client_code=TODO_CLIENT_CODE,
        html=TODO_HTML,
    )
    with app.app_context():
        table = schema.create_table(db.session.get(Widget, widget_id), "tasks")
        schema.add_column(table, "name", "text")
        schema.add_column(table, "complete", "bool")

    page.goto(f"/widgets/{widget_id}")
    frame = booted_frame(page)
    expect(frame.locator("#count")).to_have_text("2 tasks")
    frame.get_by_label("Walk the dog").check()
    expect(frame.get_by_label("Walk the dog")).to_be_checked()
    frame.get_by_label("New task").fill("Water the plants")
    frame.get_by_role("button", name="Add task").click()
    expect(frame.locator("#count")).to_have_text("3 tasks")
    frame.get_by_role("button", name="Delete Buy the shopping").click()
    expect(frame.locator("#count")).to_have_text("2 tasks")
    screenshot("gui-todo-list")

    page.reload()
    frame = booted_frame(page)
    expect(frame.locator("#count")).to_have_text("2 tasks")
    expect(frame.get_by_label("Walk the dog")).to_be_checked()
    expect(frame.get_by_label("Water the plants")).not_to_be_checked()


def test_client_code_polls_a_task_to_completion_and_shows_media(app, page, screenshot, make_user):
    make_user("alice")
    widget_id = add_widget(
        app,
        "alice",
        "Progress",
        visibility="public",
        server_code=(CORPUS / "progress_task_server.py").read_text() + PICTURE_CODE,
        client_code=TASK_CLIENT_CODE,
        html=TASK_HTML,
    )
    page.goto(f"/widgets/{widget_id}")
    frame = booted_frame(page)
    with consumer(app):
        frame.get_by_role("button", name="Count").click()
        expect(frame.locator("#result")).to_have_text(
            "45, completed, running False", timeout=30_000
        )
        expect(frame.locator("#progress")).to_have_text("100%", timeout=30_000)
        frame.get_by_role("button", name="Refuse").click()
        expect(frame.locator("#failure")).to_have_text("ValueError: not today", timeout=30_000)

    frame.get_by_role("button", name="Picture").click()
    expect(frame.locator("#picture-info")).to_have_text("image/png 69 dot.png 2024-05-01")
    image = frame.locator("#picture")
    expect(image).to_have_attribute("src", re.compile(r"^blob:"))
    expect(image).to_have_js_property("naturalWidth", 1)  # the PNG decoded: one pixel wide
    with page.expect_download() as downloading:
        frame.get_by_role("button", name="Download").click()
    download = downloading.value
    assert download.suggested_filename == "dot.png"
    assert Path(download.path()).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    screenshot("gui-task-and-media")
