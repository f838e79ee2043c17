"""The widget editor's form and its save, shared by the editor's Save (`widgets/routes.py`) and
its "Save & run" (the Run press, `runs/routes.py`). Limits come from the model module so there is
one source of truth."""

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from .extensions import db
from .models import CLIENT_PYTHONS, CODE_MAX, DESCRIPTION_MAX, TITLE_MAX

VISIBILITY_CHOICES = [
    SelectChoice("private", "Private — only you"),
    SelectChoice("public", "Public — anyone with the link"),
]
CLIENT_PYTHON_LABELS = {
    "pyodide": "Pyodide: CPython and its standard library, starts in a second or so",
    "micropython": "MicroPython: starts at once, a smaller Python and library",
}
CLIENT_PYTHON_CHOICES = [SelectChoice(name, CLIENT_PYTHON_LABELS[name]) for name in CLIENT_PYTHONS]


def _unix_newlines(text):
    # Browsers submit textareas with CRLF line ends; store code the way Python writes it.
    return text.replace("\r\n", "\n") if isinstance(text, str) else text


def title_field() -> StringField:
    """A widget's title: required, stripped, at most TITLE_MAX characters."""
    # DataRequired (not InputRequired) sees the stripped title, so "   " is no title.
    return StringField(
        "Title",
        validators=[
            DataRequired("Give your widget a title."),
            Length(max=TITLE_MAX, message=f"Titles can be at most {TITLE_MAX} characters."),
        ],
        filters=[lambda s: s.strip() if isinstance(s, str) else s],
    )


def _code_field(label):
    return TextAreaField(
        label,
        validators=[
            Length(max=CODE_MAX, message=f"{label} can be at most {CODE_MAX:,} characters."),
        ],
        filters=[_unix_newlines],
    )


class EditWidgetForm(FlaskForm):
    title = title_field()
    description = TextAreaField(
        "Description",
        validators=[
            Length(
                max=DESCRIPTION_MAX,
                message=f"Descriptions can be at most {DESCRIPTION_MAX:,} characters.",
            ),
        ],
        filters=[_unix_newlines],
    )
    visibility = SelectField("Visibility", choices=VISIBILITY_CHOICES)
    server_code = _code_field("Server code")
    client_code = _code_field("Client code")
    html = _code_field("HTML")
    # Shown for GUI widgets only; a script widget's form leaves it out and keeps its value.
    client_python = SelectField("Client Python", choices=CLIENT_PYTHON_CHOICES)


def module_field(module) -> str:
    """The editor form's field for one of the widget's other modules (the first module is
    `server_code`)."""
    return f"module_{module.id}"


def editor_form(widget) -> EditWidgetForm:
    """The editor's form for `widget`: the fixed fields, and one code field per module after
    the first (each starting with the module's saved code)."""
    fields = {
        module_field(module): TextAreaField(
            f"{module.name}.py",
            default=module.code,
            validators=[
                Length(max=CODE_MAX, message=f"A module can be at most {CODE_MAX:,} characters.")
            ],
            filters=[_unix_newlines],
        )
        for module in widget.modules[1:]
    }
    if not fields:
        # A one-module widget (most of them): the class itself, whose list of fields WTForms
        # made once; a new class costs twice the form's CPU, finding its fields again.
        return EditWidgetForm(obj=widget)
    form_class = type("WidgetEditorForm", (EditWidgetForm,), fields)
    return form_class(obj=widget)


def submitted_modules(widget, form: EditWidgetForm) -> dict[int, str]:
    """The code the editor's form holds for the widget's other modules, by module id."""
    return {
        module.id: form[module_field(module)].data or ""
        for module in widget.modules[1:]
        if module_field(module) in form
    }


def other_modules_code(widget, form: EditWidgetForm) -> str:
    """All the code of the widget's other modules after this save (to count against quotas)."""
    return "".join(submitted_modules(widget, form).values())


def module_errors(widget, form: EditWidgetForm) -> list[str]:
    """Why the editor's modules can't be saved: all together too big."""
    total = len((form.server_code.data or "").encode()) + len(
        other_modules_code(widget, form).encode()
    )
    limit = current_app.config["MODULES_TOTAL_BYTES"]
    if total > limit:
        return [f"The server modules hold {total:,} bytes together; at most {limit:,}."]
    return []


def save_edits(widget, form: EditWidgetForm) -> None:
    """Store a validated editor form in `widget` (every module) and commit: Save and
    "Save & run" both call this."""
    sent = submitted_modules(widget, form)
    for name in (
        "title",
        "description",
        "visibility",
        "server_code",
        "client_code",
        "html",
        "client_python",
    ):
        form[name].populate_obj(widget, name)
    for module in widget.modules[1:]:
        if module.id in sent:
            module.code = sent[module.id]
    widget.touch()
    db.session.commit()
