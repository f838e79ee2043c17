"""Upgrading a database from before session generations keeps every account working."""

from flask_migrate import upgrade
from werkzeug.security import generate_password_hash

from pyspace.extensions import db
from pyspace.models import User
from tests.conftest import PASSWORD


def test_accounts_made_before_the_upgrade_still_log_in(app, make_client):
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(db.text("DROP TABLE IF EXISTS alembic_version"))
        upgrade(revision="5ac66295b458")
        with db.engine.begin() as connection:
            connection.execute(
                db.text(
                    "INSERT INTO users (username, password_hash, is_admin, is_disabled, created_at)"
                    " VALUES ('alice', :hash, false, false, CURRENT_TIMESTAMP)"
                ),
                {"hash": generate_password_hash(PASSWORD)},
            )
        upgrade()
        assert db.session.scalar(db.select(User.session_generation)) == 0
    browser = make_client()
    assert browser.login("alice").status_code == 302
    assert browser.client.get("/account").status_code == 200
