"""Admin pages: the list of accounts, with disable/enable for classroom use, and join codes."""

from functools import wraps

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from ..auth.forms import EmailForm
from ..auth.join_codes import all_join_codes, create_join_code, delete_join_code
from ..extensions import db
from ..forms import EmptyForm
from ..htmx import is_htmx, respond, toast
from ..models import JoinCode, User, utcnow
from . import bp
from .accounts import UserRow, set_disabled, set_teacher, users_with_widget_counts, widget_count
from .forms import JoinCodeForm


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


@bp.post("/users/<int:user_id>/email")
@admin_required
def set_user_email(user_id: int):
    """Set, change or (empty) remove an account's e-mail address."""
    user = db.session.get(User, user_id) or abort(404)
    form = EmailForm(user_id=user.id)
    if form.validate_on_submit():
        user.set_email(User.normalize_email(form.email.data))
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            form.email.errors.append("That e-mail address belongs to another account.")
    if form.errors:
        flash(f"{user.username}: {' '.join(form.email.errors or ['try again.'])}", "error")
    else:
        flash(f"{user.username}'s e-mail address is {user.email or 'removed'}.", "success")
    return redirect(url_for("admin.users"))


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
        return respond("admin/_user_row.html", None, {"row": row}, events=toast(message, level))
    flash(message, level)
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/teacher")
@admin_required
def grant_teacher(user_id: int):
    """Make an account a teacher: they can make classes and look after their pupils."""
    return _change_teacher(user_id, True)


@bp.post("/users/<int:user_id>/not-teacher")
@admin_required
def revoke_teacher(user_id: int):
    """Take the teacher role away (their classes stay, closed to them, until granted again)."""
    return _change_teacher(user_id, False)


def _change_teacher(user_id: int, teacher: bool):
    user = db.session.get(User, user_id) or abort(404)
    if EmptyForm().validate_on_submit():
        set_teacher(user, teacher)
    message = f"{user.username} is {'now' if teacher else 'no longer'} a teacher."
    if is_htmx():
        row = UserRow(user, widget_count(user))
        return respond("admin/_user_row.html", None, {"row": row}, events=toast(message))
    flash(message, "success")
    return redirect(url_for("admin.users"))


@bp.get("/join-codes")
@admin_required
def join_codes():
    """Join codes for sign-up while SIGNUP_MODE is "invite", and a form to make one."""
    return _join_codes_page(JoinCodeForm())


def _join_codes_page(form: JoinCodeForm, status: int = 200):
    return render_template(
        "admin/join_codes.html",
        form=form,
        delete_form=EmptyForm(),
        codes=all_join_codes(),
        now=utcnow(),
        mode=current_app.config["SIGNUP_MODE"],
    ), status


@bp.post("/join-codes/new")
@admin_required
def create_code():
    """Make a join code with a number of uses and an expiry."""
    form = JoinCodeForm()
    if not form.validate_on_submit():
        return _join_codes_page(form, 422)
    code = create_join_code(form.max_uses.data, form.days.data, form.note.data, current_user.id)
    flash(f"Join code {code.code} made: {code.max_uses} uses, {form.days.data} days.", "success")
    return redirect(url_for("admin.join_codes"))


@bp.post("/join-codes/<int:code_id>/delete")
@admin_required
def delete_code(code_id: int):
    """Withdraw a join code: nobody can sign up with it any more."""
    code = db.session.get(JoinCode, code_id) or abort(404)
    if EmptyForm().validate_on_submit():
        delete_join_code(code)
        flash(f"Join code {code.code} withdrawn.", "info")
    return redirect(url_for("admin.join_codes"))
