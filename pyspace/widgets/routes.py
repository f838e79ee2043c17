"""Widget views: thin — read the request, call the model or a plain module, render."""

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import extraction, quotas
from ..access import visible_widget_or_404
from ..bounded_input import query_int
from ..editor_form import (
    EditWidgetForm,
    editor_form,
    module_errors,
    other_modules_code,
    save_edits,
)
from ..extensions import db
from ..forks import forking
from ..htmx import redirect_to
from ..models import User, Widget
from ..page_cache import for_anonymous_visitors
from ..secrets.leaks import leak_warnings
from ..tables.schema import delete_table, tables_of
from ..tasks.schedules import failing_schedules
from . import bp, owner_bp
from .forms import NewWidgetForm
from .listing import OWNERS_WIDGETS, PUBLIC_WIDGETS, USERS_PUBLIC_WIDGETS, widgets_page
from .starter_code import starter_code


@bp.get("/")
@for_anonymous_visitors("page")
def home():
    """Newest public widgets for everyone, plus your own when logged in."""
    page = query_int("page", 1, minimum=1)
    public = widgets_page(PUBLIC_WIDGETS, page)
    mine: list[Widget] = []
    failing: list = []
    if current_user.is_authenticated:
        mine = list(db.session.scalars(OWNERS_WIDGETS, {"owner_id": current_user.id}))
        failing = failing_schedules([widget.id for widget in mine])
    return render_template("widgets/home.html", public=public, mine=mine, failing_schedules=failing)


@bp.get("/u/<username>")
@for_anonymous_visitors("page")
def user_page(username: str):
    """A user's public widgets."""
    name = User.normalize_username(username)
    # A name no account can have (a NUL byte, which PostgreSQL refuses outright) is simply
    # not found: it never reaches the database.
    user = (
        None
        if User.username_error(name)
        else db.session.scalar(db.select(User).filter_by(username=name))
    )
    if user is None:
        abort(404)
    page = query_int("page", 1, minimum=1)
    widgets = widgets_page(USERS_PUBLIC_WIDGETS, page, owner_id=user.id)
    return render_template("widgets/user.html", user=user, widgets=widgets)


@bp.route("/widgets/new", methods=["GET", "POST"])
@login_required
def new():
    """Create a widget with starter code and open it in the editor."""
    form = NewWidgetForm()
    if form.validate_on_submit():
        code = starter_code(form.kind.data)
        if error := quotas.new_widget_error(current_user.id, quotas.code_bytes(**code)):
            form.title.errors.append(error)
            return render_template("widgets/new.html", form=form), 422
        widget = Widget(
            owner_id=current_user.id,
            title=form.title.data,
            kind=form.kind.data,
            visibility="private",
            **code,
        )
        db.session.add(widget)
        db.session.commit()
        flash("Widget created. It is private until you make it public.", "success")
        return redirect(url_for("widgets.owner.edit", widget_id=widget.id))
    return render_template("widgets/new.html", form=form)


@bp.get("/widgets/<widget_id>")
@for_anonymous_visitors()
def show(widget_id: str):
    """A widget's public page: title, owner, description and read-only code."""
    widget = visible_widget_or_404(widget_id)
    return render_template(
        "widgets/show.html", widget=widget, lineage=forking.lineage_of(widget, current_user)
    )


@owner_bp.route("/edit", methods=["GET", "POST"])
def edit():
    """The editor (owner only). A failed save re-renders with everything the user typed."""
    widget = g.widget
    form = editor_form(widget)
    if form.validate_on_submit() and not _over_code_quota(widget, form):
        save_edits(widget, form)
        flash("Saved.", "success")
        return redirect_to(url_for("widgets.owner.edit", widget_id=widget.id))
    if request.method == "POST":
        flash("Not saved — please fix the errors below.", "error")
    return render_template("widgets/edit.html", **_editor_context(widget, form)), (
        422 if request.method == "POST" else 200
    )


def _editor_context(widget: Widget, form: EditWidgetForm) -> dict:
    """Everything the editor's template shows, the other areas' boxes included: the templates
    never query (a fork's secrets still needing values, the saved code's leak warnings)."""
    return {
        "widget": widget,
        "form": form,
        "needing": forking.blank_secrets(widget.id) if widget.forked_from_id else [],
        "paused_schedules": (
            forking.disabled_schedule_count(widget.id) if widget.forked_from_id else 0
        ),
        "fork_tables": forking.table_names(widget.id) if widget.forked_from_id else [],
        "leak_warnings": leak_warnings(widget),
        "extraction_alerts": extraction.recent_alerts(widget.id),
        "failing_schedules": failing_schedules([widget.id]),
    }


def _over_code_quota(widget: Widget, form: EditWidgetForm) -> bool:
    """Refuse a save that would take the owner past their code quota (message under the code)."""
    new_bytes = quotas.code_bytes(
        server_code=form.server_code.data + other_modules_code(widget, form),
        client_code=form.client_code.data,
        html=form.html.data,
    )
    errors = module_errors(widget, form)
    if error := quotas.code_size_error(widget.owner_id, widget.id, new_bytes):
        errors.append(error)
    if errors:
        form.server_code.errors = [*form.server_code.errors, *errors]
    return bool(errors)


@owner_bp.post("/delete")
def delete():
    """Delete a widget with its secrets and audit log (owner only)."""
    widget = g.widget
    title = widget.title
    # Its data tables may hold many rows: emptied in short batches first, so the delete below
    # (which cascades to everything else) never holds the database for long.
    for table in tables_of(widget.id):
        delete_table(table)
    db.session.delete(widget)
    db.session.commit()
    flash(f"Deleted “{title}”.", "info")
    return redirect_to(url_for("widgets.home"))
