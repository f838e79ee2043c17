"""The axe check every browser test runs at its screenshots is live: it reports a serious or
critical violation when a page has one, with JavaScript on and with it off."""

import pytest

from tests.browser.conftest import accessibility_violations

BREAK_A_FIELD = (
    "() => document.querySelector('input#username').setAttribute('aria-invalid', 'None')"
)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_axe_check_reports_an_invalid_aria_value_on_the_login_form(
    browser, live_server, javascript
):
    context = browser.new_context(base_url=live_server, java_script_enabled=javascript)
    try:
        page = context.new_page()
        page.goto("/login")
        assert accessibility_violations(page) == []
        page.evaluate(BREAK_A_FIELD)
        assert [v["rule"] for v in accessibility_violations(page)] == ["aria-valid-attr-value"]
    finally:
        context.close()
