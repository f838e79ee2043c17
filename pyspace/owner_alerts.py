"""Raising an alert to a widget's owner from shared code, delivered by the area that sends mail.

Shared code (`extraction.py`) and areas (`runs/history.py`) raise alerts here; the mail area
registers how they are delivered (`mail/alerts.py`: the owner's switch, the hourly throttle,
the e-mail) at start-up, as channel services are, so a lower layer never imports an area.
"""

import logging
from collections.abc import Callable

from flask import Flask, current_app

log = logging.getLogger(__name__)

EXTENSION_KEY = "pyspace.owner_alerts"

# deliver(widget_id, kind, facts): facts are short, value-free lines for the message.
Deliver = Callable[[str, str, list[str]], object]


def register(app: Flask, deliver: Deliver) -> None:
    """Make `deliver` the app's way of sending owners their alerts."""
    app.extensions[EXTENSION_KEY] = deliver


def raise_alert(widget_id: str, kind: str, facts: list[str]) -> None:
    """Tell the owner of `widget_id` about `kind` (never failing the caller: an alert that can't
    be sent is logged). `facts` never hold a secret value."""
    deliver = current_app.extensions.get(EXTENSION_KEY)
    if deliver is None:
        return
    try:
        deliver(widget_id, kind, facts)
    except Exception:
        log.exception("an alert (%s) to the owner of widget %s failed", kind, widget_id)
