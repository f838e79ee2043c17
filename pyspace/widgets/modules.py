"""The editor's file list: add, rename and delete a widget's server modules (owner only).

Each action is its own small form; it changes saved modules, so the editor saves typed code
first (static/js/modules.js) and every action lands back in the editor."""

from flask import abort, current_app, flash, g, url_for
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired

from ..extensions import db
from ..forms import EmptyForm
from ..htmx import redirect_to
from ..models import ServerModule, module_name_problem
from . import owner_bp


class ModuleNameForm(FlaskForm):
    name = StringField("Module name", validators=[DataRequired("Give the module a name.")])


def _errors(form: FlaskForm) -> str:
    return " ".join(message for messages in form.errors.values() for message in messages)


def _editor(widget_id: str, module_id: int | None = None):
    anchor = f"#module-{module_id}" if module_id else ""
    return redirect_to(url_for("widgets.owner.edit", widget_id=widget_id) + anchor)


def _name_error(widget, name: str, except_id: int | None = None) -> str | None:
    if problem := module_name_problem(name):
        return problem
    if any(m.name == name and m.id != except_id for m in widget.modules):
        return f"There is already a module named {name}."
    return None


@owner_bp.post("/modules")
def add_module():
    widget = g.widget
    form = ModuleNameForm()
    name = (form.name.data or "").strip()
    limit = current_app.config["MODULES_PER_WIDGET"]
    if not form.validate_on_submit():
        flash(_errors(form) or "Could not add the module.", "error")
        return _editor(widget.id)
    if len(widget.modules) >= limit:
        flash(f"A widget can have at most {limit} server modules.", "error")
        return _editor(widget.id)
    if error := _name_error(widget, name):
        flash(error, "error")
        return _editor(widget.id)
    if not widget.modules:
        widget.server_code = ""
    position = max(m.position for m in widget.modules) + 1
    module = ServerModule(name=name, code="import anvil.server\n", position=position)
    widget.modules.append(module)
    widget.touch()
    db.session.commit()
    flash(f"Added module {name}.", "success")
    return _editor(widget.id, module.id)


def _module_or_404(widget, module_id: int) -> ServerModule:
    module = next((m for m in widget.modules if m.id == module_id), None)
    if module is None:
        abort(404)
    return module


@owner_bp.post("/modules/<int:module_id>/rename")
def rename_module(module_id: int):
    widget = g.widget
    module = _module_or_404(widget, module_id)
    form = ModuleNameForm()
    name = (form.name.data or "").strip()
    if not form.validate_on_submit():
        flash(_errors(form) or "Could not rename.", "error")
    elif error := _name_error(widget, name, module.id):
        flash(error, "error")
    else:
        module.name = name
        widget.touch()
        db.session.commit()
        flash(f"Renamed to {name}.", "success")
    return _editor(widget.id, module.id)


@owner_bp.post("/modules/<int:module_id>/delete")
def delete_module(module_id: int):
    widget = g.widget
    module = _module_or_404(widget, module_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        flash("Could not delete the module: reload the page and try again.", "error")
    elif len(widget.modules) == 1:
        flash("A widget keeps at least one server module.", "error")
    else:
        widget.modules.remove(module)
        widget.touch()
        db.session.commit()
        flash(f"Deleted module {module.name}.", "info")
    return _editor(widget.id)
