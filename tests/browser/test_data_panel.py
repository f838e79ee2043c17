"""The Data panel in real Chromium (htmx, CSRF on): a table, typed columns, rows, a cell edit."""

from playwright.sync_api import expect

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
