"""Forms of the Scheduled Tasks and History panels."""

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange, Optional

from ..models import RUN_KINDS, RUN_STATUSES
from .schedules import WEEKDAYS

EVERY_CHOICES = [
    SelectChoice("minute", "Every N minutes"),
    SelectChoice("hour", "Every N hours"),
    SelectChoice("day", "Every day"),
    SelectChoice("week", "Every week"),
]


class ScheduleForm(FlaskForm):
    """A new schedule; the domain (`schedules.create_schedule`) checks the rules."""

    task_name = SelectField("Background task", validators=[InputRequired()], validate_choice=True)
    every = SelectField("Runs", choices=EVERY_CHOICES, default="hour")
    n = IntegerField("N", default=1, validators=[Optional(), NumberRange(1, 10080)])
    at_hour = IntegerField("At hour (UTC)", default=0, validators=[Optional(), NumberRange(0, 23)])
    at_minute = IntegerField(
        "At minute", validators=[Optional(), NumberRange(0, 59)], description="blank: any"
    )
    weekday = SelectField(
        "On", choices=[SelectChoice(str(i), name) for i, name in enumerate(WEEKDAYS)], default="0"
    )


class HistoryFilterForm(FlaskForm):
    """The History panel's filter (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    kind = SelectField(
        "Kind", choices=[SelectChoice("", "All kinds"), *[SelectChoice(k, k) for k in RUN_KINDS]]
    )
    status = SelectField(
        "Status",
        choices=[SelectChoice("", "All statuses"), *[SelectChoice(s, s) for s in RUN_STATUSES]],
    )
