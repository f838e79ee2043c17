"""Tasks: background tasks and schedules (owner-only panels), `flask tasks …`, and
`anvil.server` tasks for widget code."""

from flask import Blueprint, Flask

from ..sandbox.services import services_for

bp = Blueprint("tasks", __name__)

from . import channel, cli, routes  # noqa: E402,F401


def init_app(app: Flask) -> None:
    """Plug the Tasks panel, `flask tasks …` and the task channel services into the app."""
    app.register_blueprint(bp)
    app.cli.add_command(cli.tasks_cli)
    services_for(app).add(channel.SERVICES)
