"""Widget forms; limits come from the model module so there is one source of truth."""
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from ..models import CODE_MAX, DESCRIPTION_MAX, TITLE_MAX

KIND_CHOICES = [("script", "Script — server code only"),
                ("gui", "GUI — HTML, client code and server code")]
VISIBILITY_CHOICES = [("private", "Private — only you"), ("public", "Public — anyone with the link")]


def _title_field():
    return StringField("Title", validators=[
        InputRequired("Give your widget a title."),
        Length(max=TITLE_MAX, message=f"Titles can be at most {TITLE_MAX} characters."),
    ], filters=[lambda s: s.strip() if isinstance(s, str) else s])


def _code_field(label):
    return TextAreaField(label, validators=[
        Length(max=CODE_MAX, message=f"{label} can be at most {CODE_MAX:,} characters."),
    ])


class NewWidgetForm(FlaskForm):
    title = _title_field()
    kind = RadioField("Kind", choices=KIND_CHOICES, default="script",
                      validators=[InputRequired("Choose a kind.")])


class EditWidgetForm(FlaskForm):
    title = _title_field()
    description = TextAreaField("Description", validators=[
        Length(max=DESCRIPTION_MAX, message=f"Descriptions can be at most {DESCRIPTION_MAX:,} characters."),
    ])
    visibility = SelectField("Visibility", choices=VISIBILITY_CHOICES)
    server_code = _code_field("Server code")
    client_code = _code_field("Client code")
    html = _code_field("HTML")
