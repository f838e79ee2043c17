"""A widget with more secrets than one page, in real Chromium: the panel shows the first page and
the count, Show more works from the keyboard (and as a plain link without JavaScript), and a
new secret appears — focused — even though it lies beyond the first page."""

from playwright.sync_api import expect
from sqlalchemy import insert

from pyspace.config import SETTINGS_BY_NAME
from pyspace.extensions import db
from pyspace.models import Secret
from tests.browser.conftest import ARTIFACTS, assert_accessible, new_widget, sign_up

PAGE_SIZE = SETTINGS_BY_NAME["SECRETS_PAGE_SIZE"].default
EXTRA = 7  # secrets beyond the first page


def add_secrets(app, widget_id, count):
    with app.app_context():
        db.session.execute(
            insert(Secret),
            [{"widget_id": widget_id, "name": f"api_key_{number:05d}"} for number in range(count)],
        )
        db.session.commit()


def viewport_shot(page, name):
    """A screenshot of what is on screen (the whole page is hundreds of rows tall), after
    checking the whole page with axe, as every screenshot is."""
    assert_accessible(page, name)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def test_show_more_and_a_new_secret_beyond_the_first_page(app, page):
    sign_up(page, "alice")
    widget_id = new_widget(page, "Many keys", "script")
    add_secrets(app, widget_id, PAGE_SIZE + EXTRA)
    page.locator(".editor-bar").get_by_role("button", name="Secrets").click()
    panel = page.locator("#secrets-panel")
    rows = panel.locator("li.secret-row")
    expect(rows).to_have_count(PAGE_SIZE)
    expect(panel.locator(".secret-count")).to_have_text(f"{PAGE_SIZE + EXTRA} secrets")
    viewport_shot(page, "secrets-paging-0-opened")
    show_more = panel.get_by_role("button", name="Show more")
    expect(panel.locator(".secret-more")).to_contain_text(f"{EXTRA} more secrets")

    show_more.focus()
    show_more.scroll_into_view_if_needed()
    viewport_shot(page, "secrets-paging-1-show-more")
    page.keyboard.press("Enter")
    expect(rows).to_have_count(PAGE_SIZE + EXTRA)
    expect(panel.get_by_role("link", name=f"api_key_{PAGE_SIZE:05d}")).to_be_focused()
    expect(panel.get_by_role("button", name="Show more")).to_have_count(0)
    viewport_shot(page, "secrets-paging-2-appended")

    panel.get_by_role("button", name="Create Secret").click()
    new_row = panel.get_by_role("link", name="new_secret_1")
    expect(new_row).to_be_focused()
    expect(rows).to_have_count(PAGE_SIZE + 1)
    expect(panel.locator(".secret-count")).to_have_text(f"{PAGE_SIZE + EXTRA + 1} secrets")
    expect(panel.locator(".secret-more")).to_contain_text(f"{EXTRA} more secrets")
    viewport_shot(page, "secrets-paging-3-created")

    # The rows in between come in above the new one, which stays last.
    panel.get_by_role("button", name="Show more").click()
    expect(rows).to_have_count(PAGE_SIZE + EXTRA + 1)
    expect(rows.last).to_have_id(new_row.evaluate("link => link.closest('li').id"))
    expect(panel.get_by_role("button", name="Show more")).to_have_count(0)


def test_show_more_is_a_plain_link_without_javascript(app, browser, live_server):
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_up(page, "bob")
        widget_id = new_widget(page, "No JS", "script")
        add_secrets(app, widget_id, PAGE_SIZE + EXTRA)
        page.get_by_role("button", name="Secrets").click()
        expect(page.locator("li.secret-row")).to_have_count(PAGE_SIZE)
        page.get_by_role("button", name="Show more").click()
        expect(page.locator("li.secret-row")).to_have_count(EXTRA)
        expect(page.get_by_role("link", name=f"api_key_{PAGE_SIZE:05d}")).to_be_visible()
        viewport_shot(page, "secrets-paging-4-nojs-next-page")
        page.get_by_role("link", name="Back to the first secrets").click()
        expect(page.locator("li.secret-row")).to_have_count(PAGE_SIZE)
    finally:
        context.close()
