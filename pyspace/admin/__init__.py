"""Administration: the `flask users …` commands and the admin pages."""

from flask import Blueprint, Flask

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import cli, routes  # noqa: E402,F401


def init_app(app: Flask) -> None:
    """Plug the admin pages and `flask users …` into the app."""
    app.register_blueprint(bp)
    app.cli.add_command(cli.users_cli)
