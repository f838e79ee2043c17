"""anvil.users in a GUI widget in real Chromium: client code's get_user() names the viewer
from the page (no call), and a require_user server function refuses an anonymous viewer with an
AuthenticationFailed that client code catches by its Anvil name."""

from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, sign_up
from tests.browser.test_gui_widgets import BOOT_TIMEOUT_MS, add_widget, booted_frame

SERVER_CODE = """\
import anvil.secrets
import anvil.users
import anvil.server


@anvil.server.callable(require_user=True)
def members_greeting():
    return "members only: " + anvil.users.get_user()["username"]
"""

CLIENT_CODE = """\
import anvil.server
import anvil.users
from js import document

user = anvil.users.get_user()
document.getElementById("viewer").textContent = user["username"] if user else "anonymous"
try:
    document.getElementById("members").textContent = anvil.server.call("members_greeting")
except anvil.users.AuthenticationFailed as error:
    document.getElementById("members").textContent = "refused: " + str(error)
"""

HTML = '<p id="viewer"></p><p id="members"></p>'


def test_client_get_user_names_the_viewer_and_require_user_refuses_strangers(
    app, page, screenshot, make_user
):
    make_user("alice")
    widget_id = add_widget(
        app,
        "alice",
        "Members",
        visibility="public",
        server_code=SERVER_CODE,
        client_code=CLIENT_CODE,
        html=HTML,
    )

    page.goto(f"/widgets/{widget_id}")
    frame = booted_frame(page)
    expect(frame.locator("#viewer")).to_have_text("anonymous")
    expect(frame.locator("#members")).to_have_text(
        "refused: You must be logged in to call this server function"
    )

    sign_up(page, "bob")
    page.goto(f"/widgets/{widget_id}")
    frame = booted_frame(page)
    expect(frame.locator("#viewer")).to_have_text("bob")
    expect(frame.locator("#members")).to_have_text("members only: bob")
    screenshot("gui-widget-users")


LOGIN_CLIENT_CODE = """\
import anvil.users
from js import document

user = anvil.users.login_with_form()
document.getElementById("viewer").textContent = user["username"] if user else "asked"
"""


def test_login_with_form_opens_the_log_in_page_and_comes_back_logged_in(app, page, make_user):
    make_user("alice")
    make_user("bob")
    widget_id = add_widget(
        app,
        "alice",
        "Members",
        visibility="public",
        server_code=SERVER_CODE,
        client_code=LOGIN_CLIENT_CODE,
        html=HTML,
    )
    page.goto(f"/widgets/{widget_id}")
    page.wait_for_url(lambda url: "/login?next=" in url, timeout=BOOT_TIMEOUT_MS)
    page.get_by_label("Username").fill("bob")
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**/widgets/{widget_id}")
    expect(booted_frame(page).locator("#viewer")).to_have_text("bob")
