"""HTTP endpoints of widgets: `/_/api/<widget id>/<path>` answered by the widget's
`@anvil.server.http_endpoint` functions in the sandbox, and the editor's Endpoints panel."""

from flask import Blueprint, Flask

from ..access import load_owned_widget
from ..extensions import csrf

bp = Blueprint("endpoints", __name__)
# The editor's Endpoints panel, the owner's alone: the widget is loaded into g.widget. Nested in
# `bp` (endpoints `endpoints.owner.…`); the /_/api/… routes are for anyone.
owner_bp = Blueprint("owner", __name__, url_prefix="/widgets/<widget_id>")
owner_bp.url_value_preprocessor(load_owned_widget)

from . import routes  # noqa: E402

bp.register_blueprint(owner_bp)


def init_app(app: Flask) -> None:
    """Plug the endpoints' route (exempt from CSRF: no cookie logs a request in) and the panel."""
    csrf.exempt(routes.api)
    app.register_blueprint(bp)
