"""The account page in Chromium: a copied cookie stops working after "Log out everywhere" and
after a password change, and a stranger's wrong passwords don't stop alice's browser."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_up
from tests.conftest import PASSWORD

NEW_PASSWORD = "a brand new passphrase"


def _copy_into_new_browser(page, browser, live_server):
    """Another browser holding copies of every cookie of `page` (session and remember-me)."""
    thief = browser.new_context(base_url=live_server)
    thief.add_cookies(page.context.cookies())
    return thief.new_page()


def _is_logged_in(page) -> bool:
    page.goto("/")
    return page.locator("header .nav-user").count() == 1


def _log_in(page, password=PASSWORD, remember=True):
    page.goto("/login")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(password)
    if remember:
        page.get_by_label("Remember me").check()
    # Wait for the answer's page: a goto() right after the click could cancel the POST.
    with page.expect_navigation():
        page.locator("main").get_by_role("button", name="Log in").click()


def test_log_out_everywhere_ends_a_copied_session(page, browser, live_server, screenshot):
    sign_up(page)
    page.locator("form").filter(has_text="Log out").last.get_by_role("button").click()
    _log_in(page)
    page.wait_for_url("**/")
    thief = _copy_into_new_browser(page, browser, live_server)
    assert _is_logged_in(thief)
    page.locator("header .nav-user").click()
    screenshot("account-page")
    page.get_by_role("button", name="Log out everywhere").click()
    page.wait_for_url("**/login")
    assert not _is_logged_in(page) and not _is_logged_in(thief)
    thief.context.close()


def test_changing_the_password_keeps_this_browser_and_ends_a_copy(page, browser, live_server):
    sign_up(page)
    thief = _copy_into_new_browser(page, browser, live_server)
    page.goto("/account")
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    page.get_by_text("Password changed").wait_for()
    assert _is_logged_in(page) and not _is_logged_in(thief)
    thief.context.close()


@pytest.mark.long
def test_a_strangers_guesses_do_not_lock_alices_browser_out(page, browser, live_server):
    sign_up(page)
    page.goto("/account")
    page.get_by_role("button", name="Log out everywhere").click()
    stranger = browser.new_context(base_url=live_server).new_page()
    # Ten wrong guesses are free; then each next try must wait 1 s, 2 s, 4 s... after the last.
    # On a loaded machine one try can take longer than the first waits: guess until one lands
    # inside its wait (the waits double, so a few more tries are enough).
    for n in range(16):
        _log_in(stranger, f"wrong guess {n}", remember=False)
        if n >= 10 and stranger.get_by_text("Slow down").count():
            break
    expect(stranger.get_by_text("Slow down")).to_be_visible()
    _log_in(page)
    page.wait_for_url("**/")
    assert _is_logged_in(page)
    stranger.context.close()


CALL_SERVER_CODE = """\
import anvil.server


@anvil.server.callable
def hello(name):
    return f"Hello, {name}!"
"""

CALL_CLIENT_CODE = """\
import anvil.server
from js import document


def on_click(event):
    try:
        text = anvil.server.call("hello", "alice")
    except Exception as error:
        text = f"{type(error).__name__}: {error}"
    document.getElementById("answer").textContent = text


document.getElementById("call-btn").addEventListener("click", on_click)
document.getElementById("answer").textContent = "ready"
"""

CALL_HTML = '<button id="call-btn">Call</button><p id="answer"></p>'


def test_a_gui_widgets_calls_stop_when_the_viewers_session_ends(app, page):
    from playwright.sync_api import expect

    from tests.browser.test_gui_widgets import add_widget, booted_frame

    sign_up(page)
    widget_id = add_widget(
        app,
        "alice",
        "Greeter",
        visibility="private",  # only alice's session can call it
        server_code=CALL_SERVER_CODE,
        client_code=CALL_CLIENT_CODE,
        html=CALL_HTML,
    )
    page.goto(f"/widgets/{widget_id}")
    frame = booted_frame(page)
    frame.get_by_role("button", name="Call").click()
    expect(frame.locator("#answer")).to_have_text("Hello, alice!", timeout=30_000)
    # alice logs out in another tab; the frame still holds the token it was given.
    other_tab = page.context.new_page()
    other_tab.goto("/")
    other_tab.locator("header").get_by_role("button", name="Log out").click()
    other_tab.wait_for_url("**/")
    frame.get_by_role("button", name="Call").click()
    expect(frame.locator("#answer")).to_contain_text("session has ended", timeout=30_000)
