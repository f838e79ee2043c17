"""Class forms."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, ValidationError

from ..auth.join_codes import MAX_DAYS_LIMIT, MAX_USES_LIMIT
from ..models import CLASSROOM_NAME_MAX, User

CSV_MAX_BYTES = 64 * 1024


class ClassroomForm(FlaskForm):
    name = StringField(
        "Class name",
        validators=[
            InputRequired("Name the class (say, 7B Computing)."),
            Length(max=CLASSROOM_NAME_MAX, message="Keep the name under 100 characters."),
        ],
    )
    max_uses = IntegerField(
        "Pupils who may join with its code",
        default=40,
        validators=[
            InputRequired("How many pupils may join?"),
            NumberRange(1, MAX_USES_LIMIT, f"Between 1 and {MAX_USES_LIMIT}."),
        ],
    )
    days = IntegerField(
        "Code valid for (days)",
        default=14,
        validators=[
            InputRequired("For how many days?"),
            NumberRange(1, MAX_DAYS_LIMIT, f"Between 1 and {MAX_DAYS_LIMIT} days."),
        ],
    )


class HandOutForm(FlaskForm):
    """Which of the teacher's widgets every pupil gets a fork of (choices set by the view)."""

    widget_id = SelectField("Widget", validators=[InputRequired("Choose a widget.")])


class BulkAccountsForm(FlaskForm):
    csv = FileField("CSV of names", validators=[FileRequired("Choose a CSV file.")])

    def read_text(self) -> str:
        """The uploaded file as text (UTF-8, a byte-order mark allowed)."""
        data = self.csv.data.read(CSV_MAX_BYTES + 1)
        if len(data) > CSV_MAX_BYTES:
            raise ValueError(f"The file is over {CSV_MAX_BYTES // 1024} KiB.")
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise ValueError("The file is not UTF-8 text: save it as CSV (UTF-8).") from error


class ChoosePasswordForm(FlaskForm):
    new_password = PasswordField(
        "Choose a password", validators=[InputRequired("Choose a password.")]
    )

    def validate_new_password(self, field):
        error = User.password_error(field.data)
        if error:
            raise ValidationError(error)
