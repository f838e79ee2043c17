"""anvil.secrets.encrypt_with_key / decrypt_with_key in real sandboxed runs.

The key is used host-side through the run's channel: widget code gets ciphertext and text,
never the key. Each test runs in a cold sandbox and in a warm (pooled) one.
"""

import base64
import logging
import zlib

import pytest

from pyspace.extensions import db
from pyspace.models import AuditEvent, Secret, Widget
from pyspace.sandbox import runner_for
from pyspace.secrets import vault
from pyspace.secrets.changes import create_key
from tests.sandbox.helpers import ROOMY_LIMITS, add_secret

ROUND_TRIP = """
import anvil.secrets
token = anvil.secrets.encrypt_with_key('records_key', 'card 4111-1111 ✓')
print(token)
print(anvil.secrets.decrypt_with_key('records_key', token))
"""


@pytest.fixture(params=["cold", "warm"], autouse=True)
def mode(request, app_config):
    app_config.update(ROOMY_LIMITS, RUN_POOL_SIZE=1 if request.param == "warm" else 0)
    return request.param


@pytest.fixture
def owner_id(make_user):
    return make_user("keeper")


def new_widget(app, owner_id: int, key_name: str | None = "records_key") -> str:
    """A widget of `owner_id`, with a generated key named `key_name` (None: no key)."""
    with app.app_context():
        widget = Widget(owner_id=owner_id, title="keys")
        db.session.add(widget)
        db.session.commit()
        if key_name:
            key = create_key(widget, owner_id)
            key.name = key_name
            db.session.commit()
        return widget.id


def key_material(app, widget_id: str, name: str = "records_key") -> bytes:
    """The plain key bytes (the test peeks through the vault to prove they never leak)."""
    with app.app_context():
        stored = db.session.scalar(
            db.select(Secret.ciphertext).filter_by(widget_id=widget_id, name=name)
        )
        return vault._keyring().fernet.decrypt(stored)


@pytest.fixture
def run_code(app, mode, owner_id):
    """Run `code` as `widget_id`'s server code; returns the RunResult."""

    def run(code: str, widget_id: str):
        with app.app_context():
            runner = runner_for(app)
            if mode == "warm":
                assert runner.pool.wait_until_full(10)
            return runner.run(widget_id, code, owner_id)

    return run


def test_encrypt_then_decrypt_gives_the_text_back_and_the_token_is_versioned(
    app, owner_id, run_code
):
    widget_id = new_widget(app, owner_id)
    result = run_code(ROUND_TRIP, widget_id)
    assert result.ok, result.error
    token, text = result.stdout.splitlines()
    assert text == "card 4111-1111 ✓"
    assert token.startswith("pyspace-key-v1:") and token.isprintable()
    assert "4111" not in token


def test_two_encryptions_of_one_text_differ_and_both_decrypt(app, owner_id, run_code):
    widget_id = new_widget(app, owner_id)
    code = (
        "import anvil.secrets as s\n"
        "a, b = s.encrypt_with_key('records_key', 'x'), s.encrypt_with_key('records_key', 'x')\n"
        "print(a != b, s.decrypt_with_key('records_key', a), "
        "s.decrypt_with_key('records_key', b))\n"
    )
    result = run_code(code, widget_id)
    assert result.ok, result.error
    assert result.stdout.strip() == "True x x"


def _decrypting(token: str) -> str:
    return (
        "import anvil.secrets\n"
        "try:\n"
        f"    print(anvil.secrets.decrypt_with_key('records_key', {token!r}))\n"
        "except anvil.secrets.SecretError as error:\n"
        "    print('refused:', error)\n"
    )


def _token(run_code, widget_id: str, text: str = "the ledger") -> str:
    code = f"import anvil.secrets\nprint(anvil.secrets.encrypt_with_key('records_key', {text!r}))"
    result = run_code(code, widget_id)
    assert result.ok, result.error
    return result.stdout.strip()


@pytest.mark.parametrize("damage", ["flip", "truncate", "drop-prefix", "garbage"])
def test_tampered_or_truncated_ciphertext_is_refused(app, owner_id, run_code, damage):
    widget_id = new_widget(app, owner_id)
    token = _token(run_code, widget_id)
    middle = len(token) // 2
    damaged = {
        "flip": token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :],
        "truncate": token[:-5],
        "drop-prefix": token.removeprefix("pyspace-key-v1:"),
        "garbage": "pyspace-key-v1:not a token at all é",
    }[damage]
    result = run_code(_decrypting(damaged), widget_id)
    assert result.ok, result.error
    assert result.stdout.startswith("refused: This ciphertext can't be decrypted with the key")
    assert "the ledger" not in result.stdout


