"""Runs: a Run press, a GUI call or a queued run executed in the sandbox and recorded in the
history (`execution.py`, `history.py`), and the queue that carries run ids (`queue.py`)."""

from flask import Blueprint, Flask

bp = Blueprint("runs", __name__)

from . import routes  # noqa: E402,F401


def init_app(app: Flask) -> None:
    """Plug the Run button's routes into the app."""
    app.register_blueprint(bp)
