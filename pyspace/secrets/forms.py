"""Secrets panel forms: every POST of the panel is read through one of these.

Limits come from the model module (one source of truth) and render as `maxlength` through
WTForms' `Length`. The model still checks its own invariants (a name's characters, a value's
size in bytes) when the change is made: the forms only read and bound what the browser sent.
"""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, PasswordField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Optional, Regexp

from ..models import SECRET_DESCRIPTION_MAX, SECRET_NAME_MAX


def _stripped(text: str | None) -> str | None:
    return text.strip() if isinstance(text, str) else text


class RenameSecretForm(FlaskForm):
    name = StringField(
        "Name",
        validators=[
            DataRequired("A secret needs a name."),
            Length(
                max=SECRET_NAME_MAX,
                message=f"Secret names can be at most {SECRET_NAME_MAX} characters.",
            ),
        ],
        filters=[_stripped],
    )


class SetValueForm(FlaskForm):
    # A value's limit is in bytes (Secret.value_error), which `maxlength` can't express.
    value = PasswordField("Value")


class SecretDetailsForm(FlaskForm):
    description = TextAreaField(
        "Description",
        validators=[
            Length(
                max=SECRET_DESCRIPTION_MAX,
                message=f"Descriptions can be at most {SECRET_DESCRIPTION_MAX} characters.",
            )
        ],
        filters=[_stripped],
    )
    required = BooleanField("Required")


class MoveToSecretForm(FlaskForm):
    """The leak warning's "Move to a secret" button: `move` is `field:line`."""

    move = StringField(validators=[DataRequired(), Regexp(r"\A[a-z_]+:[0-9]{1,7}\Z")])

    def target(self) -> tuple[str, int]:
        """The code field and line number the button names."""
        field, _, line = self.move.data.partition(":")
        return field, int(line)


class ImportDotenvForm(FlaskForm):
    """Paste or upload a .env file; `step` is the button pressed (preview, then apply)."""

    dotenv = TextAreaField(".env contents")
    dotenv_file = FileField("…or upload a file")
    step = StringField(validators=[Optional(), AnyOf(("preview", "apply"))])

    @property
    def applying(self) -> bool:
        return self.step.data == "apply"