def test_another_widgets_ciphertext_is_refused_even_under_the_same_key_name(
    app, owner_id, run_code
):
    first, second = new_widget(app, owner_id), new_widget(app, owner_id)
    token = _token(run_code, first)
    result = run_code(_decrypting(token), second)
    assert result.stdout.startswith("refused: This ciphertext can't be decrypted with the key")
    assert "made with another key" in result.stdout and "the ledger" not in result.stdout


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("encrypt_with_key('nope', 'x')", "No such key 'nope'"),
        ("decrypt_with_key('nope', 'x')", "No such key 'nope'"),
        ("encrypt_with_key('api_key', 'x')", "'api_key' is a secret, not a key"),
        ("get_secret('records_key')", "'records_key' is a key, not a secret"),
        ("encrypt_with_key('records_key', b'bytes')", "encrypt_with_key encrypts a string"),
        ("decrypt_with_key('records_key', 42)", "decrypt_with_key decrypts the string"),
    ],
)
def test_wrong_names_and_types_raise_secret_error_with_a_clear_message(
    app, owner_id, run_code, call, message
):
    widget_id = new_widget(app, owner_id)
    add_secret(app, widget_id, "api_key", "s3cr3t-value")
    result = run_code(f"import anvil.secrets\nanvil.secrets.{call}\n", widget_id)
    assert result.error["type"] == "SecretError"
    assert result.error["message"].startswith(message)
    assert "s3cr3t-value" not in str(result.error)


def test_a_key_is_audited_as_use_once_per_run_without_its_bytes(app, owner_id, run_code, caplog):
    caplog.set_level(logging.DEBUG)
    widget_id = new_widget(app, owner_id)
    code = (
        "import anvil.secrets as s\n"
        "for i in range(20):\n"
        "    s.decrypt_with_key('records_key', s.encrypt_with_key('records_key', str(i)))\n"
    )
    result = run_code(code, widget_id)
    assert result.ok, result.error
    with app.app_context():
        uses = db.session.scalars(db.select(AuditEvent).filter_by(action="use")).all()
        assert [(event.secret_name, event.widget_id) for event in uses] == [
            ("records_key", widget_id)
        ]
        assert db.session.scalar(db.select(Secret).filter_by(name="records_key")).last_used_at
    material = key_material(app, widget_id)
    seen = result.stdout + result.stderr + str(result.error) + caplog.text
    assert material.decode() not in seen


@pytest.fixture
def big_output(app_config, mode):
    app_config["RUN_OUTPUT_BYTES"] = 8 * 1024 * 1024


def test_widget_code_cannot_find_the_key_in_its_sandbox(big_output, app, owner_id, run_code):
    """After encrypting, every string and bytes object the widget's process holds (the channel's
    frames included) and its environment are sent out whole: the key is in none of them."""
    widget_id = new_widget(app, owner_id)
    code = (
        "import anvil.secrets, base64, gc, os, zlib\n"
        "token = anvil.secrets.encrypt_with_key('records_key', 'x')\n"
        "kinds = (bytes, bytearray, str, dict, list)\n"
        "held = [o for o in gc.get_objects() if isinstance(o, kinds)]\n"
        "blob = repr(held).encode() + repr(dict(os.environ)).encode()\n"
        "print(base64.b64encode(zlib.compress(blob)).decode())\n"
    )
    result = run_code(code, widget_id)
    assert result.ok, result.error
    held = zlib.decompress(base64.b64decode(result.stdout.strip()))
    assert b"pyspace-key-v1:" in held  # the search covers what the channel brought back
    material = key_material(app, widget_id)
    raw = base64.urlsafe_b64decode(material)
    for form in (material, raw, raw[:16], raw[16:], raw.hex().encode(), repr(raw).encode()):
        assert form not in held


def test_in_a_fork_without_a_key_encrypt_says_to_press_generate_key(app, owner_id, run_code):
    widget_id = new_widget(app, owner_id)
    with app.app_context():
        db.session.execute(db.update(Secret).filter_by(widget_id=widget_id).values(ciphertext=None))
        db.session.commit()
    result = run_code(
        "import anvil.secrets\nanvil.secrets.encrypt_with_key('records_key', 'x')\n", widget_id
    )
    assert result.error["type"] == "SecretError"
    assert 'press "Generate key"' in result.error["message"]
