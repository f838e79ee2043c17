"""Data tables: the per-widget Data panel (owner only) and `anvil.tables` for server code."""

from flask import Blueprint, Flask

from ..access import load_owned_widget
from ..sandbox.services import services_for

# Every route is one widget's Data panel and its owner's alone: the widget is loaded into g.widget.
bp = Blueprint("tables", __name__, url_prefix="/widgets/<widget_id>/tables")
bp.url_value_preprocessor(load_owned_widget)

from . import channel, routes  # noqa: E402,F401


def init_app(app: Flask) -> None:
    """Plug the Data panel and the `anvil.tables` channel services into the app."""
    app.register_blueprint(bp)
    services_for(app).add(channel.SERVICES)
