"""Admin forms."""

from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField
from wtforms.validators import InputRequired, Length, NumberRange

from ..auth.join_codes import MAX_DAYS_LIMIT, MAX_USES_LIMIT
from ..models import JOIN_CODE_NOTE_MAX


class JoinCodeForm(FlaskForm):
    note = StringField(
        "Note (who it is for)",
        validators=[Length(max=JOIN_CODE_NOTE_MAX, message="Keep the note under 100 characters.")],
    )
    max_uses = IntegerField(
        "Uses",
        default=30,
        validators=[
            InputRequired("How many people may sign up with it?"),
            NumberRange(1, MAX_USES_LIMIT, f"Between 1 and {MAX_USES_LIMIT} uses."),
        ],
    )
    days = IntegerField(
        "Valid for (days)",
        default=7,
        validators=[
            InputRequired("For how many days?"),
            NumberRange(1, MAX_DAYS_LIMIT, f"Between 1 and {MAX_DAYS_LIMIT} days."),
        ],
    )
