"""Running widgets in real Chromium: Save & run in the editor, Run on the public page."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import new_widget, sign_up
from tests.sandbox.helpers import SMALL_LIMITS


@pytest.fixture(autouse=True)
def small_limits(app_config):
    app_config.update(SMALL_LIMITS, RUN_POOL_SIZE=1)


def _type_code(page, code):
    page.locator(".CodeMirror").first.click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(code)


def test_save_and_run_saves_the_editor_code_and_shows_its_output(page, screenshot):
    sign_up(page)
    widget_id = new_widget(page, "Greeter")
    _type_code(
        page,
        "import sys\nfor n in range(3):\n    print('hello', n)\n"
        "print('careful', file=sys.stderr)\n",
    )
    expect(page.locator("[data-unsaved-indicator]")).to_be_visible()
    page.get_by_role("button", name="Save & run").click()
    output = page.locator("#run-output")
    expect(output.locator(".run-stdout")).to_have_text("hello 0\nhello 1\nhello 2\n")
    expect(output.locator(".run-stderr")).to_have_text("careful\n")
    expect(output).to_contain_text("Saved, then ran")
    expect(page.locator("[data-unsaved-indicator]")).to_be_hidden()
    screenshot("run-editor")
    # It really was saved: a reload shows the new code, and leaving asks nothing.
    page.goto(f"/widgets/{widget_id}/edit")
    assert "print('hello', n)" in page.evaluate(
        "document.querySelector('.CodeMirror').CodeMirror.getValue()"
    )


def test_errors_show_a_traceback_of_the_widgets_code(page, screenshot):
    sign_up(page)
    new_widget(page, "Broken")
    _type_code(page, "def divide(a, b):\n    return a / b\n\nprint(divide(1, 0))\n")
    page.get_by_role("button", name="Save & run").click()
    output = page.locator("#run-output")
    expect(output.locator(".run-badge-failed")).to_have_text("ZeroDivisionError")
    expect(output.locator(".run-error")).to_contain_text('File "server_code.py", line 2, in divide')
    screenshot("run-editor-error")


def test_anonymous_visitor_runs_a_public_widget(page, browser, live_server, screenshot):
    sign_up(page)
    widget_id = new_widget(page, "Public clock")
    _type_code(page, "print('public output', 6 * 7)\n")
    page.get_by_text("Description and visibility").click()
    page.get_by_label("Visibility").select_option("public")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".flash-success")).to_be_visible()

    visitor = browser.new_context(base_url=live_server).new_page()
    visitor.goto(f"/widgets/{widget_id}")
    visitor.get_by_role("button", name="Run").click()
    expect(visitor.locator("#run-output .run-stdout")).to_have_text("public output 42\n")
    expect(visitor.locator("#run-output")).to_contain_text("Ran the saved code")
    screenshot("run-public-page", target=visitor)
    visitor.context.close()
