"""Class pages: a teacher's classes, one class with its pupils, a pupil's widgets, handing a
widget out, reset links, disabling, bulk accounts; and the one-time log-in link page.

Every class page answers 404 to anyone but the class's teacher (admins included: a class is
its teacher's), and every pupil page to anyone outside that class."""

from functools import wraps

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..admin.accounts import set_disabled
from ..auth.sessions import start_session
from ..extensions import db
from ..forms import EmptyForm
from ..models import Classroom, User, Widget
from . import bp
from .bulk import create_accounts, parse_names
from .forms import BulkAccountsForm, ChoosePasswordForm, ClassroomForm, HandOutForm
from .handout import hand_out
from .login_links import new_login_link, redeem, usable_link
from .rosters import (
    classes_taught_by,
    classroom_of,
    create_classroom,
    join_codes_of,
    may_manage,
    may_teach,
    pupil_in,
    pupil_widgets,
    pupils_of,
)


def teacher_required(view):
    """Teachers and admins only; to everyone else, anonymous included, 404."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not may_teach(current_user):
            abort(404)
        return view(*args, **kwargs)

    return wrapped


def _classroom(classroom_id: int) -> Classroom:
    return classroom_of(current_user, classroom_id) or abort(404)


def _pupil(classroom: Classroom, user_id: int) -> User:
    return pupil_in(classroom, user_id) or abort(404)


def _own_widgets() -> list[Widget]:
    return list(
        db.session.scalars(
            db.select(Widget).filter_by(owner_id=current_user.id).order_by(Widget.title)
        )
    )


@bp.get("/classes")
@teacher_required
def index():
    """The teacher's classes and a form to make one."""
    return _index_page(ClassroomForm())


def _index_page(form: ClassroomForm, status: int = 200):
    return render_template(
        "classes/index.html", form=form, classes=classes_taught_by(current_user)
    ), status


@bp.post("/classes/new")
@teacher_required
def create():
    """Make a class with its own join code."""
    form = ClassroomForm()
    if not form.validate_on_submit():
        return _index_page(form, 422)
    classroom = create_classroom(current_user, form.name.data, form.max_uses.data, form.days.data)
    flash(f"Class {classroom.name} made. Give your pupils its join code.", "success")
    return redirect(url_for("classes.show", classroom_id=classroom.id))


def _class_page(classroom: Classroom, hand_out_form: HandOutForm | None = None, **extra):
    form = hand_out_form or HandOutForm()
    form.widget_id.choices = [(w.id, w.title) for w in _own_widgets()]
    return render_template(
        "classes/show.html",
        classroom=classroom,
        pupils=pupils_of(classroom),
        codes=join_codes_of(classroom),
        hand_out_form=form,
        action_form=EmptyForm(),
        **extra,
    )


@bp.get("/classes/<int:classroom_id>")
@teacher_required
def show(classroom_id: int):
    """One class: its join code, its pupils, and handing out a widget."""
    return _class_page(_classroom(classroom_id))


@bp.post("/classes/<int:classroom_id>/hand-out")
@teacher_required
def hand_out_widget(classroom_id: int):
    """Give every pupil of the class a fork of one of the teacher's widgets (blank secrets)."""
    classroom = _classroom(classroom_id)
    form = HandOutForm()
    form.widget_id.choices = [(w.id, w.title) for w in _own_widgets()]
    if not form.validate_on_submit():
        return _class_page(classroom, form), 422
    widget = db.session.get(Widget, form.widget_id.data)
    if widget is None or widget.owner_id != current_user.id:
        abort(404)
    report = hand_out(widget, classroom)
    given = sum(1 for line in report if line.fork)
    return render_template(
        "classes/handed_out.html", classroom=classroom, widget=widget, report=report, given=given
    )


@bp.get("/classes/<int:classroom_id>/pupils/<int:user_id>")
@teacher_required
def pupil(classroom_id: int, user_id: int):
    """A pupil's widgets: code, latest runs, secret names (never a value)."""
    classroom = _classroom(classroom_id)
    pupil = _pupil(classroom, user_id)
    return render_template(
        "classes/pupil.html",
        classroom=classroom,
        pupil=pupil,
        widgets=pupil_widgets(pupil),
        manageable=may_manage(pupil, current_user),
        action_form=EmptyForm(),
    )


