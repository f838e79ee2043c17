"""The Secrets panel's answers, shared by the secret views (`routes.py`) and the key views
(`key_routes.py`): the panel, one row, the events of a change, and the way back to the panel."""

from flask import Response, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as BaseResponse

from .. import audit
from ..htmx import is_htmx, redirect_to, respond, toast
from ..models import Secret, Widget
from .forms import RenameSecretForm, SecretDetailsForm, SetValueForm
from .listing import count_secrets, panel_blocks


def render_panel(
    widget: Widget,
    status: int = 200,
    focus_id: int | None = None,
    mode: str | None = None,
    revealed: str | None = None,
    error: str | None = None,
    events: dict | None = None,
    after: int = 0,
    form: FlaskForm | None = None,
) -> Response:
    """The panel (one page of rows, from secret id `after` on): a fragment for htmx, the full
    page otherwise. `focus_id`'s row gets focus, shown in `mode`/`revealed`/`error` if given."""
    total = count_secrets(widget.id)
    blocks = panel_blocks(widget.id, total, after, focus_id)
    if after and focus_id is None and blocks[0].rows:
        focus_id = blocks[0].rows[0].id  # a page further on: start at its first row
    context = {
        "widget": widget,
        "base": url_for("secrets.panel", widget_id=widget.id),
        "blocks": blocks,
        "secret_total": total,
        "after": after,
        "focus_id": focus_id,
        "row_mode": mode,
        "row_revealed": revealed,
        "row_error": error,
        "row_form": form,
        "events": audit.recent_events(widget.id),
    }
    return respond("secrets/_panel.html", "secrets/page.html", context, status, events)


def render_row(
    widget: Widget,
    secret: Secret,
    status: int = 200,
    mode: str | None = None,
    revealed: str | None = None,
    error: str | None = None,
    focus: str = "name",
    events: dict | None = None,
    form: FlaskForm | None = None,
) -> Response:
    """One secret's row (display or edit) for htmx; the panel page with that row otherwise.

    An edit row shows `form` (what was sent, after an error) or a fresh form of its `mode`."""
    if mode and form is None:
        form = _edit_form(mode, secret)
    if not is_htmx():
        return render_panel(
            widget,
            status,
            focus_id=secret.id,
            mode=mode,
            revealed=revealed,
            error=error,
            form=form,
        )
    template = "secrets/_row_edit.html" if mode else "secrets/_row.html"
    context = {
        "widget": widget,
        "secret": secret,
        "mode": mode,
        "revealed": revealed,
        "error": error,
        "focus": focus,
        "form": form,
    }
    return respond(template, None, context, status, events)


def _edit_form(mode: str, secret: Secret) -> FlaskForm:
    """The edit row's form, filled from the secret (never with its value)."""
    if mode == "name":
        return RenameSecretForm(formdata=None, name=secret.name)
    if mode == "details":
        return SecretDetailsForm(formdata=None, obj=secret)
    return SetValueForm(formdata=None)


def changed_events(message: str) -> dict:
    """The events of a change: secretsChanged refreshes the panel's audit list, a toast confirms
    without moving focus."""
    return {"secretsChanged": True, **toast(message)}


def back_to_panel(widget: Widget, secret: Secret) -> BaseResponse:
    """A plain browser's way back to the panel, with focus on `secret`'s row."""
    # No #fragment: browsers skip autofocus when the URL has one, and focus should land on the row.
    return redirect_to(url_for("secrets.panel", widget_id=widget.id, focus=secret.id))
