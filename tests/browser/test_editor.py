from tests.browser.conftest import new_widget, sign_up


def test_type_in_code_editor_save_and_reload_keeps_code(page, screenshot):
    sign_up(page)
    new_widget(page, "Typed widget")
    editor = page.locator(".CodeMirror").first
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.type("def greet():\n")
    page.keyboard.press("Tab")
    page.keyboard.type("return 42\n")
    with page.expect_navigation():
        page.keyboard.press("Control+s")
    assert page.get_by_text("Saved.").is_visible()
    page.reload()
    code = page.evaluate("document.querySelector('.CodeMirror').CodeMirror.getValue()")
    assert "def greet():" in code
    assert "    return 42" in code
    screenshot("editor")
