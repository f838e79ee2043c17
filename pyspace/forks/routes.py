"""Fork views: copy a widget the user can see into a private widget of their own."""

from flask import flash, g, render_template, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user

from .. import quotas
from ..access import visible_widget_or_404
from ..extensions import limiter
from ..htmx import redirect_to
from ..security_headers import no_store
from . import bp, forking, owner_bp

# Secret names are for the owner only.
bp.after_request(no_store)


def _forker_key() -> str:
    # The user id, not get_id(): that carries the session generation, which a logout changes.
    if current_user.is_authenticated:
        return f"fork-user:{current_user.id}"
    return f"fork-address:{get_remote_address()}"


@bp.post("/widgets/<widget_id>/fork")
# Each fork is a widget plus its secret rows: a generous per-user rate, and the account's quotas,
# stop a script filling the database.
@limiter.limit("30 per minute", key_func=_forker_key)
def fork(widget_id: str):
    """Fork a visible widget and open the copy in the editor; anonymous visitors log in first."""
    original = visible_widget_or_404(widget_id)
    if not current_user.is_authenticated:
        # Back to the widget's page after logging in: the fork itself needs a fresh POST with
        # a token.
        flash("Log in to fork this widget.", "info")
        return redirect_to(
            url_for("auth.login", next=url_for("widgets.show", widget_id=original.id))
        )
    code = {name: getattr(original, name) for name in quotas.CODE_FIELDS}
    error = quotas.new_widget_error(current_user.id, quotas.code_bytes(**code))
    schedules = forking.schedule_count(original.id)
    if not error and schedules:
        error = quotas.new_schedules_error(current_user.id, None, schedules)
    if error:
        flash(f"Not forked: {error}", "error")
        return redirect_to(url_for("widgets.show", widget_id=original.id))
    copy = forking.fork_widget(original, current_user)
    message = f"Forked “{original.title}”. Your copy is private until you make it public."
    if forking.blank_secrets(copy.id):
        message += " Its secrets came without values: set your own before you run it."
    if forking.disabled_schedule_count(copy.id):
        message += " Its schedules were copied disabled: enable them in Scheduled Tasks."
    if forking.table_names(copy.id):
        message += " Its data tables came with their columns but no rows."
    flash(message, "success")
    return redirect_to(url_for("widgets.owner.edit", widget_id=copy.id))


@owner_bp.get("/needs-values")
def needs_values():
    """The fork editor's list of secrets still needing values (refreshed after panel changes)."""
    widget = g.widget
    return render_template(
        "forks/_needs_values.html",
        widget=widget,
        needing=forking.blank_secrets(widget.id),
        paused_schedules=forking.disabled_schedule_count(widget.id),
        fork_tables=forking.table_names(widget.id),
    )
