"""`flask secrets …`: rotate the secrets key, and check that every value can be read.

"Values" here include the material of encryption keys (Create Key), which the secrets key
encrypts like any value: a rotation re-encrypts them too, so code keeps decrypting its data.

How an operator rotates the key
-------------------------------
Key file (the default, instance/secrets.key):
    flask secrets rotate-key
  puts a fresh key in front of the old one in the key file (running processes notice the file
  changed and read it again), re-encrypts every value under the new key in one transaction,
  then removes the old key from the file. Nothing else to do; no restart needed.

PYSPACE_SECRETS_KEY (keys in the environment, e.g. several servers):
  1. generate a key:      flask secrets new-key
  2. set PYSPACE_SECRETS_KEY="NEW,OLD" (newest first) everywhere and restart: the site now
     encrypts under NEW and still reads values stored under OLD;
  3. flask secrets rotate-key      (re-encrypts every value under NEW, in one transaction);
  4. set PYSPACE_SECRETS_KEY="NEW" and restart.
"""

import click
from flask.cli import AppGroup
from sqlalchemy import text

from ..extensions import db
from ..models import Secret
from . import vault

secrets_cli = AppGroup("secrets", help="Manage the key that encrypts widget secrets.")


def reencrypt_all_values() -> int:
    """Re-encrypt every stored value (and its fingerprint) and every encryption key's material
    under the newest key, in one transaction.

    Returns how many values and keys were re-encrypted. On any error nothing is changed.
    """
    try:
        if db.engine.dialect.name == "sqlite":
            # Take SQLite's write lock before reading, so no value set meanwhile is overwritten.
            db.session.execute(text("UPDATE secrets SET id = id WHERE 0"))
        secrets = db.session.scalars(
            db.select(Secret).where(Secret.ciphertext.is_not(None)).with_for_update()
        ).all()
        for secret in secrets:
            if secret.is_key:
                # Key material has no fingerprint: nobody's code can hold it to be warned about.
                secret.ciphertext = vault.reencrypt_widget_key(secret.ciphertext)
            else:
                secret.ciphertext, secret.fingerprint = vault.reencrypt(secret.ciphertext)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return len(secrets)


def unreadable_value_count() -> int:
    """How many stored values the current keys can't decrypt (0 means all is well)."""
    unreadable = 0
    for ciphertext in db.session.scalars(
        db.select(Secret.ciphertext).where(Secret.ciphertext.is_not(None))
    ):
        try:
            vault.decrypt_value(ciphertext)
        except vault.VaultKeyError:
            unreadable += 1
    return unreadable


@secrets_cli.command("rotate-key")
def rotate_key() -> None:
    """Re-encrypt every secret under a new key.

    With the key file (default): a new key is generated, used for every value, and the old key
    is then dropped from the file. With PYSPACE_SECRETS_KEY: put the new key first
    (PYSPACE_SECRETS_KEY="NEW,OLD", see `flask secrets new-key`), restart the site, run this,
    then remove OLD.
    """
    from_file = vault.keys_come_from_file()
    old_keys = vault.current_keys()
    if from_file:
        vault.write_key_file([vault.new_key(), *old_keys])
    elif len(old_keys) < 2:
        raise click.ClickException(
            'PYSPACE_SECRETS_KEY holds one key. Put the new key first ("NEW,OLD"; '
            "`flask secrets new-key` makes one), restart the site, then run this again."
        )
    try:
        count = reencrypt_all_values()
    except vault.VaultKeyError as error:
        raise click.ClickException(f"Nothing was changed: {error}") from None
    if from_file:
        # Every value is now under the new key: the old one can go — unless a value was set
        # under it in the instant before the site noticed the new key file.
        keys = vault.current_keys()
        vault.write_key_file(keys[:1])
        if unreadable_value_count():
            vault.write_key_file(keys)
            raise click.ClickException(
                "A value was set under the old key during the rotation, "
                "so the old key was kept. Run rotate-key again."
            )
        click.echo(f"Re-encrypted {count} value(s) under a new key; instance key file updated.")
    else:
        click.echo(
            f"Re-encrypted {count} value(s) under the first key of PYSPACE_SECRETS_KEY. "
            "You can now remove the older key(s) from it and restart."
        )


@secrets_cli.command("new-key")
def new_key() -> None:
    """Print a fresh key (to put first in PYSPACE_SECRETS_KEY for a rotation)."""
    click.echo(vault.new_key())


@secrets_cli.command("check-key")
def check_key() -> None:
    """Check that the configured key(s) can decrypt every stored value."""
    unreadable = unreadable_value_count()
    if unreadable:
        raise click.ClickException(
            f"{unreadable} value(s) can't be decrypted with the configured key(s): the key "
            "is not the one they were stored with. Restore the right key."
        )
    click.echo("Every stored value can be decrypted.")
