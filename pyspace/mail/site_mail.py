"""The site's own mail (a password-reset or confirmation link, an alert to a widget's owner):
from the site's address, through the mail server (PYSPACE_SMTP_URL), or kept in the outbox
when there is none (an admin reads it there; an alert, its widget's owner too).

Unlike a widget's mail it counts against no widget's or account's daily limit; what sends it
throttles it (the forms are rate-limited per address or account, alerts per widget and kind).
"""

import logging
import smtplib
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid

from flask import current_app
from sqlalchemy import delete

from ..extensions import db
from ..models import MailMessage, utcnow
from .sending import SUBJECT_MAX, site_address
from .smtp import SmtpUrlError, parse_smtp_url, send_message

log = logging.getLogger(__name__)

SITE_NAME = "py.space"
# Who a kept message is for when it has no address (an alert to an owner without a confirmed one).
NO_ADDRESS = "(the widget's owner: no confirmed e-mail address)"


def send_site_mail(to: str | None, subject: str, text: str, widget_id: str | None = None) -> str:
    """Send a plain-text message from the site to the single address `to` (already checked);
    about `widget_id` when given (its owner's Outbox shows it). Without `to` (an owner with no
    confirmed address) it is kept in the outbox. Returns where it went: "sent", "outbox" (no
    mail server, or no address) or "failed" (the server refused or could not be reached;
    logged, never raised: the person asking sees the same page)."""
    config = current_app.config
    sender = site_address()
    message = EmailMessage()
    message["From"] = formataddr((SITE_NAME, sender))
    if to:
        message["To"] = to
    message["Subject"] = subject.replace("\r", " ").replace("\n", " ")[:SUBJECT_MAX]
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    message.set_content(text)
    raw = message.as_bytes()
    row = MailMessage(
        # No account: the widgets' daily limits don't count the site's mail.
        widget_id=widget_id,
        account_id=None,
        status="sending",
        message_id=str(message["Message-ID"]),
        sender=str(message["From"])[:400],
        recipients=to or NO_ADDRESS,
        subject=str(message["Subject"])[:400],
        size_bytes=len(raw),
    )
    cutoff = utcnow() - timedelta(days=int(config["MAIL_OUTBOX_DAYS"]))
    db.session.execute(delete(MailMessage).where(MailMessage.created_at < cutoff))
    db.session.add(row)
    if not config["SMTP_URL"] or not to:
        row.status, row.raw = "outbox", raw
        db.session.commit()
        return row.status
    db.session.commit()
    try:
        send_message(parse_smtp_url(config["SMTP_URL"]), message, [to])
    except (smtplib.SMTPException, OSError, SmtpUrlError) as error:
        log.warning("mail server refused the site's message %s: %s", row.message_id, error)
        row.status, row.error = "failed", str(error)[:400]
    else:
        row.status = "sent"
    db.session.commit()
    return row.status
