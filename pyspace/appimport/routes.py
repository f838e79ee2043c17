"""Import an Anvil app (a form, then a report page) and export a widget as one."""

from flask import (
    Response,
    current_app,
    g,
    redirect,
    render_template,
    session,
    url_for,
)
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from ..extensions import db
from ..forks import forking
from ..models import DataTable, Schedule
from . import bp, owner_bp
from .anvil_app import ImportRefusedError, read_archive
from .building import create_widget
from .export import export_zip

REPORT_KEY = "anvil_import_report"


class ImportForm(FlaskForm):
    archive = FileField(
        "The app's source",
        validators=[FileRequired("Choose a .zip of the app's repository or its .yaml export.")],
    )


@bp.route("/widgets/import", methods=["GET", "POST"])
@login_required
def import_app():
    """Upload an Anvil app: nothing of it runs; the answer leads to the import's report."""
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.archive.data
        limits = {
            name: current_app.config[name]
            for name in ("MODULES_PER_WIDGET", "MODULES_TOTAL_BYTES", "IMPORT_UNPACKED_BYTES")
        }
        try:
            data = upload.read()
            app = read_archive(data, upload.filename or "", limits["IMPORT_UNPACKED_BYTES"])
            widget, report = create_widget(app, current_user.id, limits)
        except ImportRefusedError as refusal:
            form.archive.errors = [*form.archive.errors, str(refusal)]
        else:
            session[REPORT_KEY] = {"widget_id": widget.id, **report.as_dict()}
            return redirect(url_for("appimport.owner.report", widget_id=widget.id), 303)
    status = 422 if form.errors else 200
    return render_template("appimport/import.html", form=form), status


@owner_bp.get("/import-report")
def report():
    """What came over from Anvil, what didn't, and what to do next."""
    widget = g.widget
    stored = session.get(REPORT_KEY) or {}
    if stored.get("widget_id") != widget.id:
        stored = {}
    tables = db.session.scalars(
        db.select(DataTable).filter_by(widget_id=widget.id).order_by(DataTable.id)
    ).all()
    schedules = db.session.scalars(
        db.select(Schedule).filter_by(widget_id=widget.id).order_by(Schedule.id)
    ).all()
    return render_template(
        "appimport/report.html",
        widget=widget,
        report=stored,
        tables=[(t.name, [(c.name, c.type) for c in t.columns]) for t in tables],
        schedules=schedules,
        blank_secrets=forking.blank_secrets(widget.id),
        disabled_schedules=sum(1 for s in schedules if not s.enabled),
    )


@owner_bp.get("/export.zip")
def export():
    """The widget as an Anvil app repository (owner only; no secret value in it)."""
    widget = g.widget
    tables = db.session.scalars(
        db.select(DataTable).filter_by(widget_id=widget.id).order_by(DataTable.id)
    ).all()
    schedules = db.session.scalars(
        db.select(Schedule).filter_by(widget_id=widget.id).order_by(Schedule.id)
    ).all()
    data = export_zip(widget, list(tables), list(schedules))
    name = "".join(c if c.isalnum() else "-" for c in widget.title).strip("-") or "widget"
    return Response(
        data,
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}.zip"'},
    )
