"""Client code's anvil.users.login_with_form(): the viewer when logged in; for a visitor, a
request to the embedding page, which opens the site's log-in page coming back to the widget."""

import pytest

from tests.values.runtimes import run_client

# Client code run by tests.values.runtimes.run_client, whose stand-in frame this adjusts.
PROGRAM = """
frame.viewerUsername = {username!r}
frame.viewerEmail = None
asked = []
frame.requestLogin = lambda: asked.append("login")

import anvil.users

user = anvil.users.login_with_form()
print(None if user is None else user["username"], asked)
"""


@pytest.mark.parametrize(("username", "printed"), [("ann", "ann []"), (None, "None ['login']")])
def test_login_with_form_returns_the_viewer_or_asks_the_page_for_the_log_in_page(username, printed):
    result = run_client(PROGRAM.format(username=username), {})
    assert result.returncode == 0, result.stderr
    assert result.stdout == printed + "\n"


def test_a_visitors_frame_may_open_the_log_in_page_that_comes_back_to_the_widget(
    alice, make_client
):
    widget_id = alice.create_widget("Members", "gui", visibility="public")
    page = make_client().client.get(f"/widgets/{widget_id}").get_data(as_text=True)
    assert f'data-gui-login="/login?next=/widgets/{widget_id}"' in page
    # A logged-in viewer's frame has nothing to ask for.
    assert "data-gui-login" not in alice.client.get(f"/widgets/{widget_id}").get_data(as_text=True)
