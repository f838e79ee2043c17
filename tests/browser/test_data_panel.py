"""The Data panel in real Chromium (htmx, CSRF on): a table, typed columns, rows, a cell edit."""

import re

from playwright.sync_api import expect

from pyspace.extensions import db
from pyspace.models import Widget
from pyspace.tables import schema
from pyspace.tables.rows import add_row
from tests.browser.conftest import new_widget, sign_up


def test_owner_builds_a_table_adds_and_edits_rows(page, screenshot):
    sign_up(page, "alice")
    new_widget(page, "Weather", "script")
    page.locator(".editor-bar").get_by_role("button", name="Data").click()
    panel = page.locator("#tables-panel")

    panel.get_by_label("New table").fill("9readings")
    panel.get_by_role("button", name="Create table").click()
    expect(panel.get_by_role("alert")).to_contain_text("not starting with a digit")
    panel.get_by_label("New table").fill("readings")
    panel.get_by_role("button", name="Create table").click()
    expect(panel.locator("#table-heading")).to_contain_text("readings")

    panel.locator("summary", has_text="Name and columns").click()
    for name, type_ in (("city", "text"), ("temp", "number")):
        panel.get_by_label("New column").fill(name)
        panel.locator("#new-column-type").select_option(type_)
        panel.get_by_role("button", name="Add column").click()
        expect(panel.locator("thead")).to_contain_text(name)
        panel.locator("summary", has_text="Name and columns").click()

    panel.locator("tfoot").get_by_label("city", exact=True).fill("Oslo")
    panel.locator("tfoot").get_by_label("temp", exact=True).fill("warm")
    panel.get_by_role("button", name="Add row").click()
    expect(panel.get_by_role("alert")).to_contain_text("is not a number")
    panel.locator("tfoot").get_by_label("temp", exact=True).fill("3.5")
    panel.get_by_role("button", name="Add row").click()
    row = panel.locator("tbody tr").first
    expect(row).to_contain_text("Oslo")
    expect(row).to_contain_text("3.5")
    screenshot("data-1-row-added")

    row.get_by_role("link", name="3.5").click()
    field = row.get_by_label("temp (number)")
    expect(field).to_be_focused()
    field.fill("21")
    row.get_by_role("button", name="Save").click()
    expect(row.locator("td").nth(1)).to_have_text("21")

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Delete").click()
    expect(panel.locator("tbody")).not_to_contain_text("Oslo")
    screenshot("data-2-row-deleted")


def test_owner_uploads_a_media_cell_picks_a_linked_row_and_sees_the_users_switches(
    app, page, screenshot, tmp_path
):
    sign_up(page, "alice")
    widget_id = new_widget(page, "Game", "script")
    with app.app_context():
        widget = db.session.get(Widget, widget_id)
        players = schema.create_table(widget, "players")
        schema.add_column(players, "name", "text")
        for name in ("Ann", "Bob"):
            add_row(players, {"name": name})
        scores = schema.create_table(widget, "scores")
        schema.add_column(scores, "title", "text")
        schema.add_column(scores, "player", "link_single", players)
        schema.add_column(scores, "report", "media")
        add_row(scores, {"title": "first"})
        scores_id = scores.id
    page.goto(f"/widgets/{widget_id}/tables/{scores_id}/rows")
    row = page.locator("tbody tr").first

    # A media cell takes a file; its name then links to the download.
    row.locator("td").nth(2).get_by_role("link").click()
    report = tmp_path / "report.pdf"
    report.write_bytes(b"%PDF-1.4 a report")
    row.get_by_label("report").set_input_files(str(report))
    row.get_by_role("button", name="Upload").click()
    expect(row.locator("td").nth(2)).to_contain_text("report.pdf")

    # A link cell: the picker searches the linked table; the row picked is saved.
    row.locator("td").nth(1).get_by_role("link").click()
    picker = row.locator(".link-picker")
    picker.get_by_label("Find rows of players").fill("Bob")
    expect(picker.locator("fieldset label")).to_have_count(2)  # "no row" and Bob
    screenshot("data-3-link-picker")
    picker.get_by_label(re.compile("Bob")).check()
    picker.get_by_role("button", name="Save links").click()
    expect(row.locator(".link-picker")).to_have_count(0)
    expect(row.locator("td").nth(1)).to_have_text(re.compile(r"^\s*#\d+ Bob\s*$"))
    screenshot("data-4-media-and-link")

    # The Users switches sit in the panel, each saying its state.
    page.goto(f"/widgets/{widget_id}/edit")
    page.locator(".editor-bar").get_by_role("button", name="Data").click()
    panel = page.locator("#tables-panel")
    expect(panel).to_contain_text("may sign people up")
    panel.locator(".tables-users-signup").get_by_role("button", name="Switch on").click()
    expect(panel.locator(".tables-users-signup")).to_contain_text("on")
    screenshot("data-5-users-switches")
