"""Secrets views (owner only; everyone else gets 404 on every route, names included).

Every view renders the same partials for htmx and for a plain browser: htmx swaps one row or
the panel, a browser without JavaScript gets the panel page (`secrets/page.html`) with the
row in the state it asked for. Every POST is read through a form of `forms.py`; POSTs without
a valid CSRF token are refused by CSRFProtect. Every answer is `Cache-Control: no-store`.
"""

from flask import Response, abort, flash, g, make_response, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from .. import audit
from ..bounded_input import query_int
from ..errors import render_error
from ..forms import EmptyForm
from ..htmx import is_htmx, redirect_to, retarget, toast
from ..models import Secret, Widget
from ..security_headers import no_store
from . import bp
from .changes import (
    NOTHING_TO_MOVE,
    SecretChangeError,
    create_secret,
    delete_secret,
    describe_secret,
    make_write_only,
    move_to_secret,
    rename_secret,
    reveal_value,
    secret_of,
    set_secret_value,
)
from .forms import (
    ImportDotenvForm,
    MoveToSecretForm,
    RenameSecretForm,
    SecretDetailsForm,
    SetValueForm,
)
from .listing import rows_after
from .panel import back_to_panel, changed_events, render_panel, render_row
from .timing import ago
from .transfer import apply_import, env_example, env_with_values, plan_import

# `ago(moment)` for the panel's "changed 3 min ago" notices: a global, so the row macro sees it.
bp.add_app_template_global(ago)
# `event.action|audit_verb` for the activity list: the verbs live with the actions in audit.py.
bp.add_app_template_filter(audit.verb, "audit_verb")


# Secret names (and, after View value, a value) are for the owner only.
bp.after_request(no_store)


def _secret_or_404(secret_id: int) -> tuple[Widget, Secret]:
    """The owned widget (`g.widget`, loaded by the blueprint) and its secret `secret_id`, or 404."""
    widget = g.widget
    secret = secret_of(widget, secret_id)
    if secret is None:
        abort(404)
    return widget, secret


def _submitted(form: FlaskForm) -> FlaskForm:
    """`form`, read from this POST. Only a CSRF failure makes a button's form invalid, and
    CSRFProtect answers that before the view runs; anything else is a malformed request."""
    if not form.validate_on_submit():
        abort(400)
    return form


def _first_error(form: FlaskForm) -> str:
    return next(error for errors in form.errors.values() for error in errors)


@bp.get("")
def panel():
    """The Secrets panel: names and whether each has a value — never the values."""
    return render_panel(g.widget, focus_id=query_int("focus", None))


@bp.get("/more")
def more():
    """Show more: the next page of rows after `after` (and before `before`), which htmx appends
    in place of the control; without JavaScript, the panel page starting there."""
    widget = g.widget
    after = query_int("after", 0)
    if not is_htmx():
        return render_panel(widget, after=after)
    block = rows_after(widget.id, after, query_int("before", None))
    return render_template(
        "secrets/_rows.html", block=block, base=url_for("secrets.panel", widget_id=widget.id)
    )


@bp.get("/audit")
def audit_list():
    """The widget's recent secret activity (the panel refreshes it after each change)."""
    widget = g.widget
    return render_template("secrets/_audit_list.html", events=audit.recent_events(widget.id))


@bp.post("")
def create():
    """Create Secret: a blank secret named new_secret_N, ready to be renamed."""
    widget = g.widget
    _submitted(EmptyForm())
    try:
        secret = create_secret(widget, current_user.id)
    except SecretChangeError as error:
        return render_error(503, str(error))
    if not is_htmx():
        return back_to_panel(widget, secret)
    return render_panel(
        widget, focus_id=secret.id, events=changed_events(f"Created {secret.name}.")
    )


@bp.get("/<int:secret_id>")
def row(secret_id: int):
    """A secret's display row (what Cancel and Hide value go back to)."""
    widget, secret = _secret_or_404(secret_id)
    # Focus goes back to the control the user came from (the name, Set value or View value).
    focus = request.args.get("focus", "name")
    return render_row(widget, secret, focus=focus if focus in ("name", "value", "view") else "name")


