"""The Secrets panel's extras in real Chromium: .env import with preview, write-only, and a leak
warning's one-click fix."""

from playwright.sync_api import expect

from tests.browser.conftest import new_widget, sign_up

TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


def open_secrets(page):
    page.locator(".editor-bar").get_by_role("button", name="Secrets").click()
    return page.locator("#secrets-panel")


def test_import_a_dotenv_with_preview_then_make_one_write_only(page, screenshot):
    sign_up(page, "alice")
    new_widget(page, "Imports", "script")
    panel = open_secrets(page)
    expect(panel.get_by_role("button", name="Create Secret")).to_be_focused()
    panel.get_by_role("button", name="Import .env").click()
    text = panel.get_by_label(".env contents")
    expect(text).to_be_focused()
    text.fill("API_KEY=sk-one-111111\nbad line\n")
    panel.get_by_role("button", name="Preview").click()
    expect(panel.get_by_role("alert")).to_contain_text("Nothing was imported")
    expect(panel.locator(".dotenv-errors")).to_contain_text("Line 2: Expected NAME=value.")
    screenshot("secrets-6-import-error")
    text.fill("# keys\nAPI_KEY=sk-one-111111\nDB_PASSWORD='two words'\n")
    panel.get_by_role("button", name="Preview").click()
    expect(panel.locator(".dotenv-preview")).to_contain_text("new secret")
    expect(panel.get_by_role("button", name="Import", exact=True)).to_be_focused()
    screenshot("secrets-7-import-preview")
    panel.get_by_role("button", name="Import", exact=True).click()
    expect(panel.get_by_role("link", name="API_KEY")).to_be_visible()
    expect(panel.get_by_role("link", name="DB_PASSWORD")).to_be_visible()
    expect(panel.get_by_role("button", name="Create Secret")).to_be_focused()  # settled

    row_id = panel.locator(
        "li.secret-row", has=page.get_by_role("link", name="API_KEY")
    ).get_attribute("id")
    row = panel.locator(f"#{row_id}")  # the same row in every state (display or edit)
    row.get_by_role("button", name="Details").click()
    expect(row.get_by_label("Description of API_KEY")).to_be_focused()
    row.get_by_label("Description of API_KEY").fill("Weather API key, free tier is fine")
    row.get_by_label("Required").check()
    row.get_by_role("button", name="Save").click()
    expect(row.locator(".badge-required")).to_be_visible()
    expect(row.get_by_role("link", name="API_KEY")).to_be_focused()
    row.get_by_role("button", name="Details").click()
    expect(row.get_by_label("Description of API_KEY")).to_be_focused()
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Make write-only").click()
    expect(row.locator(".badge-write-only")).to_be_visible()
    expect(row.get_by_role("button", name="View value")).to_have_count(0)
    screenshot("secrets-8-write-only")


def test_leak_warning_on_save_and_move_to_a_secret(page, screenshot):
    sign_up(page, "bob")
    new_widget(page, "Leaky", "script")
    page.wait_for_selector(".CodeMirror")
    page.evaluate(
        "code => document.querySelector('.CodeMirror').CodeMirror.setValue(code)",
        f"import requests\ngithub = '{TOKEN}'\nprint(github)\n",
    )
    page.locator(".editor-bar").get_by_role("button", name="Save", exact=True).click()
    warning = page.locator(".leak-warnings")
    expect(warning).to_contain_text("Line 2 of the server code looks like it holds a GitHub token")
    expect(warning).to_contain_text("anvil.secrets.get_secret('github_token')")
    screenshot("secrets-9-leak-warning")
    page.once("dialog", lambda dialog: dialog.accept())
    warning.get_by_role("button", name="Move to a secret").click()
    expect(page.locator(".flash-success")).to_contain_text(
        "Moved the value into the secret github_token"
    )
    expect(page.locator(".leak-warnings")).to_have_count(0)
    page.wait_for_selector(".CodeMirror")  # the reloaded editor sets up CodeMirror after load
    code = page.evaluate("() => document.querySelector('.CodeMirror').CodeMirror.getValue()")
    assert (
        code == "import anvil.secrets\nimport requests\n"
        "github = anvil.secrets.get_secret('github_token')\nprint(github)\n"
    )
    panel = open_secrets(page)
    expect(panel.get_by_role("link", name="github_token")).to_be_visible()
    screenshot("secrets-10-moved")
