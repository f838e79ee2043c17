"""Scheduled Tasks and History views (owner only; everyone else gets 404 on every route).

Each view renders the same partial for htmx and a page around it for a browser without
JavaScript. The History answers `Accept: application/json` with `{"runs": [...]}`.
"""

from flask import abort, g, jsonify, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ..bounded_input import query_int
from ..extensions import db
from ..forks import forking
from ..forms import EmptyForm
from ..htmx import respond, toast
from ..models import Schedule, Widget
from ..runs.history import history_page, run_as_json
from ..security_headers import no_store
from . import bp, schedules
from .forms import HistoryFilterForm, ScheduleForm
from .schedules import Interval, ScheduleError


def _owned_schedule_or_404(schedule_id: int) -> tuple[Widget, Schedule]:
    widget = g.widget
    schedule = db.session.get(Schedule, schedule_id)
    if schedule is None or schedule.widget_id != widget.id:
        abort(404)
    return widget, schedule


def _schedule_form(widget: Widget) -> ScheduleForm:
    form = ScheduleForm()
    names = schedules.background_task_names(widget.module_sources())
    form.task_name.choices = [SelectChoice(name, name) for name in names]
    return form


# Schedules and run history (outputs included) are the owner's alone.
bp.after_request(no_store)


def _panel(
    widget: Widget,
    form: ScheduleForm | None = None,
    status: int = 200,
    events: dict | None = None,
    panel_error: str | None = None,
):
    form = form or _schedule_form(widget)
    rows = db.session.scalars(
        db.select(Schedule).filter_by(widget_id=widget.id).order_by(Schedule.id)
    ).all()
    context = {
        "widget": widget,
        "form": form,
        "schedules": rows,
        "last_runs": schedules.last_runs(widget.id),
        "describe": schedules.describe,
        "min_minutes": schedules.min_minutes(),
        "warning_streak": schedules.FAILURE_WARNING_STREAK,
        "action": EmptyForm(),
        "panel_error": panel_error,
        # Why a disabled schedule (an example's, a fork's) should stay off for now.
        "blank_required": [
            secret.name for secret in forking.blank_secrets(widget.id) if secret.required
        ],
    }
    return respond("tasks/_schedules.html", "tasks/schedules_page.html", context, status, events)


@bp.get("/schedules")
def schedules_panel():
    """The Scheduled Tasks panel: the widget's schedules, their next and last runs."""
    return _panel(g.widget)


@bp.post("/schedules")
def create_schedule():
    """Add a schedule; 422 with the message next to the field when it can't be made."""
    widget = g.widget
    form = _schedule_form(widget)
    if form.validate():
        interval = Interval(
            every=form.every.data,
            n=form.n.data or 1,
            at_hour=form.at_hour.data or 0,
            at_minute=form.at_minute.data,
            weekday=int(form.weekday.data or 0),
        )
        try:
            schedules.create_schedule(widget, form.task_name.data, interval)
        except ScheduleError as error:
            form[error.field].errors = [*form[error.field].errors, str(error)]
        else:
            return _panel(widget, events=toast("Schedule added."))
    if not form.task_name.choices:
        form.task_name.errors = [
            "This widget has no background tasks: decorate a function in the server code with "
            "@anvil.server.background_task and save."
        ]
    return _panel(widget, form, status=422)


def _schedule_action(schedule_id: int, act, message: str):
    widget, schedule = _owned_schedule_or_404(schedule_id)
    if not EmptyForm().validate():
        abort(400)
    act(schedule)
    return _panel(widget, events=toast(message))


@bp.post("/schedules/<int:schedule_id>/run-now")
def run_now(schedule_id: int):
    """Queue the schedule's task once, now (422 with the reason past the per-account limit)."""
    widget, schedule = _owned_schedule_or_404(schedule_id)
    if not EmptyForm().validate():
        abort(400)
    try:
        schedules.run_now(schedule, current_user.id)
    except ScheduleError as error:
        return _panel(widget, status=422, panel_error=str(error))
    return _panel(widget, events=toast("Queued: see the History."))


@bp.post("/schedules/<int:schedule_id>/enable")
def enable(schedule_id: int):
    """Enable a schedule from its next occurrence on."""
    return _schedule_action(
        schedule_id, lambda s: schedules.set_enabled(s, True), "Schedule enabled."
    )


@bp.post("/schedules/<int:schedule_id>/disable")
def disable(schedule_id: int):
    """Stop a schedule firing (its history stays)."""
    return _schedule_action(
        schedule_id, lambda s: schedules.set_enabled(s, False), "Schedule disabled."
    )


@bp.post("/schedules/<int:schedule_id>/delete")
def delete(schedule_id: int):
    """Delete a schedule (its runs stay in the history)."""
    return _schedule_action(schedule_id, schedules.delete_schedule, "Schedule deleted.")


def _wants_json() -> bool:
    return (
        request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"
    )


@bp.get("/history")
def history():
    """The widget's runs, newest first, a page at a time, filtered by kind and status."""
    widget = g.widget
    form = HistoryFilterForm(request.args)
    kind = form.kind.data if form.kind.validate(form) else ""
    status = form.status.data if form.status.validate(form) else ""
    page = history_page(widget.id, query_int("page", 1, minimum=1), kind, status)
    if _wants_json():
        return jsonify({"runs": [run_as_json(run, page=True) for run in page.runs]})
    base = url_for("tasks.history", widget_id=widget.id)
    context = {"widget": widget, "runs": page, "form": form, "base": base}
    return respond("tasks/_history.html", "tasks/history_page.html", context)
