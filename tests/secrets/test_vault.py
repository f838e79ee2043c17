"""The vault: keys, key errors, fingerprints, and `flask secrets rotate-key`."""

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from pyspace import create_app
from pyspace.extensions import db
from pyspace.models import Secret, Widget
from pyspace.secrets import vault
from pyspace.secrets.lookup import value_for_run

VALUES = {"api_key": "sk-live-first-value", "db_password": "hunter2-but-longer", "pem": "é" * 500}


def store_values(app, owner_id: int, values=VALUES) -> str:
    """A widget of `owner_id` holding `values` as secrets (plus a blank one); returns its id."""
    with app.app_context():
        widget = Widget(owner_id=owner_id, title="Keys")
        db.session.add(widget)
        db.session.flush()
        for name, value in values.items():
            db.session.add(
                Secret(
                    widget_id=widget.id,
                    name=name,
                    ciphertext=vault.encrypt_value(value),
                    fingerprint=vault.fingerprint(value),
                )
            )
        db.session.add(Secret(widget_id=widget.id, name="blank"))
        db.session.commit()
        return widget.id


def read_values(app, widget_id) -> dict:
    with app.app_context():
        return {name: value_for_run(widget_id, name, None) for name in VALUES}


def ciphertexts(app) -> dict:
    with app.app_context():
        return {s.name: s.ciphertext for s in db.session.scalars(db.select(Secret))}


@pytest.fixture
def file_key_config(app_config):
    """Keys from instance/secrets.key (the default) instead of PYSPACE_SECRETS_KEY."""
    app_config["SECRETS_KEY"] = None
    return app_config


def test_key_file_is_created_0600_on_first_run(file_key_config, app):
    key_file = Path(file_key_config["INSTANCE_PATH"]) / "secrets.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    Fernet(key_file.read_text().strip())  # a valid key
    assert key_file.read_text().strip() != app.config["SECRET_KEY"]


def test_values_stay_readable_after_a_restart_with_the_key_file(file_key_config, app, make_user):
    widget_id = store_values(app, make_user())
    restarted = create_app(file_key_config)
    assert read_values(restarted, widget_id) == VALUES
    with restarted.app_context():
        db.engine.dispose()


@pytest.mark.parametrize(
    "bad_key, message",
    [
        ("not-a-key", "Secrets key #1 is not a valid Fernet key"),
        # A fixed good key (ids must be the same in every pytest-xdist worker).
        ("A" * 43 + "=,short", "Secrets key #2 is not a valid Fernet key"),
    ],
)
def test_a_malformed_key_stops_the_app_at_start_up_naming_the_cause(app_config, bad_key, message):
    app_config["SECRETS_KEY"] = bad_key
    with pytest.raises(vault.VaultKeyError, match=message):
        create_app(app_config)


def test_an_unreadable_key_file_stops_the_app_naming_the_file(app_config, tmp_path):
    app_config["SECRETS_KEY"] = None
    app_config["SECRETS_KEY_FILE"] = str(tmp_path / "missing-dir-is-a-file")
    Path(app_config["SECRETS_KEY_FILE"]).mkdir()  # a directory where the key file should be
    with pytest.raises(vault.VaultKeyError, match="missing-dir-is-a-file"):
        create_app(app_config)


def test_a_wrong_key_is_a_clear_error_never_garbage(app, make_user):
    widget_id = store_values(app, make_user())
    app.config["SECRETS_KEY"] = Fernet.generate_key().decode()
    vault.init_app(app)
    with app.app_context():
        secret = db.session.scalar(db.select(Secret).filter_by(widget_id=widget_id, name="api_key"))
        with pytest.raises(vault.VaultKeyError, match="does not match"):
            vault.decrypt_value(secret.ciphertext)


def test_fingerprints_are_keyed_and_never_the_value(app):
    with app.app_context():
        first = vault.fingerprint("sk-live-first-value")
        assert first == vault.fingerprint("sk-live-first-value")
        assert b"sk-live" not in first and len(first) == 32
        assert vault.fingerprint("") is None
    app.config["SECRETS_KEY"] = Fernet.generate_key().decode()
    vault.init_app(app)
    with app.app_context():
        assert vault.fingerprint("sk-live-first-value") != first


