"""Runs: a Run press, a GUI call or a queued run executed in the sandbox and recorded in the
history (`execution.py`, `history.py`), and the queue that carries run ids (`queue.py`)."""

from flask import Blueprint, Flask

from ..sandbox.cli import sandbox_cli

bp = Blueprint("runs", __name__)

from . import routes  # noqa: E402,F401


def init_app(app: Flask) -> None:
    """Plug the Run button's route, `flask sandbox check` and `serve`, and the filter the
    history shows stored fields with, into the app."""
    from .history import shown_field

    app.register_blueprint(bp)
    app.cli.add_command(sandbox_cli)
    app.add_template_filter(shown_field, "shown_field")
