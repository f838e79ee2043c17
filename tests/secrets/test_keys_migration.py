"""Migration b2_secret_keys: an existing database gains secrets.kind, every row a "secret"."""

from flask_migrate import downgrade, upgrade

from pyspace.extensions import db
from pyspace.models import Secret


def test_upgrade_marks_existing_rows_as_secrets_and_keeps_their_values(app):
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(db.text("DROP TABLE IF EXISTS alembic_version"))
        upgrade(revision="5ac66295b458")
        with db.engine.begin() as connection:
            connection.execute(
                db.text(
                    "INSERT INTO users (id, username, password_hash, is_admin, is_disabled,"
                    " created_at) VALUES (1, 'old', 'x', false, false, CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                db.text(
                    "INSERT INTO widgets (id, owner_id, title, description, kind, visibility,"
                    " server_code, client_code, html, created_at, updated_at) VALUES"
                    " ('w1', 1, 'Old', '', 'script', 'private', '', '', '',"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                db.text(
                    "INSERT INTO secrets (widget_id, name, ciphertext, description, required,"
                    " write_only, created_at) VALUES ('w1', 'api_key', :c, '', false, false,"
                    " CURRENT_TIMESTAMP)"
                ),
                {"c": b"stored-ciphertext"},
            )
        # To the newest schema: the model (which later migrations extend) must load the row.
        upgrade(revision="heads")
        secret = db.session.scalar(db.select(Secret).filter_by(name="api_key"))
        assert (secret.kind, secret.ciphertext, secret.is_key) == (
            "secret",
            b"stored-ciphertext",
            False,
        )
        db.session.rollback()
        downgrade(revision="5ac66295b458")
        with db.engine.connect() as connection:
            names = connection.execute(db.text("SELECT name FROM secrets")).scalars().all()
        assert names == ["api_key"]
