"""Data tables: the per-widget Data panel (owner only) and `anvil.tables` for server code."""

from flask import Blueprint, Flask

from ..sandbox.services import services_for

bp = Blueprint("tables", __name__)

from . import channel, routes  # noqa: E402,F401


def init_app(app: Flask) -> None:
    """Plug the Data panel and the `anvil.tables` channel services into the app."""
    app.register_blueprint(bp)
    services_for(app).add(channel.SERVICES)
