"""Operating a site: `/healthz`, `/metrics`, the admin status page, and the
`flask site backup` / `flask site restore` commands."""

from flask import Blueprint, Flask

from ..security_headers import no_store

bp = Blueprint("operations", __name__)
bp.after_request(no_store)

from . import routes  # noqa: E402,F401


def init_app(app: Flask) -> None:
    """Plug health, metrics and the operator commands into the app."""
    from .cli import site_cli
    from .metrics import count_requests, listen_to_models

    app.register_blueprint(bp)
    count_requests(app)
    listen_to_models()
    app.cli.add_command(site_cli)
