"""Forking in a real browser: the Fork button, the fork's editor asking for values, lineage."""

import re

from playwright.sync_api import expect

from pyspace.extensions import db
from pyspace.models import Widget
from tests.browser.conftest import new_widget, sign_up
from tests.forks.test_routes import VALUES, add_secrets

SECRETS = [
    ("weather_api_key", "VALUE-weather-91c2", "OpenWeather key", True, False),
    ("CITY", "VALUE-city-77e1", "", False, False),
    ("unused_token", None, "", False, False),
]


def _publish_with_secrets(app, widget_id):
    with app.app_context():
        widget = db.session.get(Widget, widget_id)
        widget.visibility = "public"
        widget.description = "Prints today's weather for a city."
        widget.server_code = (
            "import anvil.secrets\n\n"
            "key = anvil.secrets.get_secret('weather_api_key')\n"
            "print('weather for', anvil.secrets.get_secret('CITY'))\n"
        )
        db.session.commit()
    add_secrets(app, widget_id, SECRETS)


def _log_out(page):
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/")


def test_fork_from_public_page_opens_editor_that_asks_for_secret_values(app, page, screenshot):
    sign_up(page, "alice")
    original = new_widget(page, "Weather")
    _publish_with_secrets(app, original)
    _log_out(page)

    sign_up(page, "bob")
    page.goto(f"/widgets/{original}")
    screenshot("fork-original-page")
    page.get_by_role("button", name="Fork").click()
    page.wait_for_url(re.compile(r"/widgets/[^/]+/edit$"))
    fork = page.url.rstrip("/").split("/")[-2]
    assert fork != original
    expect(page.get_by_text("Forked “Weather”")).to_be_visible()
    box = page.locator(".needs-values")
    expect(box).to_contain_text("3 secrets still need a value")
    for name, *_ in SECRETS:
        expect(box.locator("code", has_text=re.compile(f"^{name}$"))).to_be_visible()
    screenshot("fork-editor-needs-values")

    box.get_by_role("button", name="Set values in the Secrets panel").click()
    panel = page.locator("#secrets-panel")
    expect(panel.get_by_role("heading", name="Secrets")).to_be_visible()
    expect(panel.locator(".badge-blank")).to_have_count(3)
    screenshot("fork-editor-secrets-panel")

    # Setting a value in the panel updates the reminder without a reload.
    row = panel.locator(".secret-row", has_text="weather_api_key")
    row.get_by_role("button", name="Set value").click()
    page.locator("#secrets-panel input[name=value]").fill("bobs-own-key")
    page.locator("#secrets-panel input[name=value]").press("Enter")
    expect(page.locator(".needs-values")).to_contain_text("2 secrets still need a value")
    expect(page.locator(".needs-values code", has_text="weather_api_key")).to_have_count(0)
    html = page.content()
    assert not any(value in html for value in VALUES)

    page.goto(f"/widgets/{fork}")
    lineage = page.locator(".lineage")
    expect(lineage).to_contain_text("Forked from Weather by alice")
    expect(lineage.get_by_role("link", name="Weather")).to_have_attribute(
        "href", f"/widgets/{original}"
    )
    screenshot("fork-page-lineage")
    page.goto(f"/widgets/{original}")
    expect(page.locator(".fork-count")).to_have_text("Forked 1 time")


def test_anonymous_visitor_logs_in_then_forks(app, page, screenshot):
    sign_up(page, "alice")
    original = new_widget(page, "Weather")
    _publish_with_secrets(app, original)
    _log_out(page)
    sign_up(page, "bob")
    _log_out(page)

    page.goto(f"/widgets/{original}")
    page.get_by_role("button", name="Log in to fork").click()
    page.get_by_label("Username").fill("bob")
    page.get_by_label("Password").fill("correct horse battery")
    page.locator("main").get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**/widgets/{original}")
    page.get_by_role("button", name="Fork").click()
    page.wait_for_url(re.compile(r"/widgets/[^/]+/edit$"))
    expect(page.locator(".needs-values")).to_be_visible()
