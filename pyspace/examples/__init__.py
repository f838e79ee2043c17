"""Examples: a gallery of starter widgets; "Use this example" makes a private copy."""

from flask import Blueprint, Flask

bp = Blueprint("examples", __name__)

from . import routes  # noqa: E402,F401


def init_app(app: Flask) -> None:
    """Plug the examples pages into the app."""
    app.register_blueprint(bp)
