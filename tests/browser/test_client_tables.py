"""Client code reads and writes a data table its owner opened to it, in real Chromium: no server
function involved, `app_tables` in the browser lists the rows and adds one; a table the owner
kept server-only answers Anvil's PermissionDenied."""

from playwright.sync_api import expect

from pyspace.extensions import db
from pyspace.models import Widget
from pyspace.sandbox.services import RunContext
from pyspace.tables import schema
from pyspace.tables.channel import SERVICES
from tests.browser.test_gui_widgets import add_widget
from tests.browser.test_portable_values import booted_frame

CLIENT_CODE = """\
import anvil.server
import anvil.tables.query as q
from anvil.tables import app_tables, order_by
from js import document


def render():
    listing = document.getElementById("notes")
    listing.innerHTML = ""
    for note in app_tables.notes.search(order_by("title"), title=q.not_(None)):
        item = document.createElement("li")
        item.textContent = note["title"]
        listing.appendChild(item)


def add(event):
    box = document.getElementById("new-note")
    app_tables.notes.add_row(title=box.value)
    box.value = ""
    render()


try:
    app_tables.private.search()
except anvil.server.PermissionDenied as error:
    document.getElementById("denied").textContent = str(error)

document.getElementById("add").addEventListener("click", add)
render()
"""

HTML = """\
<h3>Notes</h3>
<ul id="notes"></ul>
<input id="new-note" aria-label="New note"> <button id="add">Add note</button>
<p id="denied"></p>
"""


def test_client_code_lists_and_adds_rows_of_a_table_open_to_it(app, page, screenshot, make_user):
    make_user("alice")
    widget_id = add_widget(
        app, "alice", "Notes", visibility="public", client_code=CLIENT_CODE, html=HTML
    )
    with app.app_context():
        widget = db.session.get(Widget, widget_id)
        for name, access in (("notes", "edit"), ("private", "none")):
            table = schema.create_table(widget, name)
            schema.add_column(table, "title", "text")
            schema.set_client_access(table, access)
        SERVICES["tables_add_row"](
            {"table": "notes", "values": {"title": "Buy milk"}},
            RunContext(widget_id=widget_id, actor_id=None),
        )

    page.goto(f"/widgets/{widget_id}")
    frame = booted_frame(page)
    expect(frame.locator("#notes li")).to_have_text(["Buy milk"])
    expect(frame.locator("#denied")).to_have_text(
        "Cannot read from table 'private' from client code."
    )
    frame.get_by_label("New note").fill("Answer mail")
    frame.get_by_role("button", name="Add note").click()
    expect(frame.locator("#notes li")).to_have_text(["Answer mail", "Buy milk"])
    screenshot("gui-client-tables")

    page.reload()
    frame = booted_frame(page)
    expect(frame.locator("#notes li")).to_have_text(["Answer mail", "Buy milk"])
