"""Operating a site: `/healthz`, `/metrics`, the admin status page, and the
`flask site backup` / `flask site restore` commands."""

from flask import Blueprint, Flask

from ..security_headers import no_store

bp = Blueprint("operations", __name__)
bp.after_request(no_store)

from . import routes  # noqa: E402,F401


def init_app(app: Flask) -> None:
    """Plug the health endpoint and the operator commands into the app."""
    from .cli import site_cli

    app.register_blueprint(bp)
    app.cli.add_command(site_cli)
