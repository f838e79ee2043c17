"""Secrets: the per-widget Secrets panel (owner only), and `anvil.secrets` for widget code."""

from flask import Blueprint, Flask

from ..access import load_owned_widget
from ..errors import render_error
from ..sandbox.services import services_for

# Every route is one widget's and its owner's alone: the widget is loaded into g.widget.
bp = Blueprint("secrets", __name__, url_prefix="/widgets/<widget_id>/secrets")
bp.url_value_preprocessor(load_owned_widget)

from . import channel, cli, key_routes, routes, vault  # noqa: E402,F401


def init_app(app: Flask) -> None:
    """Plug the Secrets panel, `flask secrets …`, the vault and `anvil.secrets` into the app."""
    vault.init_app(app)
    app.register_blueprint(bp)
    app.cli.add_command(cli.secrets_cli)
    services_for(app).add(channel.SERVICES)

    @app.errorhandler(vault.VaultKeyError)
    def vault_key_error(error):
        """A missing or wrong secrets key: say so plainly, never a traceback or garbage."""
        return render_error(500, str(error))
