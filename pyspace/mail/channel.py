"""Answering `anvil.email.send` from inside a run (channel service `send_email`): for the run's
widget only, with the run's secret values masked (see sending.py for every rule)."""

import logging

from ..extensions import db
from ..models import Widget
from ..sandbox.services import Answer, RunContext, refusal
from .sending import MailRefusedError, draft_from_request, send_widget_mail

log = logging.getLogger(__name__)


def send_email(request: dict, run: RunContext) -> Answer:
    """Send the e-mail the request describes from the run's widget; its Message-ID, or why not."""
    widget = db.session.get(Widget, run.widget_id)
    if widget is None:
        return refusal("This widget no longer exists.")
    try:
        row = send_widget_mail(widget, draft_from_request(request), run.redactor)
    except MailRefusedError as error:
        return refusal(str(error))
    except Exception:
        log.exception("sending mail for widget %s failed", run.widget_id)
        db.session.rollback()
        return refusal("The e-mail could not be sent because of a problem on the server.")
    return {"ok": True, "message_id": row.message_id, "status": row.status}


SERVICES = {"send_email": send_email}
