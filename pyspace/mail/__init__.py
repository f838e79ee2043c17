"""E-mail from widgets: `anvil.email.send` (channel service), sent through the site's mail
server (PYSPACE_SMTP_URL) or kept in the outbox; the Outbox panel (owner) and page (admin);
alerts to widgets' owners (alerts.py)."""

from flask import Blueprint, Flask

from .. import owner_alerts
from ..access import load_owned_widget
from ..sandbox.services import services_for

bp = Blueprint("mail", __name__)
# A widget's Outbox and alerts switch, its owner's alone: the widget is loaded into g.widget.
# Nested in `bp` (endpoints `mail.owner.…`), so bp's hooks cover it too.
owner_bp = Blueprint("owner", __name__, url_prefix="/widgets/<widget_id>")
owner_bp.url_value_preprocessor(load_owned_widget)

from . import alerts, channel, routes  # noqa: E402,F401

bp.register_blueprint(owner_bp)


def init_app(app: Flask) -> None:
    """Plug the Outbox views, the `send_email` channel service and the delivery of owners'
    alerts into the app."""
    app.register_blueprint(bp)
    services_for(app).add(channel.SERVICES)
    owner_alerts.register(app, alerts.send_owner_alert)
