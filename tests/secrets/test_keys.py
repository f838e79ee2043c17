"""Encryption keys over HTTP and in the domain code: Create Key, key rows, Generate key, forks,
`.env` import/export, rotation of the site's key — and key bytes that never show anywhere."""

import base64
import logging
import re
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from pyspace.extensions import db
from pyspace.models import AuditEvent, Secret
from pyspace.secrets import vault
from pyspace.secrets.lookup import SecretLookupError, key_for_run, value_for_run
from tests.conftest import stored_bytes
from tests.gui.client_runtime import client_error

ROOT = Path(__file__).resolve().parents[2]
HX = {"HX-Request": "true"}
VALUE = "sk-live-key-test-3b8e0d"


@pytest.fixture
def widget_id(alice):
    return alice.create_widget("Ledger", visibility="public")


def create_key(accounts, widget_id: str, name: str | None = None) -> int:
    """Create Key through the panel (htmx), optionally renaming it; returns its id."""
    response = accounts.post(f"/widgets/{widget_id}/secrets/keys", htmx=True)
    assert response.status_code == 200, response.get_data(as_text=True)
    key_id = max(map(int, re.findall(r'id="secret-(\d+)"', response.get_data(as_text=True))))
    if name:
        renamed = accounts.post(
            f"/widgets/{widget_id}/secrets/{key_id}/name", {"name": name}, htmx=True
        )
        assert renamed.status_code == 200, renamed.get_data(as_text=True)
    return key_id


def add_secret_value(app, widget_id: str, name: str, value: str) -> int:
    with app.app_context():
        secret = Secret(widget_id=widget_id, name=name, ciphertext=vault.encrypt_value(value))
        db.session.add(secret)
        db.session.commit()
        return secret.id


def row(app, secret_id: int) -> Secret:
    with app.app_context():
        secret = db.session.get(Secret, secret_id)
        db.session.expunge(secret)
        return secret


def material_forms(app, key_id: int) -> list[bytes]:
    """Every form the key's bytes could leak in: the Fernet key text, raw, halves, hex."""
    with app.app_context():
        text = vault._keyring().fernet.decrypt(db.session.get(Secret, key_id).ciphertext)
    raw = base64.urlsafe_b64decode(text)
    return [text, raw, raw[:16], raw[16:], raw.hex().encode(), base64.b64encode(raw)]


def assert_no_key_bytes(app, key_id: int, *texts: str | bytes) -> None:
    forms = material_forms(app, key_id)
    for text in texts:
        data = text.encode() if isinstance(text, str) else text
        for form in forms:
            assert form not in data


# --- Create Key and the key's row ---------------------------------------------------------------


def test_create_key_generates_a_key_named_new_key_n_beside_the_secrets(app, alice, widget_id):
    first = create_key(alice, widget_id)
    second = create_key(alice, widget_id)
    assert (row(app, first).name, row(app, second).name) == ("new_key_1", "new_key_2")
    for key_id in (first, second):
        key = row(app, key_id)
        assert key.kind == "key" and key.ciphertext is not None and key.fingerprint is None
    panel = alice.client.get(f"/widgets/{widget_id}/secrets", headers=HX).get_data(as_text=True)
    assert "Create Key" in panel and "Create Secret" in panel
    assert panel.count('class="badge badge-key"') == 2
    assert_no_key_bytes(app, first, panel)
    with app.app_context():
        event = db.session.scalar(db.select(AuditEvent).filter_by(secret_name="new_key_1"))
        assert (event.action, event.detail) == ("create", "encryption key")


def test_create_key_without_javascript_redirects_to_the_panel_focused_on_it(alice, widget_id):
    response = alice.post(f"/widgets/{widget_id}/secrets/keys")
    assert response.status_code == 302
    assert re.search(rf"/widgets/{widget_id}/secrets\?focus=\d+$", response.headers["Location"])


def test_a_key_row_has_no_value_to_view_set_or_export(app, alice, widget_id):
    key_id = create_key(alice, widget_id, "ledger_key")
    panel = alice.client.get(f"/widgets/{widget_id}/secrets", headers=HX).get_data(as_text=True)
    key_row = panel.split(f'id="secret-{key_id}"')[1].split("</li>")[0]
    assert "ledger_key" in key_row and ">Key<" in key_row
    assert "View value" not in key_row and "Set value" not in key_row
    assert "Generate key" not in key_row  # it has a key already
    assert "can no longer be read" in key_row  # Delete's confirmation
    base = f"/widgets/{widget_id}/secrets/{key_id}"
    assert alice.client.get(f"{base}/edit/value", headers=HX).status_code == 404
    before = row(app, key_id).ciphertext
    refused = alice.post(f"{base}/value", {"value": VALUE}, htmx=True)
    assert refused.status_code == 422 and "encryption key" in refused.get_data(as_text=True)
    viewed = alice.post(f"{base}/reveal", {}, htmx=True)
    assert viewed.status_code == 422 and "never shown" in viewed.get_data(as_text=True)
    assert row(app, key_id).ciphertext == before
    assert_no_key_bytes(app, key_id, refused.get_data(), viewed.get_data())


