"""Account views: sign up, log in, log out, and the account page."""

from functools import partial
from urllib.parse import urlsplit

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, logout_user
from sqlalchemy.exc import IntegrityError

from .. import quotas
from ..extensions import db, limiter
from ..forms import EmptyForm
from ..models import ClassroomMember, User
from . import bp, email_confirmation
from .devices import device_for, remember_device
from .forms import (
    ChangePasswordForm,
    EmailForm,
    ForgotPasswordForm,
    LoginForm,
    RegisterForm,
    ResetPasswordForm,
)
from .join_codes import classroom_of_code, use_join_code
from .password_reset import link_base, send_reset_link_later, user_for_token
from .sessions import end_all_sessions, restart_this_session, start_session
from .throttle import forget_failures, give_back, record_failure, reserve_attempt

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _failed(response) -> bool:
    # A successful login or registration redirects; only failures count against the limits.
    return response.status_code != 302


def _signed_up(response) -> bool:
    return bool(g.get("signed_up"))


def _signup_rate_limit() -> str:
    return current_app.config["SIGNUP_RATE_LIMIT"]


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


def _refuse_posts_that_are_not_forms() -> None:
    """Log-in and sign-up take a web form only. Flask-WTF would also read a JSON body, which
    any rate limit keyed on the form would then miss: refuse it rather than count it wrong."""
    if request.method == "POST" and request.mimetype not in FORM_TYPES:
        abort(415)


@bp.before_app_request
def end_stale_sessions():
    """Clear the session and remember cookie once they no longer log anyone in (logged out
    everywhere, password changed, account disabled), so they are gone from the browser too."""
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
# Successful sign-ups per address: a class of 40 behind one school address fits in a minute,
# a script filling the database with accounts does not.
@limiter.limit(
    _signup_rate_limit,
    methods=["POST"],
    deduct_when=_signed_up,
    error_message="Too many new accounts from your network. Please wait a minute.",
)
@limiter.limit("120 per minute", methods=["POST"])
def register():
    """Create an account and log straight into it (SIGNUP_MODE may ask for a join code), then
    go to `next` (a same-site path) or the home page."""
    if current_user.is_authenticated:
        return redirect(url_for("widgets.home"))
    mode = current_app.config["SIGNUP_MODE"]
    if mode == "closed":
        return render_template("auth/register.html", form=None, mode=mode), (
            403 if request.method == "POST" else 200
        )
    _refuse_posts_that_are_not_forms()
    form = RegisterForm()
    if form.validate_on_submit():
        # The code's use and the account are one transaction: a refused sign-up gives it back.
        # A class's code works in every mode (it puts the account in the class); in "invite"
        # mode some code is needed.
        code = (form.join_code.data or "").strip()
        if (mode == "invite" or code) and not use_join_code(code):
            db.session.rollback()
            form.join_code.errors.append(
                "That join code is not valid: it may have expired or been used up. "
                "Ask your teacher or the site's administrator for a new one."
            )
            return render_template("auth/register.html", form=form, mode=mode), 422
        classroom_id = classroom_of_code(code) if code else None
        user = User(
            username=User.normalize_username(form.username.data),
            email=User.normalize_email(form.email.data),
        )
        user.set_password(form.password.data)
        db.session.add(user)
        try:
            if classroom_id is not None:
                db.session.flush()
                db.session.add(ClassroomMember(classroom_id=classroom_id, user_id=user.id))
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            # Two sign-ups raced for the same name or address: say which one is gone now.
            if db.session.scalar(db.select(User.id).filter_by(username=user.username)):
                form.username.errors.append("That username is taken. Try another.")
            else:
                form.email.errors.append("That e-mail address belongs to another account.")
        else:
            g.signed_up = True
            start_session(user, remember=False)
            flash(f"Welcome to py.space, {user.username}!", "success")
            if user.email:
                email_confirmation.send_confirmation_link(user)
                flash(f"We sent a link to {user.email}: open it to confirm the address.", "info")
            # A widget's signup_with_form() sends people here with next= its page.
            response = redirect(_safe_next(request.args.get("next")))
            remember_device(response, user.id)
            return response
    return render_template("auth/register.html", form=form, mode=mode)


