"""Bringing an Anvil app: import its source (a zip of its repository, or a .yaml export) as a
widget with its server modules, tables, secret names and schedules; export a widget back in
the same layout."""

from flask import Blueprint, Flask

from ..access import load_owned_widget, send_visitors_to_log_in

bp = Blueprint("appimport", __name__)
# An import's report and the export, the owner's alone: anyone else logged in gets 404 and an
# anonymous visitor is sent to log in; the widget is in g.widget. Nested in `bp` (endpoints
# `appimport.owner.…`).
owner_bp = Blueprint("owner", __name__, url_prefix="/widgets/<widget_id>")
owner_bp.url_value_preprocessor(send_visitors_to_log_in)
owner_bp.url_value_preprocessor(load_owned_widget)

from . import routes  # noqa: E402,F401

bp.register_blueprint(owner_bp)


def init_app(app: Flask) -> None:
    """Plug the import and export routes into the app."""
    app.register_blueprint(bp)