@bp.post("/classes/<int:classroom_id>/pupils/<int:user_id>/reset-password")
@teacher_required
def reset_password(classroom_id: int, user_id: int):
    """Make a one-time link the pupil opens to choose a new password (shown once)."""
    classroom = _classroom(classroom_id)
    pupil = _pupil(classroom, user_id)
    if not EmptyForm().validate_on_submit() or not may_manage(pupil, current_user):
        abort(404)
    token = new_login_link(pupil, current_user)
    db.session.commit()
    return render_template(
        "classes/sheet.html",
        classroom=classroom,
        accounts=[(pupil.username, url_for("classes.login_link", token=token, _external=True))],
        title=f"New password link for {pupil.username}",
    )


@bp.post("/classes/<int:classroom_id>/pupils/<int:user_id>/disable")
@teacher_required
def disable_pupil(classroom_id: int, user_id: int):
    """Disable a pupil's account: logged out at once, can't log in until enabled again."""
    return _set_disabled(classroom_id, user_id, True)


@bp.post("/classes/<int:classroom_id>/pupils/<int:user_id>/enable")
@teacher_required
def enable_pupil(classroom_id: int, user_id: int):
    """Enable a pupil's account again."""
    return _set_disabled(classroom_id, user_id, False)


def _set_disabled(classroom_id: int, user_id: int, disabled: bool):
    classroom = _classroom(classroom_id)
    pupil = _pupil(classroom, user_id)
    if not EmptyForm().validate_on_submit() or not may_manage(pupil, current_user):
        abort(404)
    set_disabled(pupil, disabled)
    flash(f"{pupil.username} is {'disabled' if disabled else 'enabled'}.", "success")
    return redirect(url_for("classes.pupil", classroom_id=classroom.id, user_id=pupil.id))


@bp.get("/classes/<int:classroom_id>/accounts")
@teacher_required
def bulk_form(classroom_id: int):
    """Upload a CSV of names to make an account for each, in this class."""
    return render_template(
        "classes/bulk.html", classroom=_classroom(classroom_id), form=BulkAccountsForm(), bad=[]
    )


@bp.post("/classes/<int:classroom_id>/accounts")
@teacher_required
def bulk_create(classroom_id: int):
    """Make the accounts (all or none) and show the sheet of one-time log-in links."""
    classroom = _classroom(classroom_id)
    form = BulkAccountsForm()
    bad: list = []
    if form.validate_on_submit():
        try:
            text = form.read_text()
        except ValueError as error:
            form.csv.errors = [str(error)]
        else:
            names, bad = parse_names(text)
            if not names and not bad:
                form.csv.errors = ["The file has no names in it."]
            elif not bad:
                made = create_accounts(classroom.id, names, current_user)
                return render_template(
                    "classes/sheet.html",
                    classroom=classroom,
                    accounts=[
                        (
                            account.username,
                            url_for("classes.login_link", token=account.token, _external=True),
                        )
                        for account in made
                    ],
                    title=f"Log-in links for {classroom.name}",
                )
    return render_template("classes/bulk.html", classroom=classroom, form=form, bad=bad), 422


@bp.route("/login/once/<token>", methods=["GET", "POST"])
def login_link(token: str):
    """A teacher's one-time link: choose a password, and be logged in. Works once."""
    link = usable_link(token)
    if link is None:
        return render_template("classes/link_used.html"), 404
    form = ChoosePasswordForm()
    if request.method == "POST" and form.validate_on_submit():
        user = redeem(token, form.new_password.data)
        if user is None:
            return render_template("classes/link_used.html"), 404
        start_session(user, remember=False)
        flash(f"Welcome, {user.username}! Your password is set.", "success")
        return redirect(url_for("widgets.home"))
    status = 422 if request.method == "POST" else 200
    page = render_template("classes/login_link.html", form=form, username=link.user.username)
    return page, status
