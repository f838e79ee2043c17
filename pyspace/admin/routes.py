"""Admin pages: the list of accounts, with disable/enable for classroom use."""

from functools import wraps

from flask import abort, flash, make_response, redirect, render_template, url_for
from flask_login import current_user

from ..extensions import db
from ..htmx import is_htmx, trigger
from ..models import User
from . import bp
from .accounts import UserRow, set_disabled, users_with_widget_counts, widget_count


def admin_required(view):
    """Admins only; to everyone else, anonymous included, the page does not exist (404)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not (current_user.is_authenticated and current_user.is_admin):
            abort(404)
        return view(*args, **kwargs)

    return wrapped


@bp.get("/users")
@admin_required
def users():
    """Every account with its flags and a disable/enable button."""
    return render_template("admin/users.html", rows=users_with_widget_counts())


@bp.post("/users/<int:user_id>/disable")
@admin_required
def disable_user(user_id: int):
    """Disable an account: it is logged out at its next request and can't log in."""
    return _change_disabled(user_id, True)


@bp.post("/users/<int:user_id>/enable")
@admin_required
def enable_user(user_id: int):
    """Re-enable a disabled account."""
    return _change_disabled(user_id, False)


def _change_disabled(user_id: int, disabled: bool):
    user = db.session.get(User, user_id) or abort(404)
    if user.id == current_user.id:
        # An admin who disabled themself would be locked out with no way back from the web.
        message, level = "You can't disable your own account.", "error"
    else:
        set_disabled(user, disabled)
        message, level = f"{user.username} is {'disabled' if disabled else 'enabled'}.", "success"
    if is_htmx():
        # The row swaps itself; the toast says what happened.
        row = UserRow(user, widget_count(user))
        response = make_response(render_template("admin/_user_row.html", row=row))
        return trigger(response, toast={"message": message, "level": level})
    flash(message, level)
    return redirect(url_for("admin.users"))
