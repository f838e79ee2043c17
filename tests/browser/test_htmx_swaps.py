"""Content that htmx swaps in is live at once: a form submitted the moment it appears goes
through htmx, not as a plain page load (htmx wires new content when it settles, which is
20 ms later by default; a quick click in between must not leave the editor)."""

from playwright.sync_api import expect

from tests.browser.conftest import new_widget, sign_up

# Submits the panel's Create Key form from the very microtask that sees it inserted.
SUBMIT_ON_INSERT = """() => {
  const panel = document.getElementById("secrets-panel");
  new MutationObserver((changes, observer) => {
    const form = panel.querySelector("form.secrets-create-key");
    if (form) { observer.disconnect(); form.requestSubmit(); }
  }).observe(panel, { childList: true, subtree: true });
}"""


def test_a_form_submitted_as_soon_as_it_is_swapped_in_goes_through_htmx(page):
    sign_up(page, "alice")
    new_widget(page, "Quick", "script")
    editor_url = page.url
    page.evaluate(SUBMIT_ON_INSERT)
    page.locator(".editor-bar").get_by_role("button", name="Secrets").click()
    panel = page.locator("#secrets-panel")
    expect(panel.get_by_role("link", name="new_key_1")).to_be_visible()
    assert page.url == editor_url  # still the editor: the panel swapped in place
    expect(page.locator(".CodeMirror").first).to_be_visible()
