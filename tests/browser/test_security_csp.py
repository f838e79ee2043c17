"""The site's Content-Security-Policy in real Chromium: htmx, CodeMirror, the Secrets panel and a
GUI widget's frame work under it without a single violation, and injected inline script is
refused."""

from playwright.sync_api import expect

from tests.browser.conftest import new_widget, sign_up

BOOT_TIMEOUT_MS = 60_000


def test_pages_work_under_the_csp_with_no_violations_and_inline_script_is_blocked(page, screenshot):
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )

    sign_up(page, "alice")
    widget_id = new_widget(page, "Under CSP", "gui")
    # CodeMirror (static files) drew the editor; typing and Ctrl-S save through htmx.
    editor = page.locator(".CodeMirror").first
    expect(editor).to_be_visible()
    editor.click()
    page.keyboard.type("# typed under the CSP\n")
    page.keyboard.press("Control+s")
    expect(page.get_by_text("Saved.")).to_be_visible()

    # The Secrets panel over htmx, including Escape on the rename row (no eval under the CSP).
    page.locator(".editor-bar").get_by_role("button", name="Secrets").click()
    panel = page.locator("#secrets-panel")
    panel.get_by_role("button", name="Create Secret").click()
    row = panel.locator("li.secret-row").first
    row.get_by_role("link", name="new_secret_1").click()
    row.get_by_label("Name").fill("api_ke")
    row.get_by_label("Name").press("y")  # an ordinary key must not cancel the edit
    expect(row.get_by_label("Name")).to_have_value("api_key")
    row.get_by_label("Name").press("Escape")
    expect(row.get_by_role("link", name="new_secret_1")).to_be_focused()
    screenshot("security-csp-editor")

    # The GUI widget's sandboxed frame boots Pyodide under its own, stricter policy.
    page.goto(f"/widgets/{widget_id}")
    frame = page.frame_locator(f"#gui-frame-{widget_id}")
    expect(frame.locator("#pyspace-status")).to_contain_text(
        "Python ready", timeout=BOOT_TIMEOUT_MS
    )
    screenshot("security-csp-public-page")

    # Markup that slips past escaping still can't run: inline handlers and scripts are refused.
    page.evaluate("""() => {
        document.body.insertAdjacentHTML("beforeend",
            '<img alt="" src="data:image/png;base64,broken" onerror="window.pwned = 1">');
        const script = document.createElement("script");
        script.textContent = "window.pwned = 2";
        document.body.appendChild(script);
    }""")
    page.wait_for_timeout(300)
    assert page.evaluate("window.pwned") is None
    refused = [text for text in violations if "inline" in text.lower()]
    assert len(refused) >= 2, violations
    assert violations == refused, violations  # nothing but the injected markup was refused