@bp.get("/<int:secret_id>/edit/<any(name, value, details):mode>")
def edit_row(secret_id: int, mode: str):
    """The row as a form: rename (`name`), set value (`value`) or description (`details`)."""
    widget, secret = _secret_or_404(secret_id)
    if mode == "value" and secret.is_key:
        abort(404)
    return render_row(widget, secret, mode=mode)


@bp.post("/<int:secret_id>/name")
def rename(secret_id: int):
    """Rename a secret; a bad or taken name comes back next to the row, old name kept."""
    widget, secret = _secret_or_404(secret_id)
    old_name = secret.name
    form = RenameSecretForm()
    try:
        if not form.validate_on_submit():
            raise SecretChangeError(_first_error(form))
        rename_secret(secret, form.name.data, current_user.id)
    except SecretChangeError as error:
        return render_row(widget, secret, 422, mode="name", error=str(error), form=form)
    if not is_htmx():
        return back_to_panel(widget, secret)
    message = (
        f"Renamed {old_name} to {secret.name}." if old_name != secret.name else "Name unchanged."
    )
    return render_row(widget, secret, events=changed_events(message))


@bp.post("/<int:secret_id>/value")
def set_value(secret_id: int):
    """Set (replace) a secret's value; the value is never echoed back."""
    widget, secret = _secret_or_404(secret_id)
    form = SetValueForm()
    try:
        if not form.validate_on_submit():
            raise SecretChangeError(_first_error(form))
        set_secret_value(secret, form.value.data, current_user.id)
    except SecretChangeError as error:
        return render_row(widget, secret, 422, mode="value", error=str(error), form=form)
    if not is_htmx():
        return back_to_panel(widget, secret)
    message = (
        f"Value of {secret.name} cleared." if secret.is_blank else f"Value of {secret.name} saved."
    )
    return render_row(widget, secret, focus="value", events=changed_events(message))


@bp.post("/<int:secret_id>/reveal")
def reveal(secret_id: int):
    """View value: the owner's emergency look at a value, recorded in the audit log.

    A POST with a CSRF token (it decrypts and audits: no other site may make the owner do it).
    htmx gets the row with the value; a plain form post the panel page with that row open."""
    widget, secret = _secret_or_404(secret_id)
    _submitted(EmptyForm())
    try:
        value = reveal_value(secret, current_user.id)
    except SecretChangeError as error:
        return render_row(widget, secret, 422, error=str(error))
    return render_row(widget, secret, revealed=value, focus="hide", events={"secretsChanged": True})


@bp.get("/<int:secret_id>/delete")
def confirm_delete(secret_id: int):
    """Without JavaScript, Delete asks here (htmx asks with hx-confirm)."""
    widget, secret = _secret_or_404(secret_id)
    return render_template("secrets/confirm_delete.html", widget=widget, secret=secret)


@bp.post("/<int:secret_id>/delete")
def delete(secret_id: int):
    """Delete a secret; the panel comes back with focus on Create Secret."""
    widget, secret = _secret_or_404(secret_id)
    _submitted(EmptyForm())
    name = secret.name
    delete_secret(secret, current_user.id)
    if not is_htmx():
        return redirect_to(url_for("secrets.panel", widget_id=widget.id))
    return render_panel(widget, events=toast(f"Deleted {name}."))


@bp.post("/<int:secret_id>/details")
def details(secret_id: int):
    """Set a secret's description (visible to anyone who can fork the widget) and required flag."""
    widget, secret = _secret_or_404(secret_id)
    form = SecretDetailsForm()
    try:
        if not form.validate_on_submit():
            raise SecretChangeError(_first_error(form))
        describe_secret(secret, form.description.data, form.required.data, current_user.id)
    except SecretChangeError as error:
        return render_row(widget, secret, 422, mode="details", error=str(error), form=form)
    if not is_htmx():
        return back_to_panel(widget, secret)
    return render_row(widget, secret, events=changed_events(f"Details of {secret.name} saved."))


