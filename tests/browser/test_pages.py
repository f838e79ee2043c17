"""The site's pages in real Chromium: they render in the brand's style, on desktop and phone widths.

Each test saves screenshots to test-artifacts/ so a person can look at what the tests saw.
"""

import pytest
from playwright.sync_api import expect

from pyspace.extensions import db
from pyspace.models import User, Widget
from tests.browser.conftest import new_widget, sign_up
from tests.conftest import PASSWORD

BRAND_RGB = "rgb(59, 91, 219)"
SAMPLE_WIDGETS = [
    (
        "Weather in my town",
        "script",
        "Prints today's forecast using a weather API key kept in a secret.",
    ),
    ("Tip calculator", "gui", "Type a bill and a percentage; see what each person pays."),
    ("Prime sieve", "script", "The sieve of Eratosthenes, up to a million, timed."),
    ("Dice roller", "gui", "Roll any number of dice with any number of sides."),
    ("Word counter", "script", ""),
]


@pytest.fixture
def seeded(app, make_user):
    """A user, grace, with a handful of public widgets, so pages look like a site in use."""
    owner_id = make_user("grace")
    with app.app_context():
        for title, kind, description in SAMPLE_WIDGETS:
            db.session.add(
                Widget(
                    owner_id=owner_id,
                    title=title,
                    kind=kind,
                    description=description,
                    visibility="public",
                    server_code="print('hello')\n",
                )
            )
        db.session.commit()


def _primary_button_colour(page, locator):
    return page.locator(locator).first.evaluate("el => getComputedStyle(el).backgroundColor")


def test_home_page_uses_brand_colour_for_visitors_and_members(page, screenshot, seeded):
    page.goto("/")
    assert page.get_by_role("heading", name="Public widgets").is_visible()
    assert page.locator(".widget-card").count() == len(SAMPLE_WIDGETS)
    assert _primary_button_colour(page, "main [role=button]") == BRAND_RGB
    screenshot("home-anonymous")

    sign_up(page, "ada")
    new_widget(page, "My first widget")
    page.goto("/")
    expect(page.get_by_role("heading", name="Your widgets")).to_be_visible()
    expect(page.locator("header").get_by_role("link", name="ada")).to_be_visible()
    # One page title for screen-reader users to jump to, on both versions of the home page.
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    screenshot("home-logged-in")


def test_home_page_fits_a_phone_screen(page, screenshot, seeded):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/")
    screenshot("home-mobile")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"page is {overflow}px wider than the phone screen"
    page.goto("/login")
    screenshot("login-mobile")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0


@pytest.mark.parametrize("kind", ["script", "gui"])
def test_editor_bar_has_title_left_and_actions_right(page, screenshot, kind):
    sign_up(page)
    new_widget(page, f"A {kind} widget", kind)
    bar = page.locator(".editor-bar").bounding_box()
    title = page.locator(".editor-bar-title h1").bounding_box()
    actions = page.locator(".editor-bar-actions").bounding_box()
    save = page.locator(".editor-bar").get_by_role("button", name="Save", exact=True).bounding_box()
    # The title starts on the left half; the actions (Save first) follow it on the same row
    # and end at the bar's right edge, with Secrets among them (the docs: "at the top right").
    assert title["x"] < bar["x"] + bar["width"] / 2
    assert title["x"] + title["width"] < save["x"] and abs(save["y"] - title["y"]) < title["height"]
    assert bar["x"] + bar["width"] - (actions["x"] + actions["width"]) < 40
    secrets = page.locator(".editor-bar").get_by_role("button", name="Secrets").bounding_box()
    assert secrets["x"] > bar["x"] + bar["width"] / 2
    assert page.locator(".CodeMirror").count() == (3 if kind == "gui" else 1)
    assert _primary_button_colour(page, ".editor-bar button[type=submit]") == BRAND_RGB
    screenshot(f"editor-{kind}")


def test_editor_fits_a_phone_screen(page, screenshot):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_up(page)
    new_widget(page, "Phone widget")
    screenshot("editor-mobile")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"editor is {overflow}px wider than the phone screen"


def test_public_page_shows_highlighted_read_only_code(page, screenshot, seeded):
    page.goto("/")
    page.get_by_role("link", name="Weather in my town").click()
    expect(page.get_by_role("heading", name="Weather in my town")).to_be_visible()
    # Highlighted by CodeMirror's runmode: `print` is marked as a builtin.
    expect(page.locator("pre[data-highlight] .cm-builtin", has_text="print")).to_have_count(1)
    screenshot("public-page")


def test_login_and_register_show_errors_next_to_fields(page, screenshot, seeded):
    page.goto("/login")
    page.get_by_label("Username").fill("grace")
    page.get_by_label("Password").fill("not the password")
    page.locator("main").get_by_role("button", name="Log in").click()
    expect(page.locator(".field-error", has_text="Wrong username or password.")).to_be_visible()
    screenshot("login-error")

    page.goto("/register")
    page.get_by_label("Username").fill("grace")
    page.get_by_label("Password").fill("short")
    page.locator("main").get_by_role("button", name="Sign up").click()
    expect(page.locator(".field-error", has_text="at least 8 characters")).to_be_visible()
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Sign up").click()
    expect(page.locator(".field-error", has_text="That username is taken")).to_be_visible()
    screenshot("register-error")


def test_not_found_page_is_in_the_site_style(page, screenshot):
    response = page.goto("/widgets/does-not-exist")
    assert response.status == 404
    assert page.locator(".error-status").inner_text() == "404"
    assert _primary_button_colour(page, "main [role=button]") == BRAND_RGB
    screenshot("not-found")


def test_admin_disables_a_user_from_the_users_page(page, screenshot, app, seeded, make_user):
    make_user("teacher", is_admin=True)
    page.goto("/login")
    page.get_by_label("Username").fill("teacher")
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Log in").click()
    page.locator("header").get_by_role("link", name="Users").click()
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    # htmx is ready (a click before it is would send the plain form: a flash, not a toast).
    page.wait_for_load_state("load")
    row = page.locator("tr", has_text="grace")
    row.get_by_role("button", name="Disable").click()
    # The toast first: it leaves after 4 s. htmx swaps the row in place; the CSRF token
    # travelled in the X-CSRFToken header.
    expect(page.locator(".toast", has_text="grace is disabled.")).to_be_visible()
    expect(row.get_by_role("button", name="Enable")).to_be_visible()
    expect(row.locator(".badge", has_text="Disabled")).to_be_visible()
    screenshot("admin-users")
    with app.app_context():
        assert db.session.scalar(db.select(User).filter_by(username="grace")).is_disabled


def test_htmx_errors_show_as_a_toast_not_silence(page, screenshot):
    page.goto("/")
    page.evaluate("htmx.ajax('GET', '/no/such/page', {target: 'main', swap: 'none'})")
    expect(page.locator(".toast-error", has_text="Not found")).to_be_visible()
    screenshot("htmx-error-toast")


def test_new_widget_and_user_pages(page, screenshot, seeded):
    sign_up(page, "ada")
    page.goto("/widgets/new")
    expect(page.locator("input[name=kind][value=script]")).to_be_checked()
    screenshot("new-widget")
    page.goto("/u/grace")
    expect(page.get_by_role("heading", name="grace")).to_be_visible()
    assert page.locator(".widget-card").count() == len(SAMPLE_WIDGETS)
    screenshot("user-page")
