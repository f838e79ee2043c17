"""`anvil.server.session` for widget code: one dict per visitor session per widget, kept in
the database between GUI calls (channel services `get_session`, `set_session`)."""

from flask import Flask

from ..sandbox.services import services_for
from . import channel


def init_app(app: Flask) -> None:
    """Add the session channel services."""
    services_for(app).add(channel.SERVICES)
