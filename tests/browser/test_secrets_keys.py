"""Encryption keys in real Chromium: Create Key → rename → use it from Save & run → delete."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import new_widget, sign_up
from tests.sandbox.helpers import SMALL_LIMITS

CODE = (
    "import anvil.secrets\n"
    "token = anvil.secrets.encrypt_with_key('records_key', 'row 42')\n"
    "print(token[:15], anvil.secrets.decrypt_with_key('records_key', token))\n"
)


@pytest.fixture(autouse=True)
def small_limits(app_config):
    app_config.update(SMALL_LIMITS, RUN_POOL_SIZE=1)


def test_owner_creates_uses_and_deletes_a_key(page, screenshot):
    sign_up(page, "alice")
    new_widget(page, "Ledger", "script")
    page.locator(".editor-bar").get_by_role("button", name="Secrets").click()
    panel = page.locator("#secrets-panel")
    panel.get_by_role("button", name="Create Key").click()
    row = panel.locator("li.secret-row").first  # display and edit rows alike
    name_link = row.get_by_role("link", name="new_key_1")
    expect(name_link).to_be_focused()
    expect(row.locator(".badge-key")).to_have_text("Key")
    expect(row.get_by_role("button", name="View value")).to_have_count(0)
    expect(row.get_by_role("button", name="Set value")).to_have_count(0)

    name_link.click()
    row.get_by_label("Name").fill("records_key")
    row.get_by_label("Name").press("Enter")
    expect(row.get_by_role("link", name="records_key")).to_be_focused()
    screenshot("keys-1-created")

    page.locator(".CodeMirror").first.click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(CODE)
    page.get_by_role("button", name="Save & run").click()
    expect(page.locator("#run-output .run-stdout")).to_have_text("pyspace-key-v1: row 42\n")
    screenshot("keys-2-used")

    messages = []

    def accept(dialog):
        messages.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    row.get_by_role("button", name="Delete").click()
    expect(panel.get_by_text("No secrets yet")).to_be_visible()
    assert "can no longer be read" in messages[0]
