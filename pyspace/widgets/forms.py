"""Widget forms: a new widget's title and kind. The editor's form is `pyspace/editor_form.py`
(the Run press saves it too)."""

from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from ..editor_form import title_field

KIND_CHOICES = [
    SelectChoice("script", "Script — server code only"),
    SelectChoice("gui", "GUI — HTML, client code and server code"),
]


class NewWidgetForm(FlaskForm):
    title = title_field()
    kind = RadioField(
        "Kind", choices=KIND_CHOICES, default="script", validators=[InputRequired("Choose a kind.")]
    )