def test_rotate_key_with_the_key_file_reencrypts_everything_and_drops_the_old_key(
    file_key_config, app, cli_runner, make_user
):
    widget_id = store_values(app, make_user())
    key_file = Path(file_key_config["INSTANCE_PATH"]) / "secrets.key"
    old_key = key_file.read_text().strip()
    before = ciphertexts(app)
    result = cli_runner.invoke(args=["secrets", "rotate-key"])
    assert result.exit_code == 0, result.output
    assert "Re-encrypted 3 value(s)" in result.output
    new_keys = vault.parse_keys(key_file.read_text())
    assert len(new_keys) == 1 and new_keys[0] != old_key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    after = ciphertexts(app)
    assert all(after[name] != before[name] for name in VALUES) and after["blank"] is None
    assert read_values(app, widget_id) == VALUES
    # The new key alone reads everything: the old one is really gone.
    with app.app_context():
        only_new = vault.build_fernet(new_keys)
        assert {name: only_new.decrypt(after[name]).decode() for name in VALUES} == VALUES
        secret = db.session.scalar(db.select(Secret).filter_by(name="api_key"))
        assert secret.fingerprint == vault.fingerprint(VALUES["api_key"])


def test_a_running_process_follows_a_rotation_of_the_key_file(file_key_config, app, make_user):
    widget_id = store_values(app, make_user())
    other_process = create_app(file_key_config)  # started before the rotation
    result = app.test_cli_runner().invoke(args=["secrets", "rotate-key"])
    assert result.exit_code == 0, result.output
    assert read_values(other_process, widget_id) == VALUES
    with other_process.app_context():
        db.engine.dispose()


def test_rotate_key_from_the_environment_needs_the_new_key_first(
    app, app_config, cli_runner, make_user
):
    widget_id = store_values(app, make_user())
    before = ciphertexts(app)
    result = cli_runner.invoke(args=["secrets", "rotate-key"])
    assert result.exit_code != 0 and "Put the new key first" in result.output
    assert ciphertexts(app) == before

    old_key, new_key = app_config["SECRETS_KEY"], Fernet.generate_key().decode()
    app_config["SECRETS_KEY"] = f"{new_key},{old_key}"
    during = create_app(app_config)  # the site restarted with NEW,OLD
    assert read_values(during, widget_id) == VALUES  # old values readable mid-rotation
    result = during.test_cli_runner().invoke(args=["secrets", "rotate-key"])
    assert result.exit_code == 0 and "Re-encrypted 3 value(s)" in result.output
    app_config["SECRETS_KEY"] = new_key
    after = create_app(app_config)  # the old key removed
    assert read_values(after, widget_id) == VALUES
    for extra in (during, after):
        with extra.app_context():
            db.engine.dispose()


def test_rotation_with_an_unreadable_value_changes_nothing(app, app_config, cli_runner, make_user):
    store_values(app, make_user())
    stranger = Fernet(Fernet.generate_key())
    with app.app_context():
        db.session.add(
            Secret(
                widget_id=db.session.scalar(db.select(Widget.id)),
                name="foreign",
                ciphertext=stranger.encrypt(b"x"),
            )
        )
        db.session.commit()
    before = ciphertexts(app)
    app.config["SECRETS_KEY"] = f"{Fernet.generate_key().decode()},{app_config['SECRETS_KEY']}"
    vault.init_app(app)
    result = cli_runner.invoke(args=["secrets", "rotate-key"])
    assert result.exit_code != 0 and "Nothing was changed" in result.output
    assert ciphertexts(app) == before


def test_check_key_reports_values_the_key_cannot_read(app, cli_runner, make_user):
    store_values(app, make_user())
    assert cli_runner.invoke(args=["secrets", "check-key"]).exit_code == 0
    app.config["SECRETS_KEY"] = Fernet.generate_key().decode()
    vault.init_app(app)
    result = cli_runner.invoke(args=["secrets", "check-key"])
    assert result.exit_code != 0 and "3 value(s) can't be decrypted" in result.output


def test_rotate_key_help_says_how_to_supply_the_new_key(cli_runner):
    result = cli_runner.invoke(args=["secrets", "rotate-key", "--help"])
    assert "PYSPACE_SECRETS_KEY" in result.output and "NEW,OLD" in result.output
    Fernet(cli_runner.invoke(args=["secrets", "new-key"]).output.strip())  # prints a valid key