@bp.route("/login", methods=["GET", "POST"])
# A flood guard per address; password guessing is slowed per account in throttle.py.
@limiter.limit("300 per minute", methods=["POST"], deduct_when=_failed)
def login():
    """Log in with username and password; "remember me" keeps the session over restarts."""
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    _refuse_posts_that_are_not_forms()
    form = LoginForm()
    if form.validate_on_submit():
        username = User.normalize_username(form.username.data)
        user = db.session.scalar(db.select(User).filter_by(username=username))
        # The attempt is counted as a failure before the password is checked (one atomic step
        # with the check of the wait), so guesses sent at once can't all slip through.
        keys, wait = reserve_attempt(
            username, get_remote_address(), device_for(user.id if user else None)
        )
        if wait:
            return _too_many_failures(form, wait)
        if not User.password_matches(user, form.password.data):
            record_failure(keys)
            form.password.errors.append("Wrong username or password.")
        elif user.is_disabled:
            give_back(keys)
            form.username.errors.append("This account has been disabled by an administrator.")
        else:
            forget_failures(keys)
            start_session(user, remember=form.remember.data)
            response = redirect(_safe_next(request.args.get("next")))
            remember_device(response, user.id)
            return response
    return render_template("auth/login.html", form=form)


def _too_many_failures(form: LoginForm, wait: int):
    form.password.errors.append(
        "Slow down: too many failed log-ins for this account from here. "
        f"Try again in {_duration(wait)}."
    )
    response = current_app.make_response((render_template("auth/login.html", form=form), 429))
    response.headers["Retry-After"] = str(wait)
    return response


def _duration(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'' if seconds == 1 else 's'}"
    return f"{(seconds + 59) // 60} minutes"


def _reset_address_key() -> str:
    """The address a reset is asked for, as stored (so "Ann@x.org" and "ann@x.org" count once)."""
    # The limiter asks before the view runs: the address is read through the form all the same.
    return "password-reset:" + (User.normalize_email(ForgotPasswordForm().email.data) or "")


@bp.route("/password/forgot", methods=["GET", "POST"])
# Per address: a few links an hour, so the form can't flood someone's mailbox; per network:
# enough for a class that forgot together, not for trying address after address.
@limiter.limit(
    "3 per hour",
    methods=["POST"],
    key_func=_reset_address_key,
    error_message="Too many reset links asked for this address. Try again in an hour.",
)
@limiter.limit(
    "30 per hour",
    methods=["POST"],
    error_message="Too many reset links asked for from your network. Try again later.",
)
def forgot_password():
    """Ask for a password-reset link by e-mail. The answer is the same whether or not an
    account has the address, so the form doesn't tell who has an account here."""
    _refuse_posts_that_are_not_forms()
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        response = current_app.make_response(
            render_template("auth/forgot_password.html", form=None, sent=True)
        )
        # Looked up and mailed once the answer has gone: how long the answer takes doesn't
        # tell whether the address has an account (and a mail server was called).
        response.call_on_close(
            partial(
                send_reset_link_later,
                current_app._get_current_object(),  # type: ignore[attr-defined]
                link_base(),
                User.normalize_email(form.email.data) or "",
            )
        )
        return response
    return render_template("auth/forgot_password.html", form=form, sent=False)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit("60 per hour", methods=["POST"])
def reset_password(token: str):
    """Choose a new password through a mailed link; every session of the account ends."""
    user = user_for_token(token)
    form = ResetPasswordForm()
    if user is None:
        response = current_app.make_response(
            (render_template("auth/reset_password.html", form=None), 400)
        )
    elif form.validate_on_submit():
        user.set_password(form.new_password.data)
        end_all_sessions(user)  # commits: the link is spent with the old password hash
        if current_user.is_authenticated and current_user.id == user.id:
            logout_user()
        flash("Your password is set. Log in with it.", "success")
        response = current_app.make_response(redirect(url_for("auth.login")))
    else:
        response = current_app.make_response(
            render_template("auth/reset_password.html", form=form, username=user.username)
        )
    # The address holds the token: kept from caches, history sync and other sites.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.post("/logout")
@login_required
def logout():
    """Log out (POST with CSRF, so no other site can log a user out). Ends every session of the
    account: a copy of this browser's cookies is worth nothing afterwards."""
    end_all_sessions(current_user)
    logout_user()
    flash("You have been logged out.", "info")
    return redirect(url_for("widgets.home"))


@bp.get("/account")
@login_required
def account():
    """Your account: the storage it uses, change your password, log out everywhere."""
    return _account_page()


