"""The mail area's forms."""

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import AnyOf


class AlertsForm(FlaskForm):
    """Switch a widget's e-mailed alerts to its owner on (`on` is "1") or off ("0")."""

    on = StringField("On", validators=[AnyOf(("0", "1"))])
