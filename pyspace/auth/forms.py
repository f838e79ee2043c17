"""Account forms; the field rules live on the User model."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import InputRequired, Length, ValidationError

from ..extensions import db
from ..models import EMAIL_MAX, User


def _check_email(field, user_id: int | None = None) -> None:
    """The address's own error, or "taken" when another account has it (any letter case)."""
    email = User.normalize_email(field.data)
    error = User.email_error(email)
    if error:
        raise ValidationError(error)
    if email is not None:
        owner = db.session.scalar(db.select(User.id).filter_by(email=email))
        if owner is not None and owner != user_id:
            raise ValidationError("That e-mail address belongs to another account.")


def _email_field(label: str) -> StringField:
    return StringField(
        label, validators=[Length(max=EMAIL_MAX, message="No address is that long.")]
    )


class LoginForm(FlaskForm):
    username = StringField(
        "Username",
        validators=[
            InputRequired("Enter your username."),
            Length(max=32, message="No username is that long."),
        ],
    )
    password = PasswordField(
        "Password",
        validators=[
            InputRequired("Enter your password."),
            Length(max=200, message="No password is that long."),
        ],
    )
    remember = BooleanField("Remember me")


class RegisterForm(FlaskForm):
    username = StringField("Username", validators=[InputRequired("Choose a username.")])
    password = PasswordField("Password", validators=[InputRequired("Choose a password.")])
    email = _email_field("E-mail (optional)")
    # Asked for only while SIGNUP_MODE is "invite" (the view checks it then).
    join_code = StringField("Join code", validators=[Length(max=64)])

    def validate_username(self, field):
        error = User.username_error(User.normalize_username(field.data))
        if error:
            raise ValidationError(error)

    def validate_password(self, field):
        error = User.password_error(field.data)
        if error:
            raise ValidationError(error)

    def validate_email(self, field):
        _check_email(field)


class EmailForm(FlaskForm):
    """An account's e-mail address (the account page, and an admin setting it); empty removes
    it. `user_id` is the account being changed: its own address is not "taken"."""

    email = _email_field("E-mail")

    def __init__(self, *args, user_id: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user_id = user_id

    def validate_email(self, field):
        _check_email(field, self.user_id)


class ForgotPasswordForm(FlaskForm):
    email = StringField(
        "E-mail",
        validators=[
            InputRequired("Enter your account's e-mail address."),
            Length(max=EMAIL_MAX, message="No address is that long."),
        ],
    )

    def validate_email(self, field):
        error = User.email_error(User.normalize_email(field.data))
        if error:
            raise ValidationError(error)


class ResetPasswordForm(FlaskForm):
    new_password = PasswordField(
        "New password", validators=[InputRequired("Choose a new password.")]
    )

    def validate_new_password(self, field):
        error = User.password_error(field.data)
        if error:
            raise ValidationError(error)


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password",
        validators=[InputRequired("Enter your current password."), Length(max=200)],
    )
    new_password = PasswordField(
        "New password", validators=[InputRequired("Choose a new password.")]
    )

    def validate_new_password(self, field):
        error = User.password_error(field.data)
        if error:
            raise ValidationError(error)
