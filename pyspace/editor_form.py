"""The widget editor's form and its save, shared by the editor's Save (`widgets/routes.py`) and
its "Save & run" (the Run press, `runs/routes.py`). Limits come from the model module so there is
one source of truth."""

from flask import current_app, request
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from .extensions import db
from .models import CODE_MAX, DESCRIPTION_MAX, TITLE_MAX

VISIBILITY_CHOICES = [
    SelectChoice("private", "Private — only you"),
    SelectChoice("public", "Public — anyone with the link"),
]


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


def submitted_modules(widget) -> dict[int, str]:
    """The code the editor sent for the widget's other modules (`module_<id>` textareas; the
    first module is the form's `server_code`), by module id. A module not sent keeps its code."""
    sent = {}
    for module in widget.modules[1:]:
        code = request.form.get(f"module_{module.id}")
        if code is not None:
            sent[module.id] = _unix_newlines(code)
    return sent


def other_modules_code(widget) -> str:
    """All the code of the widget's other modules after this save (to count against quotas)."""
    sent = submitted_modules(widget)
    return "".join(sent.get(module.id, module.code) for module in widget.modules[1:])


def module_errors(widget, form: EditWidgetForm) -> list[str]:
    """Why the editor's modules can't be saved: one too long, or all together too big."""
    errors = []
    sent = submitted_modules(widget)
    for module in widget.modules[1:]:
        if len(sent.get(module.id, module.code)) > CODE_MAX:
            errors.append(f"Module {module.name} can be at most {CODE_MAX:,} characters.")
    total = len((form.server_code.data or "").encode()) + len(other_modules_code(widget).encode())
    limit = current_app.config["MODULES_TOTAL_BYTES"]
    if total > limit:
        errors.append(f"The server modules hold {total:,} bytes together; at most {limit:,}.")
    return errors


def save_edits(widget, form: EditWidgetForm) -> None:
    """Store a validated editor form in `widget` (every module) and commit: Save and
    "Save & run" both call this."""
    sent = submitted_modules(widget)
    form.populate_obj(widget)
    for module in widget.modules[1:]:
        if module.id in sent:
            module.code = sent[module.id]
    widget.touch()
    db.session.commit()