def _account_page(status: int = 200, **forms):
    """The account page, with `forms` (a form that failed, showing its errors) in place of
    fresh ones."""
    forms.setdefault("password_form", ChangePasswordForm(formdata=None))
    forms.setdefault(
        "email_form", EmailForm(formdata=None, user_id=current_user.id, email=current_user.email)
    )
    forms.setdefault("everywhere_form", EmptyForm(formdata=None))
    forms.setdefault("confirmation_form", EmptyForm(formdata=None))
    return render_template(
        "auth/account.html", storage=quotas.storage_use(current_user.id), **forms
    ), status


def _account_key() -> str:
    """Limits counted per account (the views using it require a log-in)."""
    return f"account:{current_user.id if current_user.is_authenticated else 'anonymous'}"


@bp.post("/account/email")
@login_required
# Each new address is mailed a link: the account page can't be used to flood mailboxes.
@limiter.limit(
    "10 per hour",
    key_func=_account_key,
    error_message="Too many e-mail address changes. Try again in an hour.",
)
def change_email():
    """Set, change or (empty) remove the account's e-mail address; a new address is mailed a
    link that confirms it."""
    form = EmailForm(user_id=current_user.id)
    if form.validate_on_submit():
        user = current_user._get_current_object()
        before = user.email
        user.set_email(User.normalize_email(form.email.data))
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            form.email.errors.append("That e-mail address belongs to another account.")
        else:
            if not user.email:
                flash("E-mail address removed.", "success")
            elif user.email != before:
                email_confirmation.send_confirmation_link(user)
                flash(
                    f"E-mail address saved. We sent a link to {user.email}: open it to confirm "
                    "the address.",
                    "success",
                )
            else:
                flash("E-mail address saved.", "success")
            return redirect(url_for("auth.account"))
    return _account_page(422, email_form=form)


@bp.post("/account/email/confirmation")
@login_required
@limiter.limit(
    "3 per hour",
    key_func=_account_key,
    error_message="Too many confirmation links asked for. Try again in an hour.",
)
def resend_confirmation():
    """Mail a new confirmation link to the account's unconfirmed address."""
    user = current_user._get_current_object()
    if EmptyForm().validate_on_submit() and user.email and not user.email_confirmed:
        email_confirmation.send_confirmation_link(user)
        flash(f"We sent a new link to {user.email}.", "info")
    return redirect(url_for("auth.account"))


@bp.route("/account/email/confirm/<token>", methods=["GET", "POST"])
@limiter.limit("60 per hour", methods=["POST"])
def confirm_email(token: str):
    """Confirm an account's address through its mailed link. Opening the link shows a button
    (a POST with CSRF): mail scanners that fetch links don't confirm anything."""
    user = email_confirmation.user_for_token(token)
    form = EmptyForm()
    if user is None:
        response = current_app.make_response(
            (render_template("auth/confirm_email.html", form=None), 400)
        )
    elif form.validate_on_submit():
        email_confirmation.confirm_email(user)
        flash(f"{user.email} is confirmed as the address of {user.username}.", "success")
        target = "auth.account" if current_user.is_authenticated else "auth.login"
        response = current_app.make_response(redirect(url_for(target)))
    else:
        response = current_app.make_response(
            render_template("auth/confirm_email.html", form=form, user=user)
        )
    # The address holds the token: kept from caches, history sync and other sites.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.post("/account/password")
@login_required
def change_password():
    """Change the password (the current one is required); every other session ends."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        # Guessing the current password from a borrowed session is throttled like a log-in.
        # Counted before the check, as for a log-in.
        keys, wait = reserve_attempt(
            current_user.username, get_remote_address(), device_for(current_user.id)
        )
        if wait:
            form.current_password.errors.append(
                f"Slow down: too many wrong passwords. Try again in {_duration(wait)}."
            )
        elif not current_user.check_password(form.current_password.data):
            record_failure(keys)
            form.current_password.errors.append("That is not your current password.")
        else:
            forget_failures(keys)
            user = current_user._get_current_object()
            user.set_password(form.new_password.data)
            end_all_sessions(user)
            restart_this_session(user)
            flash("Password changed. You were logged out everywhere else.", "success")
            return redirect(url_for("auth.account"))
    return _account_page(422, password_form=form)


@bp.post("/account/logout-everywhere")
@login_required
def logout_everywhere():
    """End every session and remember-me cookie of this account, this browser's too."""
    if EmptyForm().validate_on_submit():
        end_all_sessions(current_user)
        logout_user()
        flash("You have been logged out on every device.", "info")
    return redirect(url_for("auth.login"))
