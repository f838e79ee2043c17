"""Client code's anvil.users.signup_with_form(): the viewer when logged in; for a visitor, a
request to the embedding page, which opens the site's sign-up page coming back to the widget."""

import pytest

from tests.conftest import PASSWORD
from tests.values.runtimes import run_client

# Client code run by tests.values.runtimes.run_client, whose stand-in frame this adjusts.
PROGRAM = """
frame.viewerUsername = {username!r}
frame.viewerEmail = None
asked = []
frame.requestLogin = lambda: asked.append("login")
frame.requestSignup = lambda: asked.append("signup")

import anvil.users

user = anvil.users.signup_with_form()
print(None if user is None else user["username"], asked)
"""


@pytest.mark.parametrize(("username", "printed"), [("ann", "ann []"), (None, "None ['signup']")])
def test_signup_with_form_returns_the_viewer_or_asks_the_page_for_the_sign_up_page(
    username, printed
):
    result = run_client(PROGRAM.format(username=username), {})
    assert result.returncode == 0, result.stderr
    assert result.stdout == printed + "\n"


def test_a_visitors_frame_may_open_the_sign_up_page_that_comes_back_to_the_widget(
    alice, make_client
):
    widget_id = alice.create_widget("Members", "gui", visibility="public")
    page = make_client().client.get(f"/widgets/{widget_id}").get_data(as_text=True)
    assert f'data-gui-signup="/register?next=/widgets/{widget_id}"' in page
    assert "data-gui-signup" not in alice.client.get(f"/widgets/{widget_id}").get_data(as_text=True)


@pytest.mark.parametrize(
    ("target", "landing"),
    [("/widgets/abc", "/widgets/abc"), ("https://evil.example/x", "/"), ("//evil.example", "/")],
)
def test_sign_up_goes_back_to_a_same_site_next_only(make_client, target, landing):
    visitor = make_client()
    response = visitor.client.post(
        f"/register?next={target}",
        data={
            "username": "newbie",
            "password": PASSWORD,
            "csrf_token": visitor.csrf_token(),
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == landing
