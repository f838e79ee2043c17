"""Tasks: background tasks and schedules (owner-only panels), `flask tasks …`, and
`anvil.server` tasks for widget code."""

from flask import Blueprint, Flask

from ..access import load_owned_widget
from ..sandbox.services import services_for

# Every route is one widget's and its owner's alone: the widget is loaded into g.widget.
bp = Blueprint("tasks", __name__, url_prefix="/widgets/<widget_id>")
bp.url_value_preprocessor(load_owned_widget)

from . import channel, cli, routes  # noqa: E402,F401


def init_app(app: Flask) -> None:
    """Plug the Tasks panel, `flask tasks …` and the task channel services into the app."""
    app.register_blueprint(bp)
    app.cli.add_command(cli.tasks_cli)
    services_for(app).add(channel.SERVICES)
