"""The seed's steps in real Chromium: Secrets → Create Secret → rename → set value → view → hide
→ delete."""

from playwright.sync_api import expect

from tests.browser.conftest import new_widget, sign_up

VALUE = "owm-9f8e7d6c5b4a"


def test_owner_walks_through_the_seed_steps_with_keyboard_and_mouse(page, screenshot):
    sign_up(page, "alice")
    new_widget(page, "Weather", "script")
    page.locator(".editor-bar").get_by_role("button", name="Secrets").click()
    panel = page.locator("#secrets-panel")
    create = panel.get_by_role("button", name="Create Secret")
    expect(create).to_be_focused()

    create.click()
    row = panel.locator("li.secret-row").first
    name_link = row.get_by_role("link", name="new_secret_1")
    expect(name_link).to_be_focused()
    expect(row.locator(".badge-blank")).to_have_text("blank")
    screenshot("secrets-1-created")

    # Rename: a bad name is refused next to the row; Escape cancels; Enter saves.
    name_link.click()
    name_field = row.get_by_label("Name")
    expect(name_field).to_be_focused()
    name_field.fill("9lives")
    name_field.press("Enter")
    expect(row.get_by_role("alert")).to_contain_text("not starting with a digit")
    screenshot("secrets-2-rename-error")
    row.get_by_label("Name").press("Escape")
    expect(row.get_by_role("link", name="new_secret_1")).to_be_focused()
    row.get_by_role("link", name="new_secret_1").click()
    expect(row.get_by_label("Name")).to_be_focused()  # htmx has taken over the form
    row.get_by_label("Name").fill("api_key")
    row.get_by_label("Name").press("Enter")
    expect(row.get_by_role("link", name="api_key")).to_be_focused()

    # Set value: a password field; the value never comes back in the page.
    row.get_by_role("button", name="Set value").click()
    value_field = row.get_by_label("New value for api_key")
    expect(value_field).to_be_focused()
    expect(value_field).to_have_attribute("type", "password")
    value_field.fill(VALUE)
    screenshot("secrets-3-set-value")
    row.get_by_role("button", name="Save").click()
    expect(row.locator(".badge-set")).to_have_text("set")
    expect(row.get_by_role("button", name="Set value")).to_be_focused()  # swapped and settled
    assert VALUE not in page.content()

    # View, then hide.
    row.get_by_role("button", name="View value").click()
    expect(row.locator(".secret-revealed")).to_have_text(VALUE)
    expect(row.get_by_role("button", name="Hide value")).to_be_focused()
    page.locator("#secrets-audit summary").click()
    expect(page.locator("#secrets-audit")).to_contain_text("viewed")
    screenshot("secrets-4-viewed")
    row.get_by_role("button", name="Hide value").click()
    expect(row.get_by_role("button", name="View value")).to_be_focused()
    assert VALUE not in page.content()

    # Delete, after confirming.
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Delete").click()
    expect(panel.get_by_text("No secrets yet")).to_be_visible()
    expect(panel.get_by_role("button", name="Create Secret")).to_be_focused()
    screenshot("secrets-5-deleted")


def test_panel_works_without_javascript(browser, live_server, screenshot):
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_up(page, "bob")
        new_widget(page, "No JS", "script")
        page.get_by_role("button", name="Secrets").click()
        page.get_by_role("button", name="Create Secret").click()
        page.get_by_role("link", name="new_secret_1").click()
        page.get_by_label("Name").fill("db_password")
        page.get_by_role("button", name="Save").click()
        page.get_by_role("button", name="Set value").click()
        page.get_by_label("New value for db_password").fill(VALUE)
        page.get_by_role("button", name="Save").click()
        expect(page.locator(".badge-set")).to_have_text("set")
        page.get_by_role("button", name="Delete").click()
        screenshot("secrets-nojs-confirm", target=page)
        page.get_by_role("button", name="Delete").click()
        expect(page.get_by_text("No secrets yet")).to_be_visible()
    finally:
        context.close()
