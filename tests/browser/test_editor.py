"""The widget editor in real Chromium: typing, Tab, Ctrl-S, and the unsaved-changes warning."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import new_widget, sign_up

EDITOR_VALUE = "document.querySelector('.CodeMirror').CodeMirror.getValue()"


def _clear_editor(page):
    page.locator(".CodeMirror").first.click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")


def test_type_in_code_editor_save_with_ctrl_s_and_reload_keeps_code(page, screenshot):
    sign_up(page)
    new_widget(page, "Typed widget")
    _clear_editor(page)
    page.keyboard.type("def greet():\n")
    page.keyboard.press("Tab")  # from habit, after Enter has already indented the line
    page.keyboard.type("return 42\n")
    with page.expect_navigation():
        page.keyboard.press("Control+s")
    expect(page.locator(".flash-success", has_text="Saved.")).to_be_visible()
    page.reload()
    assert page.evaluate(EDITOR_VALUE) == "def greet():\n    return 42\n"
    screenshot("editor")


@pytest.mark.parametrize(
    "keys, expected",
    [
        # Tab at the start of an unindented line indents it by one level of four spaces.
        (["x = 1", "Home", "Tab"], "    x = 1"),
        # Tab inside code pads to the next four-column stop.
        (["ab", "Tab", "c"], "ab  c"),
        # Enter after a block opener indents once; Tab there does not indent twice.
        (["if ready:", "Enter", "Tab", "go()"], "if ready:\n    go()"),
        # Inside a block, Tab on a fresh line may go one level deeper than the line above, not more.
        (
            ["def f():", "Enter", "if x:", "Enter", "Tab", "Tab", "y()"],
            "def f():\n    if x:\n        y()",
        ),
        # Backspace in the indentation removes a whole level.
        (["def f():", "Enter", "Backspace", "z = 2"], "def f():\nz = 2"),
        # Shift-Tab dedents the line.
        (["def f():", "Enter", "pass", "Shift+Tab"], "def f():\npass"),
    ],
)
def test_tab_indents_by_four_spaces_without_double_indenting(page, keys, expected):
    sign_up(page)
    new_widget(page, "Indent widget")
    _clear_editor(page)
    for key in keys:
        if key in ("Home", "Tab", "Enter", "Backspace", "Shift+Tab"):
            page.keyboard.press(key)
        else:
            page.keyboard.type(key)
    assert page.evaluate(EDITOR_VALUE) == expected


def test_leaving_with_unsaved_changes_asks_first(page):
    sign_up(page)
    widget_id = new_widget(page, "Careful widget")
    dialogs = []

    def stay_on_page(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", stay_on_page)
    page.locator(".CodeMirror").first.click()
    page.keyboard.type("# an edit\n")
    expect(page.locator("[data-unsaved-indicator]")).to_be_visible()
    page.locator("header .brand").click()
    expect(page.locator(".CodeMirror")).to_be_visible()
    assert dialogs == ["beforeunload"]
    assert page.url.endswith(f"/widgets/{widget_id}/edit")
    assert "# an edit" in page.evaluate(EDITOR_VALUE)


def test_code_wider_than_the_editor_scrolls_from_the_keyboard(page, screenshot):
    sign_up(page)
    new_widget(page, "Wide widget")
    _clear_editor(page)
    page.keyboard.type("URL = '" + "x" * 300 + "'\n")
    with page.expect_navigation():
        page.keyboard.press("Control+s")
    scroller = page.locator(".CodeMirror-scroll").first
    assert scroller.evaluate("element => element.scrollWidth > element.clientWidth")
    screenshot("editor-wide-line")  # axe: a scrolling area keyboard users can't reach fails
    # Escape, then Tab: once onto the scrolling area, then out of the editor (no trap).
    page.locator(".CodeMirror").first.click()
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("!document.activeElement.closest('.CodeMirror')")
    # Shift-Tab back from the next field puts the cursor in the editor, where End scrolls.
    page.keyboard.press("Shift+Tab")
    expect(page.locator(".CodeMirror").first).to_have_class(re.compile(r"CodeMirror-focused"))
    page.keyboard.press("Control+Home")
    page.keyboard.press("End")
    assert scroller.evaluate("element => element.scrollLeft") > 0


def test_leaving_after_saving_does_not_ask(page):
    sign_up(page)
    new_widget(page, "Saved widget")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    page.locator(".CodeMirror").first.click()
    page.keyboard.type("# an edit\n")
    with page.expect_navigation():
        page.locator(".editor-bar").get_by_role("button", name="Save", exact=True).click()
    page.locator("header .brand").click()
    page.wait_for_url("**/")
    assert dialogs == []


def test_failed_save_keeps_what_was_typed_and_shows_the_error(page, screenshot):
    sign_up(page)
    new_widget(page, "Keep my work")
    page.get_by_label("Title").fill("")
    page.locator(".CodeMirror").first.click()
    page.keyboard.press("Control+End")
    page.keyboard.type("\nprint('still here')")
    with page.expect_navigation():
        page.keyboard.press("Control+s")
    expect(page.locator(".field-error", has_text="Give your widget a title.")).to_be_visible()
    assert "print('still here')" in page.evaluate(EDITOR_VALUE)
    # The typing is still unsaved, so leaving would still ask.
    expect(page.locator("[data-unsaved-indicator]")).to_be_visible()
    screenshot("editor-failed-save")


def test_editor_form_saves_without_javascript(browser, live_server):
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_up(page, "nojs")
        new_widget(page, "Plain form")
        page.locator("textarea[name=server_code]").fill("print('no js')\n")
        page.locator(".editor-bar").get_by_role("button", name="Save", exact=True).click()
        page.wait_for_load_state()
        assert page.locator("textarea[name=server_code]").input_value() == "print('no js')\n"
        assert page.locator(".flash-success", has_text="Saved.").is_visible()
    finally:
        context.close()


def test_side_column_sits_beside_the_code_on_a_wide_screen(page, screenshot):
    sign_up(page)
    new_widget(page, "Side by side", kind="gui")
    code = page.locator("form.editor-main").bounding_box()
    side = page.locator("aside.editor-side").bounding_box()
    assert code and side
    assert side["x"] >= code["x"] + code["width"], "the side column is to the right of the code"
    assert abs(side["y"] - code["y"]) < 5, "and starts level with it"
    screenshot("editor-side-by-side")


def test_owner_adds_and_renames_a_module_from_the_file_list(page):
    # The file list's buttons submit small forms outside the editor's form (form=…).
    sign_up(page)
    new_widget(page, "Modules")
    page.get_by_label("New module name").fill("helpers")
    page.get_by_role("button", name="Add module").click()
    expect(page.get_by_role("link", name="helpers.py")).to_be_visible()
    page.get_by_role("link", name="helpers.py").click()
    # modules.js shows the pane of the module the list marks current (the only one shown).
    expect(page.get_by_role("link", name="helpers.py")).to_have_attribute("aria-current", "page")
    page.get_by_label("New name for helpers").fill("tools")
    page.get_by_role("button", name="Rename").filter(visible=True).click()
    expect(page.get_by_role("link", name="tools.py")).to_be_visible()
    expect(page.get_by_role("link", name="helpers.py")).to_have_count(0)
