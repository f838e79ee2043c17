"""Account forms; the field rules live on the User model."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import InputRequired, Length, ValidationError

from ..models import User


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