def test_keys_and_secrets_share_one_namespace(app, alice, widget_id):
    create_key(alice, widget_id, "shared_name")
    secret_id = add_secret_value(app, widget_id, "api_key", VALUE)
    response = alice.post(
        f"/widgets/{widget_id}/secrets/{secret_id}/name", {"name": "shared_name"}, htmx=True
    )
    assert response.status_code == 422
    assert "already has a secret named shared_name" in response.get_data(as_text=True)


def test_deleting_a_key_asks_first_saying_its_data_can_no_longer_be_read(app, alice, widget_id):
    key_id = create_key(alice, widget_id, "ledger_key")
    page = alice.client.get(f"/widgets/{widget_id}/secrets/{key_id}/delete").get_data(as_text=True)
    assert "Delete the key" in page and "can no longer be read" in page
    assert alice.post(f"/widgets/{widget_id}/secrets/{key_id}/delete").status_code == 302
    with app.app_context():
        assert db.session.get(Secret, key_id) is None


# --- Generate key ---------------------------------------------------------------------------


def test_generate_key_fills_a_key_without_material_and_never_replaces_one(app, alice, widget_id):
    key_id = create_key(alice, widget_id, "ledger_key")
    kept = row(app, key_id).ciphertext
    refused = alice.post(f"/widgets/{widget_id}/secrets/{key_id}/generate", htmx=True)
    assert refused.status_code == 422 and "already has a key" in refused.get_data(as_text=True)
    assert row(app, key_id).ciphertext == kept
    with app.app_context():
        db.session.get(Secret, key_id).ciphertext = None
        db.session.commit()
    panel = alice.client.get(f"/widgets/{widget_id}/secrets", headers=HX).get_data(as_text=True)
    assert "Generate key" in panel and "no key" in panel
    response = alice.post(f"/widgets/{widget_id}/secrets/{key_id}/generate", htmx=True)
    assert response.status_code == 200
    assert row(app, key_id).ciphertext not in (None, kept)
    assert_no_key_bytes(app, key_id, response.get_data())


def test_generate_key_on_a_secret_is_not_found(app, alice, widget_id):
    secret_id = add_secret_value(app, widget_id, "api_key", VALUE)
    response = alice.post(f"/widgets/{widget_id}/secrets/{secret_id}/generate", htmx=True)
    assert response.status_code == 404
    assert row(app, secret_id).kind == "secret"


# --- Runs: names, kinds, audit (the sandboxed round trip is in test_keys_run.py) --------------


def test_get_secret_on_a_key_and_a_key_call_on_a_secret_say_which_is_which(app, alice, widget_id):
    create_key(alice, widget_id, "ledger_key")
    add_secret_value(app, widget_id, "api_key", VALUE)
    with app.app_context():
        with pytest.raises(SecretLookupError, match="'ledger_key' is a key, not a secret"):
            value_for_run(widget_id, "ledger_key", None)
        with pytest.raises(SecretLookupError, match="'api_key' is a secret, not a key") as raised:
            key_for_run(widget_id, "api_key", None)
        assert VALUE not in str(raised.value)
        with pytest.raises(SecretLookupError, match="No such key 'nope'"):
            key_for_run(widget_id, "nope", None)


# --- Forks ----------------------------------------------------------------------------------


def test_a_fork_gets_the_key_name_without_a_key_and_must_generate_its_own(
    app, alice, bob, widget_id
):
    key_id = create_key(alice, widget_id, "ledger_key")
    with app.app_context():
        token = key_for_run(widget_id, "ledger_key", None).encrypt("original's row")
    response = bob.post(f"/widgets/{widget_id}/fork")
    fork_id = response.headers["Location"].rstrip("/").split("/")[-2]
    with app.app_context():
        copied = db.session.scalar(db.select(Secret).filter_by(widget_id=fork_id))
        assert (copied.name, copied.kind, copied.ciphertext) == ("ledger_key", "key", None)
        copied_id = copied.id
        with pytest.raises(SecretLookupError, match='press "Generate key"'):
            key_for_run(fork_id, "ledger_key", None)
    editor = bob.client.get(f"/widgets/{fork_id}/edit").get_data(as_text=True)
    box = editor.split('id="needs-values"')[1].split("</ul>")[0]
    assert "ledger_key" in box and "Generate key" in box
    assert bob.post(f"/widgets/{fork_id}/secrets/{copied_id}/generate").status_code == 302
    with app.app_context():
        fork_key = key_for_run(fork_id, "ledger_key", None)
        with pytest.raises(vault.KeyTokenError):
            fork_key.decrypt(token)  # by design: the fork can't read the original's data
        assert fork_key.decrypt(fork_key.encrypt("fork's row")) == "fork's row"
    assert_no_key_bytes(app, key_id, editor)


