"""HTTP endpoints of widgets: `/_/api/<widget id>/<path>` answered by the widget's
`@anvil.server.http_endpoint` functions in the sandbox, and the editor's Endpoints panel."""

from flask import Blueprint, Flask

from ..extensions import csrf

bp = Blueprint("endpoints", __name__)

from . import routes  # noqa: E402


def init_app(app: Flask) -> None:
    """Plug the endpoints' route (exempt from CSRF: no cookie logs a request in) and the panel."""
    csrf.exempt(routes.api)
    app.register_blueprint(bp)
