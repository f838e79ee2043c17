"""The widget editor's form and its save, shared by the editor's Save (`widgets/routes.py`) and
its "Save & run" (the Run press, `runs/routes.py`). Limits come from the model module so there is
one source of truth."""

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


def save_edits(widget, form: EditWidgetForm) -> None:
    """Store a validated editor form in `widget` and commit: Save and "Save & run" both call
    this."""
    form.populate_obj(widget)
    widget.touch()
    db.session.commit()