# --- .env import and export -----------------------------------------------------------------


def test_env_import_skips_a_key_with_a_note_and_leaves_it_alone(app, alice, widget_id):
    key_id = create_key(alice, widget_id, "ledger_key")
    kept = row(app, key_id).ciphertext
    text = "ledger_key=attacker-chosen-key\nAPI_TOKEN=abc123\n"
    url = f"/widgets/{widget_id}/secrets/import"
    preview = alice.post(url, {"dotenv": text}, htmx=True).get_data(as_text=True)
    assert "skipped: an encryption key has no value to import" in preview
    applied = alice.post(url, {"dotenv": text, "step": "apply"}, htmx=True)
    assert applied.status_code == 200
    key = row(app, key_id)
    assert (key.kind, key.ciphertext, key.fingerprint) == ("key", kept, None)
    with app.app_context():
        assert db.session.scalar(db.select(Secret).filter_by(name="API_TOKEN")) is not None


def test_env_exports_name_keys_in_a_comment_only(app, alice, widget_id):
    key_id = create_key(alice, widget_id, "ledger_key")
    add_secret_value(app, widget_id, "api_key", VALUE)
    example = alice.client.get(f"/widgets/{widget_id}/secrets/env.example").get_data(as_text=True)
    values = alice.post(f"/widgets/{widget_id}/secrets/export").get_data(as_text=True)
    for text in (example, values):
        assert not re.search(r"^ledger_key=", text, re.MULTILINE)
        assert re.search(r"^# Encryption keys are not exported.*ledger_key", text, re.MULTILINE)
        assert_no_key_bytes(app, key_id, text)
    assert f"api_key={VALUE}" in values


# --- Rotation of the site's secrets key -------------------------------------------------------


def test_rotate_key_reencrypts_key_material_so_old_ciphertext_still_decrypts(
    app, app_config, alice, widget_id
):
    key_id = create_key(alice, widget_id, "ledger_key")
    with app.app_context():
        token = key_for_run(widget_id, "ledger_key", None).encrypt("kept across rotations")
    before = row(app, key_id).ciphertext
    old_key = app_config["SECRETS_KEY"]
    new_key = Fernet.generate_key().decode()
    app.config["SECRETS_KEY"] = f"{new_key},{old_key}"
    vault.init_app(app)
    result = app.test_cli_runner().invoke(args=["secrets", "rotate-key"])
    assert result.exit_code == 0, result.output
    after = row(app, key_id).ciphertext
    assert after != before
    assert Fernet(new_key).decrypt(after)  # readable with the new key alone
    app.config["SECRETS_KEY"] = new_key
    vault.init_app(app)
    with app.app_context():
        key = key_for_run(widget_id, "ledger_key", None)
        assert key.decrypt(token) == "kept across rotations"


# --- The key's bytes are nowhere ------------------------------------------------------------


def test_key_bytes_are_in_no_response_log_audit_row_or_database_byte(
    app, alice, bob, widget_id, caplog
):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)
    try:
        key_id = create_key(alice, widget_id, "ledger_key")
        with app.app_context():
            key_for_run(widget_id, "ledger_key", None).encrypt("row")
        base = f"/widgets/{widget_id}/secrets"
        responses = [
            alice.client.get(f"/widgets/{widget_id}/edit"),
            alice.client.get(base),
            alice.client.get(base, headers=HX),
            alice.client.get(f"{base}/{key_id}", headers=HX),
            alice.client.get(f"{base}/{key_id}/edit/name", headers=HX),
            alice.client.get(f"{base}/{key_id}/edit/details", headers=HX),
            alice.post(f"{base}/{key_id}/reveal", {}, htmx=True),
            alice.client.get(f"{base}/{key_id}/delete"),
            alice.client.get(f"{base}/audit"),
            alice.client.get(f"{base}/env.example"),
            alice.post(f"{base}/export"),
            alice.client.get(f"/widgets/{widget_id}"),
            bob.post(f"/widgets/{widget_id}/fork"),
        ]
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.NOTSET)
    with app.app_context():
        audit_rows = repr([e.__dict__ for e in db.session.scalars(db.select(AuditEvent))])
        raw = stored_bytes(db)
    assert b"ledger_key" in raw
    assert_no_key_bytes(
        app, key_id, caplog.text, audit_rows, raw, *(r.get_data() for r in responses)
    )


# --- Client code ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "from anvil.secrets import encrypt_with_key",
        "import anvil; anvil.secrets.decrypt_with_key('k', 'x')",
    ],
)
def test_client_code_cannot_use_keys_and_is_told_why(statement):
    last_line = client_error(statement)
    assert last_line.startswith("anvil.SecretsUnavailableError: Secrets are only available")
    assert "encrypt_with_key, decrypt_with_key) work in server code only" in last_line
