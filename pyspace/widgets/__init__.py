"""Widgets: home, public pages, the editor."""

from flask import Blueprint, Flask

from ..access import load_owned_widget, send_visitors_to_log_in

bp = Blueprint("widgets", __name__)
# The editor and what it changes (save, delete, server modules), the owner's alone: anyone else
# logged in gets 404 and an anonymous visitor is sent to log in; the widget is in g.widget.
# Nested in `bp` (endpoints `widgets.owner.…`).
owner_bp = Blueprint("owner", __name__, url_prefix="/widgets/<widget_id>")
owner_bp.url_value_preprocessor(send_visitors_to_log_in)
owner_bp.url_value_preprocessor(load_owned_widget)

from . import modules, routes  # noqa: E402,F401

bp.register_blueprint(owner_bp)


def init_app(app: Flask) -> None:
    """Plug the home page, public pages and the editor into the app."""
    app.register_blueprint(bp)
