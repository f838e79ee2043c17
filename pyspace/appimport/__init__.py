"""Bringing an Anvil app: import its source (a zip of its repository, or a .yaml export) as a
widget with its server modules, tables, secret names and schedules; export a widget back in
the same layout."""

from flask import Blueprint, Flask

bp = Blueprint("appimport", __name__)

from . import routes  # noqa: E402,F401


def init_app(app: Flask) -> None:
    """Plug the import and export routes into the app."""
    app.register_blueprint(bp)
