"""Accounts: register, log in, log out; `anvil.users` for widget code."""

from flask import Blueprint, Flask

from ..sandbox.services import services_for
from .cookies import SignedCookieSessions

bp = Blueprint("auth", __name__)

from . import channel, routes  # noqa: E402,F401


def init_app(app: Flask) -> None:
    """Plug the account pages and the `anvil.users` channel services into the app."""
    app.register_blueprint(bp)
    app.session_interface = SignedCookieSessions()
    services_for(app).add(channel.SERVICES)
