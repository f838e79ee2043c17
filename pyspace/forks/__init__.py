"""Forks: copying a widget — everything but its secret values."""

from flask import Blueprint, Flask

bp = Blueprint("forks", __name__)

from . import routes  # noqa: E402,F401


def init_app(app: Flask) -> None:
    """Plug the forks pages into the app."""
    app.register_blueprint(bp)
