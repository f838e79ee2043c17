"""The Outbox: a widget's mail in its editor (owner only), with the switch for the widget's
alerts; the site's in /admin/outbox (admins only). Everyone else gets 404. Bodies are shown as
text, never rendered."""

from flask import Response, abort, g, url_for
from flask_login import current_user

from ..extensions import db
from ..htmx import is_htmx, redirect_to, respond, toast
from ..models import MailMessage, Widget
from ..security_headers import no_store
from . import bp, owner_bp
from .forms import AlertsForm
from .sending import mail_view, outbox_for_site, outbox_for_widget

# Mail is its owner's alone: no shared cache or back button keeps it.
bp.after_request(no_store)


def _smtp_configured() -> bool:
    from flask import current_app

    return bool(current_app.config["SMTP_URL"])


def _outbox(widget: Widget, status: int = 200, events: dict | None = None) -> Response:
    return respond(
        "mail/_outbox.html",
        "mail/outbox_page.html",
        {
            "widget": widget,
            "messages": outbox_for_widget(widget.id),
            "smtp_configured": _smtp_configured(),
            "alerts_form": AlertsForm(formdata=None),
        },
        status,
        events,
    )


@owner_bp.get("/outbox")
def outbox_panel():
    """The Outbox panel: the widget's recent e-mail (kept, sent or failed) and its alerts'
    switch."""
    return _outbox(g.widget)


@owner_bp.post("/alerts")
def switch_alerts():
    """Switch the e-mailed alerts about the widget to its owner on (`on=1`) or off (`on=0`)."""
    widget = g.widget
    form = AlertsForm()
    if not form.validate_on_submit():
        return _outbox(widget, 422, toast("Choose on or off.", "error"))
    widget.owner_alerts = form.on.data == "1"
    db.session.commit()
    if not is_htmx():
        return redirect_to(url_for("mail.owner.outbox_panel", widget_id=widget.id))
    state = "on" if widget.owner_alerts else "off"
    return _outbox(widget, events=toast(f"Alerts by e-mail are {state}."))


@owner_bp.get("/outbox/<int:mail_id>")
def show_mail(mail_id: int):
    """One e-mail of the widget's, as it was kept."""
    widget = g.widget
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
