"""An instance of the previous release upgrades in place: `flask db upgrade` keeps its accounts,
widgets and secrets, and the values it encrypted still read with its key file.

The previous release's database is built the way it was: its schema is migration 5ac66295b458
(the first revision, never edited), and its rows are written with plain SQL, as that release
wrote them, so nothing of today's models or vault is used to make them. Today's migrations,
whatever revisions are added after it, then run on top with `flask db upgrade`.
"""

import hashlib
import hmac
import sqlite3
from datetime import datetime

import pytest
from cryptography.fernet import Fernet
from werkzeug.security import generate_password_hash

from pyspace import create_app
from pyspace.extensions import db
from tests.conftest import PASSWORD, Accounts

PREVIOUS_RELEASE = "5ac66295b458"
WIDGET_ID = "upgradeWidget001"
SECRET_NAME = "api_key"
SECRET_VALUE = "sk-previous-release-7f3a9c"
SERVER_CODE = "import anvil.secrets\nprint(anvil.secrets.get_secret('api_key'))\n"
# How the previous release's vault derived its fingerprint key from a Fernet key.
FINGERPRINT_CONTEXT = b"py.space value fingerprint v1"


@pytest.fixture
def instance(tmp_path):
    """An instance/ folder as the previous release left it: a key file and a database."""
    folder = tmp_path / "instance"
    folder.mkdir(mode=0o700)
    key = Fernet.generate_key().decode()
    key_file = folder / "secrets.key"
    key_file.write_text(key + "\n")
    key_file.chmod(0o600)
    return folder, key


def _app(folder):
    # No SECRETS_KEY: the vault reads instance/secrets.key, as an installed site does.
    return create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(folder),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'pyspace.sqlite'}",
            "SECRET_KEY": "upgrade-test-secret-key",
            "RATELIMIT_ENABLED": False,
        }
    )


def _flask_db(app, *arguments: str) -> None:
    result = app.test_cli_runner().invoke(args=["db", *arguments])
    assert result.exit_code == 0, result.output + repr(result.exception)


def _fill_as_previous_release(database, key: str) -> None:
    """One account, one widget and one secret, stored as the previous release stored them."""
    ciphertext = Fernet(key.encode()).encrypt(SECRET_VALUE.encode("utf-8"))
    fingerprint_key = hmac.new(key.encode(), FINGERPRINT_CONTEXT, hashlib.sha256).digest()
    fingerprint = hmac.new(fingerprint_key, SECRET_VALUE.encode("utf-8"), hashlib.sha256).digest()
    now = datetime(2026, 11, 1, 12, 0, 0)
    connection = sqlite3.connect(database)
    with connection:
        connection.execute(
            "INSERT INTO users (id, username, password_hash, is_admin, is_disabled, created_at)"
            " VALUES (1, 'olduser', ?, 0, 0, ?)",
            (generate_password_hash(PASSWORD), now),
        )
        connection.execute(
            "INSERT INTO widgets (id, owner_id, title, description, kind, visibility,"
            " server_code, client_code, html, created_at, updated_at)"
            " VALUES (?, 1, 'Made before the upgrade', 'kept', 'script', 'private', ?, '', '',"
            " ?, ?)",
            (WIDGET_ID, SERVER_CODE, now, now),
        )
        connection.execute(
            "INSERT INTO secrets (widget_id, name, ciphertext, fingerprint, description,"
            " required, write_only, created_at, value_changed_at)"
            " VALUES (?, ?, ?, ?, 'the weather API', 1, 0, ?, ?)",
            (WIDGET_ID, SECRET_NAME, ciphertext, fingerprint, now, now),
        )
    connection.close()


def test_previous_release_instance_upgrades_keeping_accounts_widgets_and_secret_values(
    instance,
):
    folder, key = instance
    app = _app(folder)
    _flask_db(app, "upgrade", PREVIOUS_RELEASE)
    _fill_as_previous_release(folder / "pyspace.sqlite", key)

    _flask_db(app, "upgrade", "heads")

    from pyspace.models import Secret, Widget
    from pyspace.secrets.leaks import leak_warnings
    from pyspace.secrets.lookup import value_for_run

    accounts = Accounts(app.test_client())
    response = accounts.login("olduser", PASSWORD)
    assert response.status_code == 302, response.get_data(as_text=True)
    home = accounts.client.get("/").get_data(as_text=True)
    assert "Made before the upgrade" in home
    assert accounts.client.get(f"/widgets/{WIDGET_ID}/edit").status_code == 200
    with app.app_context():
        widget = db.session.get(Widget, WIDGET_ID)
        assert widget.owner.username == "olduser"
        assert widget.server_code == SERVER_CODE
        # The one file arrived as the widget's first (and only) server module.
        assert widget.module_sources() == [("server_code", SERVER_CODE)]
        # Settings added since take the value the previous release behaved as.
        assert widget.client_python == "pyodide"
        secret = db.session.scalar(db.select(Secret).filter_by(name=SECRET_NAME))
        assert (secret.description, secret.required) == ("the weather API", True)
        # The value encrypted with the instance's key file decrypts after the upgrade...
        assert value_for_run(WIDGET_ID, SECRET_NAME, widget.owner_id) == SECRET_VALUE
        # ...and its stored fingerprint still finds the value pasted into the code.
        widget.server_code = f"key = {SECRET_VALUE!r}\n"
        assert [w.secret_name for w in leak_warnings(widget)] == [SECRET_NAME]
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()


def test_upgrade_from_previous_release_fails_on_a_value_from_another_key(instance):
    # The check above can fail: with a different key file the same rows do not decrypt.
    folder, _key = instance
    app = _app(folder)
    _flask_db(app, "upgrade", PREVIOUS_RELEASE)
    _fill_as_previous_release(folder / "pyspace.sqlite", Fernet.generate_key().decode())
    _flask_db(app, "upgrade", "heads")

    from pyspace.secrets.lookup import SecretLookupError, value_for_run

    with app.app_context():
        with pytest.raises(SecretLookupError, match="secrets key has changed"):
            value_for_run(WIDGET_ID, SECRET_NAME, 1)
        db.session.remove()
        db.engine.dispose()
