"""GUI widgets: the sandboxed frame, client runtime and server-function calls."""

from flask import Blueprint, Flask

bp = Blueprint("gui", __name__)

from . import routes  # noqa: E402,F401


def init_app(app: Flask) -> None:
    """Plug the gui pages into the app."""
    app.register_blueprint(bp)
