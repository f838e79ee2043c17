"""Account views."""

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy.exc import IntegrityError

from ..extensions import db, limiter
from ..models import User
from . import bp
from .forms import LoginForm, RegisterForm


def _login_attempt_key() -> str:
    return "login-account:" + User.normalize_username(request.form.get("username", ""))


def _failed(response) -> bool:
    # A successful login or registration redirects; only failures count against the limits.
    return response.status_code != 302


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect a user to another host after login."""
    # Browsers read "/\\evil.com" as "//evil.com" and drop tabs and newlines inside URLs,
    # so backslashes and any whitespace or control character make the target unsafe.
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and not any(c == "\\" or c.isspace() or ord(c) < 32 for c in target)
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("widgets.home")


@bp.before_app_request
def end_sessions_of_disabled_accounts():
    """Clear the session and remember cookie of an account that was disabled since they were made.

    The user loader already refuses a disabled account; clearing the leftovers as well means
    that enabling the account again does not bring its old sessions back.
    """
    if request.endpoint == "static":
        return  # no database look-up for stylesheets and scripts
    remember_cookie = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    if (
        "_user_id" in session or remember_cookie in request.cookies
    ) and not current_user.is_authenticated:
        logout_user()


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(
    "60 per minute;600 per day",
    methods=["POST"],
    deduct_when=_failed,
    error_message="Too many sign-ups from your network. Please wait a minute.",
)
@limiter.limit("120 per minute", methods=["POST"])
def register():
    """Create an account and log straight into it."""
    if current_user.is_authenticated:
        return redirect(url_for("widgets.home"))
    form = RegisterForm()
    if form.validate_on_submit():
        user = User(username=User.normalize_username(form.username.data))
        user.set_password(form.password.data)
        db.session.add(user)
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            form.username.errors.append("That username is taken. Try another.")
        else:
            login_user(user)
            flash(f"Welcome to py.space, {user.username}!", "success")
            return redirect(url_for("widgets.home"))
    return render_template("auth/register.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
# Per account: stops password guessing against one user, without locking out a
# whole classroom that shares one address.
@limiter.limit(
    "10 per 5 minutes",
    key_func=_login_attempt_key,
    methods=["POST"],
    deduct_when=_failed,
    error_message="Too many failed log-ins for this account. Wait a few minutes.",
)
@limiter.limit("300 per minute", methods=["POST"], deduct_when=_failed)
def login():
    """Log in with username and password; "remember me" keeps the session across browser
    restarts."""
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(
            db.select(User).filter_by(username=User.normalize_username(form.username.data))
        )
        if user is None or not user.check_password(form.password.data):
            form.password.errors.append("Wrong username or password.")
        elif user.is_disabled:
            form.username.errors.append("This account has been disabled by an administrator.")
        else:
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    """Log out (POST with CSRF, so no other site can log a user out)."""
    logout_user()
    flash("You have been logged out.", "info")
    return redirect(url_for("widgets.home"))
