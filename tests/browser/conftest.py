"""Browser tests: real headless Chromium (Debian's) driven by Playwright, against a live
server on loopback. CSRF stays on, so these tests prove the token reaches every request.

Screenshots go to test-artifacts/ (git-ignored) so a person can look at what the tests saw.
Every screenshot also runs axe-core (vendored in tests/browser/vendor/, test-only) on the page:
a serious or critical accessibility violation fails the test.
"""

import functools
import os
import shutil
import threading
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page
from werkzeug.serving import make_server

from tests.conftest import PASSWORD

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# axe-core 4.14.1 from npm (MPL-2.0, licence beside it): the accessibility engine, run by the
# tests only; nothing is loaded from the internet.
AXE_SCRIPT = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
AXE_FAILING_IMPACTS = ("serious", "critical")
CHROMIUM = os.environ.get("PYSPACE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Flags that keep Chromium off the network: it only ever talks to our loopback server.
CHROMIUM_ARGS = [
    "--no-sandbox",
    # A container's /dev/shm is often 64 MB: a page running Pyodide outgrows it and the
    # renderer crashes ("Page crashed"). Shared memory then lives in /tmp instead.
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def live_server(app):
    """The app served on 127.0.0.1 (a free port) in a background thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium package")
    # Many assertions wait for a server call, which is a sandboxed run: with the suite on
    # several workers sharing two cores, one can take longer than expect()'s default 5 s.
    # Only a failing assertion ever waits this long.
    playwright_api.expect.set_options(timeout=15_000)
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no cookies) whose relative URLs go to the live server."""
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 860})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def accessibility_violations(page: Page) -> list[dict]:
    """axe-core's serious and critical violations on `page` as it is now (WCAG 2.x A/AA rules
    and best practices), each with the rule, its impact and the offending elements.

    axe is evaluated through the DevTools protocol, not added as a <script>: the site's CSP
    refuses inline scripts, and must keep doing so while the tests run."""
    if page.evaluate("() => typeof window.htmx") == "undefined":
        # The site's scripts did not run: JavaScript is off in this context, and axe (timers,
        # promises) can't run there either. Check the same markup in a copy that runs axe only.
        return _violations_in_copy(page)
    return _axe_violations(page)


def _violations_in_copy(page: Page) -> list[dict]:
    """axe's findings on `page`'s current HTML, served again at its URL (so its stylesheets
    load) to a JavaScript-enabled page that blocks the site's own scripts."""
    html, url = page.content(), page.url
    browser = page.context.browser
    assert browser is not None
    context = browser.new_context(viewport=page.viewport_size)
    try:
        copy = context.new_page()
        copy.route(
            "**/*",
            lambda route: (
                route.abort() if route.request.resource_type == "script" else route.continue_()
            ),
        )
        # Registered last, so it is tried first: the page itself is the HTML captured above.
        copy.route(
            lambda address: address == url,
            lambda route: route.fulfill(body=html, content_type="text/html; charset=utf-8"),
        )
        copy.goto(url)
        return _axe_violations(copy)
    finally:
        context.close()


def _axe_violations(page: Page) -> list[dict]:
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [
        {
            "rule": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "nodes": [
                f"{node['html'][:200]} ({node.get('failureSummary', '')[:300]})"
                for node in violation["nodes"]
            ],
        }
        for violation in results["violations"]
        if violation["impact"] in AXE_FAILING_IMPACTS
    ]


@functools.cache
def _axe_source() -> str:
    return AXE_SCRIPT.read_text(encoding="utf-8")


def assert_accessible(page: Page, state: str) -> None:
    """Fail with axe's findings if `page` has a serious or critical accessibility violation."""
    violations = accessibility_violations(page)
    assert not violations, f"accessibility violations on {state}: " + "\n".join(
        f"{v['rule']} ({v['impact']}): {v['help']} — {v['nodes']}" for v in violations
    )


@pytest.fixture
def screenshot(page):
    """Save a full-page screenshot under test-artifacts/<name>.png, after checking the page
    (or the page `target` belongs to) with axe: every state a test shows a person is checked."""

    def take(name: str, target: Page | Locator | None = None):
        ARTIFACTS.mkdir(exist_ok=True)
        shown = target or page
        whole_page = shown.page if isinstance(shown, Locator) else shown
        assert_accessible(whole_page, name)
        shown.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    return take


def sign_up(page, username="alice", password=PASSWORD):
    """Register through the real form, as a person would."""
    page.goto("/register")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.locator("main").get_by_role("button", name="Sign up").click()
    page.wait_for_url("**/")


def new_widget(page, title="My widget", kind="script") -> str:
    """Create a widget through the form; returns its id (the editor is then open)."""
    page.goto("/widgets/new")
    page.get_by_label("Title").fill(title)
    page.locator(f"input[name=kind][value={kind}]").check()
    page.get_by_role("button", name="Create widget").click()
    page.wait_for_url("**/edit")
    return page.url.rstrip("/").split("/")[-2]
