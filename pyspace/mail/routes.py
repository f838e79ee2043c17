"""The Outbox: a widget's mail in its editor (owner only), the site's in /admin/outbox (admins
only). Everyone else gets 404. Bodies are shown as text, never rendered."""

from flask import Response, abort
from flask_login import current_user

from ..access import owned_widget_or_404
from ..extensions import db
from ..htmx import respond
from ..models import MailMessage
from . import bp
from .sending import mail_view, outbox_for_site, outbox_for_widget


@bp.after_request
def no_store(response: Response) -> Response:
    """Mail is its owner's alone: no shared cache or back button keeps it."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _smtp_configured() -> bool:
    from flask import current_app

    return bool(current_app.config["SMTP_URL"])


@bp.get("/widgets/<widget_id>/outbox")
def outbox_panel(widget_id: str):
    """The Outbox panel: the widget's recent e-mail (kept, sent or failed)."""
    widget = owned_widget_or_404(widget_id)
    return respond(
        "mail/_outbox.html",
        "mail/outbox_page.html",
        {
            "widget": widget,
            "messages": outbox_for_widget(widget.id),
            "smtp_configured": _smtp_configured(),
        },
    )


@bp.get("/widgets/<widget_id>/outbox/<int:mail_id>")
def show_mail(widget_id: str, mail_id: int):
    """One e-mail of the widget's, as it was kept."""
    widget = owned_widget_or_404(widget_id)
    row = db.session.get(MailMessage, mail_id)
    if row is None or row.widget_id != widget.id:
        abort(404)
    return respond(
        "mail/_message.html", "mail/message_page.html", {"widget": widget, "view": mail_view(row)}
    )


def _admin_or_404() -> None:
    if not (current_user.is_authenticated and current_user.is_admin):
        abort(404)


@bp.get("/admin/outbox")
def site_outbox():
    """The site's recent e-mail, every widget's (admins only)."""
    _admin_or_404()
    return respond(
        "mail/_site_outbox.html",
        "mail/site_outbox_page.html",
        {"messages": outbox_for_site(), "smtp_configured": _smtp_configured()},
    )


@bp.get("/admin/outbox/<int:mail_id>")
def show_site_mail(mail_id: int):
    """One e-mail of the site's (admins only)."""
    _admin_or_404()
    row = db.session.get(MailMessage, mail_id)
    if row is None:
        abort(404)
    return respond(
        "mail/_message.html", "mail/message_page.html", {"widget": None, "view": mail_view(row)}
    )
