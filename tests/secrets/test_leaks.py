"""Leak warnings on save, found without decrypting, and the one-click "move to a secret"."""

import pytest

from pyspace.extensions import db
from pyspace.models import Secret, Widget
from pyspace.secrets import vault
from tests.secrets.test_panel import VALUE, create_secret

GITHUB_TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


def editor(accounts, widget_id) -> str:
    return accounts.client.get(f"/widgets/{widget_id}/edit").get_data(as_text=True)


@pytest.fixture
def widget_id(alice):
    widget_id = alice.create_widget("Leaky")
    create_secret(alice, widget_id, name="api_key", value=VALUE)
    return widget_id


@pytest.mark.parametrize(
    "line",
    [
        f'key = "{VALUE}"',
        f"key = '{VALUE}'",
        f"url = 'https://api.example.com/?appid={VALUE}&q=1'",
        f"# my key is {VALUE}",
    ],
)
def test_saving_code_with_a_secrets_value_warns_naming_line_and_secret(
    alice, widget_id, line, decryptions
):
    before = decryptions.count
    alice.save_widget(widget_id, server_code=f"import requests\n{line}\n")
    html = editor(alice, widget_id)
    assert "Line 2 of the server code contains the value of the secret api_key." in html
    assert "anvil.secrets.get_secret('api_key')" in html
    assert decryptions.count == before


def test_clean_code_and_short_common_text_give_no_warning(alice, widget_id):
    alice.save_widget(
        widget_id,
        server_code="import anvil.secrets\nkey = anvil.secrets.get_secret('api_key')\n"
        "print('hello world')\n",
    )
    assert "may be leaking" not in editor(alice, widget_id)


@pytest.mark.parametrize(
    "line, what",
    [
        ("aws = 'AKIAIOSFODNN7EXAMPLE'", "an AWS access key"),
        (f"token = '{GITHUB_TOKEN}'", "a GitHub token"),
        ("slack = 'xoxb-123456789012-abcdefABCDEF'", "a Slack token"),
        ("pem = '''-----BEGIN RSA PRIVATE KEY-----", "a private key"),
        (
            "OPENAI_API_KEY = 'sk-proj-Zx81Qm4LpT7vWn2KcR9d'",
            "assigns what looks like a real secret",
        ),
        ("config = {'password': 'Tr0ub4dor&3xK9!mQz'}", "assigns what looks like a real secret"),
    ],
)
def test_well_known_credentials_are_flagged(alice, widget_id, line, what):
    alice.save_widget(widget_id, server_code=f"{line}\n")
    assert what in editor(alice, widget_id)


@pytest.mark.parametrize(
    "line",
    [
        "api_key = 'aaaaaaaaaaaaaaaaaaaa'",
        "password = 'change me please ok'",
        "token_url = 'https://example.com'",
    ],
)
def test_low_entropy_or_non_secret_assignments_are_not_flagged(alice, widget_id, line):
    alice.save_widget(widget_id, server_code=f"{line}\n")
    assert "may be leaking" not in editor(alice, widget_id)


def test_gui_client_code_and_html_are_checked_too(alice):
    widget_id = alice.create_widget("GUI", kind="gui")
    create_secret(alice, widget_id, name="api_key", value=VALUE)
    alice.save_widget(widget_id, client_code=f"k = '{VALUE}'\n", html=f'<p data-k="{VALUE}"></p>\n')
    html = editor(alice, widget_id)
    assert "Line 1 of the client code contains the value of the secret api_key." in html
    assert "Line 1 of the html contains the value of the secret api_key." in html
    assert "can't be read in the viewer's browser" in html


def test_leak_warnings_are_owner_only(alice, make_client, widget_id):
    alice.save_widget(widget_id, server_code=f"key = '{VALUE}'\n", visibility="public")
    stranger = make_client().client.get(f"/widgets/{widget_id}").get_data(as_text=True)
    assert "may be leaking" not in stranger and "api_key" not in stranger


def test_move_to_a_secret_reuses_the_secret_holding_that_value(app, alice, widget_id):
    alice.save_widget(widget_id, server_code=f"print(1)\nkey = '{VALUE}'\n")
    response = alice.post(f"/widgets/{widget_id}/secrets/move", {"move": "server_code:2"})
    assert response.status_code == 302
    with app.app_context():
        widget = db.session.get(Widget, widget_id)
        assert (
            widget.server_code
            == "import anvil.secrets\nprint(1)\nkey = anvil.secrets.get_secret('api_key')\n"
        )
        assert [s.name for s in widget.secrets] == ["api_key"]
    assert "may be leaking" not in editor(alice, widget_id)


def test_move_to_a_secret_creates_one_for_a_credential(app, alice, widget_id):
    code = f"import anvil.secrets\ngithub = '{GITHUB_TOKEN}'\n"
    alice.save_widget(widget_id, server_code=code)
    assert (
        alice.post(
            f"/widgets/{widget_id}/secrets/move", {"move": "server_code:2"}, htmx=True
        ).headers["HX-Redirect"]
        == f"/widgets/{widget_id}/edit"
    )
    with app.app_context():
        widget = db.session.get(Widget, widget_id)
        assert (
            widget.server_code
            == "import anvil.secrets\ngithub = anvil.secrets.get_secret('github_token')\n"
        )
        secret = db.session.scalar(
            db.select(Secret).filter_by(widget_id=widget_id, name="github_token")
        )
        assert vault.decrypt_value(secret.ciphertext) == GITHUB_TOKEN


@pytest.mark.parametrize("move", ["server_code:9", "server_code:x", "html:1", ""])
def test_move_refuses_lines_without_a_movable_value(app, alice, widget_id, move):
    alice.save_widget(widget_id, server_code=f"# {VALUE}\n")
    alice.post(f"/widgets/{widget_id}/secrets/move", {"move": move})
    assert "no value that can be moved" in editor(alice, widget_id)
    with app.app_context():
        assert db.session.get(Widget, widget_id).server_code == f"# {VALUE}\n"


def test_move_is_404_for_others(app, alice, make_client, widget_id):
    alice.save_widget(widget_id, server_code=f"key = '{VALUE}'\n")
    stranger = make_client()
    stranger.register("mallory")
    assert (
        stranger.post(f"/widgets/{widget_id}/secrets/move", {"move": "server_code:1"}).status_code
        == 404
    )
    with app.app_context():
        assert db.session.get(Widget, widget_id).server_code == f"key = '{VALUE}'\n"


def test_rotation_keeps_leak_detection_working(app, alice, cli_runner, widget_id, app_config):
    from cryptography.fernet import Fernet

    app.config["SECRETS_KEY"] = f"{Fernet.generate_key().decode()},{app_config['SECRETS_KEY']}"
    vault.init_app(app)
    alice.save_widget(widget_id, server_code=f"key = '{VALUE}'\n")
    assert "contains the value of the secret api_key" in editor(alice, widget_id)  # old fingerprint
    assert cli_runner.invoke(args=["secrets", "rotate-key"]).exit_code == 0
    app.config["SECRETS_KEY"] = app.config["SECRETS_KEY"].split(",")[0]
    vault.init_app(app)
    assert "contains the value of the secret api_key" in editor(alice, widget_id)  # new fingerprint
