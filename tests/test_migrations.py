"""The migrations are the schema: `flask db upgrade` builds exactly what the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade

from pyspace.extensions import db
from pyspace.models import is_full_text_index


def test_upgrade_on_empty_database_matches_the_models(app):
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:
            # drop_all leaves Alembic's own table (a shared PostgreSQL test database keeps it).
            connection.execute(db.text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={"include_name": lambda *a: not is_full_text_index(*a)},
            )
            differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_upgrade_twice_is_harmless_and_keeps_data(app, alice):
    widget_id = alice.create_widget("Survives upgrades")
    with app.app_context():
        from flask_migrate import stamp

        stamp()  # the test database was built by create_all: mark it current, as after an upgrade
        upgrade()
        from pyspace.models import Widget

        assert db.session.get(Widget, widget_id).title == "Survives upgrades"
