"""Widgets: home, public pages, the editor."""

from flask import Blueprint, Flask

bp = Blueprint("widgets", __name__)

from . import modules, routes  # noqa: E402,F401


def init_app(app: Flask) -> None:
    """Plug the home page, public pages and the editor into the app."""
    app.register_blueprint(bp)