@bp.post("/<int:secret_id>/write-only")
def write_only(secret_id: int):
    """Make a secret write-only: its value can never be viewed again (cannot be undone)."""
    widget, secret = _secret_or_404(secret_id)
    _submitted(EmptyForm())
    make_write_only(secret, current_user.id)
    if not is_htmx():
        return back_to_panel(widget, secret)
    return render_row(widget, secret, events=changed_events(f"{secret.name} is now write-only."))


def _import_form(
    widget: Widget,
    form: ImportDotenvForm,
    status: int = 200,
    changes=None,
    errors=None,
    message: str | None = None,
) -> Response:
    context = {
        "widget": widget,
        "form": form,
        "changes": changes,
        "errors": errors,
        "message": message,
    }
    if not is_htmx():
        template = "secrets/import.html"
    else:
        # After a POST only the result under the form changes; what was typed stays as it is.
        template = (
            "secrets/_import_result.html" if request.method == "POST" else "secrets/_import.html"
        )
    return make_response(render_template(template, **context), status)


@bp.get("/import")
def import_form():
    """Paste or upload a .env file to create or update many secrets at once."""
    return _import_form(g.widget, ImportDotenvForm())


@bp.post("/import")
def import_dotenv():
    """Preview (`step=preview`) or apply a .env import; one bad line and nothing is applied."""
    widget = g.widget
    form = _submitted(ImportDotenvForm())
    upload = form.dotenv_file.data
    if upload and upload.filename:
        try:
            form.dotenv.data = upload.read().decode("utf-8")
        except UnicodeDecodeError:
            # Guessing would silently change values: refuse and say why.
            form.dotenv.data = ""
            return _import_form(
                widget,
                form,
                422,
                None,
                [],
                f"{upload.filename} is not UTF-8 text: save it as UTF-8 and try again.",
            )
    text = form.dotenv.data or ""
    changes, errors, _entries = plan_import(widget, text)
    if errors:
        return _import_form(
            widget,
            form,
            422,
            changes,
            errors,
            "Nothing was imported: fix the lines below and preview again.",
        )
    if not form.applying:
        return _import_form(widget, form, 200, changes)
    try:
        applied = apply_import(widget, text, current_user.id)
    except SecretChangeError as error:
        return _import_form(widget, form, 422, changes, [], str(error))
    count = sum(change.action != "unchanged" for change in applied)
    if not is_htmx():
        return redirect_to(url_for("secrets.panel", widget_id=widget.id))
    response = render_panel(widget, events=changed_events(f"Imported {count} change(s) from .env."))
    # The import form sits in its own box: the panel replaces it.
    return retarget(response, "#secrets-panel", "innerHTML")


@bp.get("/env.example")
def export_example():
    """`.env.example`: the names, values blank, descriptions as comments."""
    widget = g.widget
    return _attachment(env_example(widget), ".env.example")


@bp.post("/export")
def export_values():
    """`.env` with the values: owner only, audited (write-only values are left out)."""
    widget = g.widget
    _submitted(EmptyForm())
    return _attachment(env_with_values(widget, current_user.id), ".env")


def _attachment(text: str, filename: str) -> Response:
    response = make_response(text)
    response.mimetype = "text/plain"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.post("/move")
def move():
    """ "Move to a secret": take the value on a server-code line into a secret, rewrite the line."""
    widget = g.widget
    form = MoveToSecretForm()
    try:
        if not form.validate_on_submit():
            raise SecretChangeError(NOTHING_TO_MOVE)
        field, line = form.target()
        secret = move_to_secret(widget, field, line, current_user.id)
    except SecretChangeError as error:
        flash(str(error), "error")
        return redirect_to(url_for("widgets.owner.edit", widget_id=widget.id))
    flash(
        f"Moved the value into the secret {secret.name}; the code now reads it with "
        f"anvil.secrets.get_secret('{secret.name}').",
        "success",
    )
    return redirect_to(url_for("widgets.owner.edit", widget_id=widget.id))
