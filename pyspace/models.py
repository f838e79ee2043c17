"""The database tables, each knowing its own rules."""

import keyword
import re
from datetime import UTC, date, datetime
from functools import cache
from secrets import choice, token_hex, token_urlsafe
from typing import Any

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import (
    DDL,
    JSON,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    func,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .config import SETTINGS_BY_NAME
from .extensions import Model


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def new_widget_id() -> str:
    """A random, unguessable widget id (96 bits, URL-safe)."""
    return token_urlsafe(12)


# Matched with fullmatch: "$" alone would also accept a trailing newline ("abc\n").
USERNAME_RE = re.compile(r"[a-z0-9_-]{3,32}")
# One address, no spaces or display name: local@domain.tld (the mail server checks the rest).
EMAIL_RE = re.compile(r"[^@\s<>,;:\"()\[\]]+@[^@\s<>,;:\"()\[\]]+\.[^@\s<>,;:\"()\[\]]+")
EMAIL_MAX = 254
PASSWORD_MIN, PASSWORD_MAX = 8, 200


class User(UserMixin, Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-case: "Alice" and "alice" are the same account.
    username: Mapped[str] = mapped_column(String(32), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(default=False)
    is_disabled: Mapped[bool] = mapped_column(default=False)
    # A teacher (a role an admin grants) makes classes and looks after their pupils' accounts.
    is_teacher: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Part of every session and remember-me cookie (see get_id): raising it ends them all.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    # Optional; stored lower-case and unique when given (see normalize_email).
    email: Mapped[str | None] = mapped_column(String(EMAIL_MAX), unique=True, default=None)
    # When the owner of `email` opened its mailed confirmation link; None while it is not
    # confirmed (or there is no address). A new address starts unconfirmed (see set_email).
    email_confirmed_at: Mapped[datetime | None] = mapped_column(default=None)

    widgets: Mapped[list["Widget"]] = relationship(
        back_populates="owner", cascade="all, delete-orphan", passive_deletes=True
    )

    @staticmethod
    def normalize_username(username: str) -> str:
        return (username or "").strip().lower()

    @staticmethod
    def normalize_email(email: str | None) -> str | None:
        """`email` trimmed and lower-cased ("Ann@Example.org" and "ann@example.org" are one
        address here), or None when empty."""
        return (email or "").strip().lower() or None

    def set_email(self, email: str | None) -> None:
        """Give the account the (normalized) address `email`; a different address than the
        one it has is unconfirmed until its mailed link is opened."""
        if email != self.email:
            self.email = email
            self.email_confirmed_at = None

    @property
    def email_confirmed(self) -> bool:
        """Whether the account has an address and its owner proved they read its mail."""
        return self.email is not None and self.email_confirmed_at is not None

    @staticmethod
    def email_error(email: str | None) -> str | None:
        """Why `email` (already normalized) can't be an account's address, or None."""
        if email is None:
            return None
        if len(email) > EMAIL_MAX or not EMAIL_RE.fullmatch(email):
            return "That is not an e-mail address (like name@example.org)."
        return None

    @staticmethod
    def username_error(username: str) -> str | None:
        """Why `username` (already normalized) can't be used, or None."""
        if not username:
            return "Choose a username."
        if not USERNAME_RE.fullmatch(username):
            return "Usernames are 3–32 characters: letters, digits, '-' and '_'."
        return None

    @staticmethod
    def password_error(password: str) -> str | None:
        if not password:
            return "Choose a password."
        if len(password) < PASSWORD_MIN:
            return f"Passwords need at least {PASSWORD_MIN} characters."
        if len(password) > PASSWORD_MAX:
            return f"Passwords can be at most {PASSWORD_MAX} characters."
        return None

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, password_hash_method())

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @staticmethod
    def password_matches(user: "User | None", password: str) -> bool:
        """Whether `password` is `user`'s; for no user, the same slow hash check against a
        dummy, so the time a log-in takes doesn't tell whether the account exists."""
        if user is None:
            check_password_hash(_dummy_password_hash(password_hash_method()), password)
            return False
        return user.check_password(password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses to log in inactive users
        return not self.is_disabled

    def get_id(self) -> str:
        """What Flask-Login keeps in the session and the remember-me cookie: the user id and
        the session generation (Flask-Login's "alternative token"), so that ending sessions
        is one number going up, however many copies of a cookie exist."""
        return f"{self.id}:{self.session_generation}"

    def end_all_sessions(self) -> None:
        """Make every session and remember-me cookie issued so far worthless (caller commits)."""
        self.session_generation = (self.session_generation or 0) + 1


def password_hash_method() -> str:
    """The app's PASSWORD_HASH_METHOD; outside an app, the setting's default (scrypt)."""
    default = SETTINGS_BY_NAME["PASSWORD_HASH_METHOD"].default
    if has_app_context():
        return str(current_app.config.get("PASSWORD_HASH_METHOD") or default)
    return str(default)


@cache
def _dummy_password_hash(method: str) -> str:
    # Made with the same method as real accounts' hashes, so checking it takes as long.
    return generate_password_hash(token_hex(16), method)


TITLE_MAX = 100
DESCRIPTION_MAX = 5_000
CODE_MAX = 200_000
# What a GUI widget's client code can run on (Widget.client_python).
CLIENT_PYTHONS = ("pyodide", "micropython")


class Widget(Model):
    __tablename__ = "widgets"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_widget_id)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(10), default="script")
    visibility: Mapped[str] = mapped_column(String(10), default="private")
    client_code: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str] = mapped_column(Text, default="")
    # The Python a GUI widget's client code runs on in the viewer's browser (CLIENT_PYTHONS):
    # Pyodide (CPython and its standard library) unless the owner picks MicroPython, which
    # starts at once but is a smaller language and library.
    client_python: Mapped[str] = mapped_column(
        String(12), default="pyodide", server_default="pyodide"
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # Data tables: add_row(new_column=...) creates the column (Anvil's "Add columns
    # automatically when adding a new row"); off unless the owner switches it on.
    tables_auto_columns: Mapped[bool] = mapped_column(default=False, server_default=false())
    # E-mail the owner alerts about this widget (a possible extraction attempt, a scheduled
    # task failing again and again); the owner can switch them off.
    owner_alerts: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Whether widget code may make py.space accounts (anvil.users.signup_with_email), as
    # Anvil's Users service's "Allow visitors to sign up"; off unless the owner switches it on.
    users_allow_signup: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Anvil's "Require e-mail confirmation": an account whose address isn't confirmed can't
    # log in to the widget (login_with_email raises EmailNotConfirmed, get_user() is None for
    # a site log-in); off unless the owner switches it on.
    users_require_confirmed: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Whether visitors who never logged in (to the site or to this widget) may call its
    # server functions; on unless the owner switches it off.
    users_anonymous_calls: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Lineage survives the original's deletion: the id is not a foreign key,
    # and the title and owner are copied at fork time.
    forked_from_id: Mapped[str | None] = mapped_column(String(32), index=True, default=None)
    forked_from_title: Mapped[str | None] = mapped_column(String(TITLE_MAX), default=None)
    forked_from_owner: Mapped[str | None] = mapped_column(String(32), default=None)

    owner: Mapped[User] = relationship(back_populates="widgets")
    secrets: Mapped[list["Secret"]] = relationship(
        back_populates="widget",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Secret.id",
    )
    # The server code: named Python modules forming one package (the first runs as __main__).
    modules: Mapped[list["ServerModule"]] = relationship(
        back_populates="widget",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ServerModule.position",
        # Loaded with the widget (one extra query for a whole listing): code is read after
        # the session that loaded a widget ends (a run, a test).
        lazy="selectin",
    )

    __table_args__ = (Index("ix_widgets_public_recent", "visibility", "created_at"),)

    def __init__(self, *, server_code: str | None = None, **fields: Any):
        super().__init__(**fields)
        if server_code is not None:
            self.server_code = server_code

    @property
    def server_code(self) -> str:
        """The first module's code (a one-module widget's whole server code)."""
        return self.modules[0].code if self.modules else ""

    @server_code.setter
    def server_code(self, code: str) -> None:
        if self.modules:
            self.modules[0].code = code
        else:
            self.modules.append(ServerModule(name=FIRST_MODULE_NAME, code=code, position=0))

    def module_sources(self) -> list[tuple[str, str]]:
        """(name, code) of every server module, in order: what a run is sent."""
        return [(module.name, module.code) for module in self.modules]

    @property
    def is_public(self) -> bool:
        return self.visibility == "public"

    @property
    def is_gui(self) -> bool:
        return self.kind == "gui"

    @property
    def runs_on_micropython(self) -> bool:
        """A GUI widget whose client code runs on MicroPython rather than Pyodide."""
        return self.client_python == "micropython"

    def is_owned_by(self, user) -> bool:
        return bool(user and user.is_authenticated and user.id == self.owner_id)

    def is_visible_to(self, user) -> bool:
        return self.is_public or self.is_owned_by(user)

    def touch(self) -> None:
        self.updated_at = utcnow()


FIRST_MODULE_NAME = "server_code"
MODULE_NAME_MAX = 100
# A module name: Python identifiers, dotted for modules inside packages ("billing.stripe").
MODULE_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


def module_name_problem(name: str) -> str | None:
    """Why `name` can't name a server module, or None."""
    if len(name) > MODULE_NAME_MAX or not MODULE_NAME_RE.fullmatch(name):
        return "A module name is Python identifiers joined by dots (like Utils or billing.plans)."
    if any(keyword.iskeyword(part) for part in name.split(".")):
        return "A module name can't be a Python keyword."
    return None


class ServerModule(Model):
    """One named module of a widget's server code."""

    __tablename__ = "server_modules"

    id: Mapped[int] = mapped_column(primary_key=True)
    widget_id: Mapped[str] = mapped_column(ForeignKey("widgets.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(MODULE_NAME_MAX))
    code: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)

    widget: Mapped[Widget] = relationship(back_populates="modules")

    __table_args__ = (UniqueConstraint("widget_id", "name", name="uq_server_module_name"),)


# Matched with fullmatch: with re.match and "$", "abc\n" would pass as a name distinct from "abc".
SECRET_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
SECRET_NAME_MAX = 64
SECRET_VALUE_MAX_BYTES = 64 * 1024
SECRET_DESCRIPTION_MAX = 500
# What a row of the secrets table holds: a secret (a value the owner sets) or an encryption key.
SECRET_KIND = "secret"
KEY_KIND = "key"


class Secret(Model):
    """A named secret of one widget. The value is Fernet ciphertext, or None for blank.

    Names are case-sensitive (`API_KEY` and `api_key` are two secrets), like Python identifiers.
    A row of kind "key" is an encryption key for `anvil.secrets.encrypt_with_key`: its
    ciphertext is generated key material (see vault.new_widget_key) that nobody ever sees, and
    it shares the widget's namespace of names with the secrets.
    """

    __tablename__ = "secrets"

    id: Mapped[int] = mapped_column(primary_key=True)
    widget_id: Mapped[str] = mapped_column(ForeignKey("widgets.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(10), default=SECRET_KIND, server_default=SECRET_KIND)
    ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    # Keyed HMAC of the value (see vault.fingerprint): lets saved code be checked for the
    # value without decrypting. Blank with the value; never copied by a fork.
    fingerprint: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    description: Mapped[str] = mapped_column(String(SECRET_DESCRIPTION_MAX), default="")
    required: Mapped[bool] = mapped_column(default=False)
    write_only: Mapped[bool] = mapped_column(default=False)
    # The value is shorter than redaction can protect (a guess per run answers yes or no): the
    # panel warns next to it. Set with the value, never from it later (nothing here decrypts).
    short_value: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    value_changed_at: Mapped[datetime | None] = mapped_column(default=None)
    last_viewed_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)

    widget: Mapped[Widget] = relationship(back_populates="secrets")

    __table_args__ = (UniqueConstraint("widget_id", "name", name="uq_secret_widget_name"),)

    @property
    def is_blank(self) -> bool:
        return self.ciphertext is None

    @property
    def is_key(self) -> bool:
        return self.kind == KEY_KIND

    @staticmethod
    def name_error(name: str) -> str | None:
        """Why `name` can't name a secret, or None."""
        if not name:
            return "A secret needs a name."
        if len(name) > SECRET_NAME_MAX:
            return f"Secret names can be at most {SECRET_NAME_MAX} characters."
        if not SECRET_NAME_RE.fullmatch(name):
            return "Use letters, digits and underscores, not starting with a digit (like api_key)."
        return None

    @staticmethod
    def value_error(value: str) -> str | None:
        if len(value.encode("utf-8")) > SECRET_VALUE_MAX_BYTES:
            return "A secret's value can be at most 64 KiB."
        return None


class LoginThrottle(Model):
    """Failed log-ins counted under one key (an account with an address or a device, see
    auth/throttle.py). Rows are forgotten once their last failure is old enough."""

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


JOIN_CODE_NOTE_MAX = 100


def new_join_code() -> str:
    """A join code pupils can type: 10 characters from an alphabet without look-alikes."""
    alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
    return "".join(choice(alphabet) for _ in range(10))


class JoinCode(Model):
    """A code an admin hands out so people can sign up while SIGNUP_MODE is `invite`."""

    __tablename__ = "join_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True, default=new_join_code)
    note: Mapped[str] = mapped_column(String(JOIN_CODE_NOTE_MAX), default="")
    max_uses: Mapped[int] = mapped_column()
    uses: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime] = mapped_column()
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A class's code: whoever signs up with it becomes a pupil of that class.
    classroom_id: Mapped[int | None] = mapped_column(
        ForeignKey("classrooms.id", ondelete="CASCADE", name="fk_join_codes_classroom_id"),
        default=None,
        index=True,
    )

    @staticmethod
    def normalize(code: str) -> str:
        """Codes are typed by hand: ignore case, spaces and dashes."""
        return "".join(ch for ch in (code or "").upper() if ch.isalnum())

    def is_usable(self, now: datetime | None = None) -> bool:
        return self.uses < self.max_uses and (now or utcnow()) < self.expires_at


CLASSROOM_NAME_MAX = 100


class Classroom(Model):
    """A teacher's class: the pupils who joined with its join code or were given accounts."""

    __tablename__ = "classrooms"

    id: Mapped[int] = mapped_column(primary_key=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(CLASSROOM_NAME_MAX))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    teacher: Mapped[User] = relationship()

    def is_taught_by(self, user) -> bool:
        return bool(user and user.is_authenticated and user.id == self.teacher_id)


class ClassroomMember(Model):
    """One pupil in one class (a pupil may be in several)."""

    __tablename__ = "classroom_members"

    classroom_id: Mapped[int] = mapped_column(
        ForeignKey("classrooms.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()


class LoginLink(Model):
    """A one-time, expiring link that lets one account choose a new password and log in: a
    teacher hands it to a pupil (a password reset, or a new account's first log-in). Only a
    SHA-256 of the token is stored; the link is shown once, when made."""

    __tablename__ = "login_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(default=None)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class AuditEvent(Model):
    """Who did what to which secret, and when. Never holds a value."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    widget_id: Mapped[str] = mapped_column(ForeignKey("widgets.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(20))
    secret_name: Mapped[str | None] = mapped_column(String(64), default=None)
    detail: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())

    actor: Mapped[User | None] = relationship()


class ExtractionCounter(Model):
    """Results one caller got withheld from one widget because they held a secret value.

    A caller is `user:<id>` or, anonymous, `address:<ip>`. Past the budget (EXTRACTION_BUDGET
    per hour) the caller's runs and calls of the widget are refused until `blocked_until`.
    """

    __tablename__ = "extraction_counters"

    id: Mapped[int] = mapped_column(primary_key=True)
    widget_id: Mapped[str] = mapped_column(ForeignKey("widgets.id", ondelete="CASCADE"))
    caller: Mapped[str] = mapped_column(String(80))
    window_started_at: Mapped[datetime] = mapped_column(default=utcnow)
    withheld: Mapped[int] = mapped_column(default=0)
    blocked_until: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (UniqueConstraint("widget_id", "caller", name="uq_extraction_widget_caller"),)


RUN_KINDS = ("run", "call", "task", "scheduled", "http")
RUN_STATUSES = ("queued", "running", "completed", "failed", "killed", "missing", "skipped")
# A run in one of these has not ended yet.
ACTIVE_RUN_STATUSES = ("queued", "running")
TASK_NAME_MAX = 100


class Run(Model):
    """One execution of a widget's code: a Run press, a GUI server call, a background task or a
    scheduled occurrence. Output, error, state and return value are stored already redacted;
    `args_json` (a launched task's arguments) is cleared when the run ends."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    widget_id: Mapped[str] = mapped_column(ForeignKey("widgets.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    task_name: Mapped[str | None] = mapped_column(String(TASK_NAME_MAX), default=None)
    schedule_id: Mapped[int | None] = mapped_column(
        ForeignKey("schedules.id", ondelete="SET NULL"), default=None
    )
    # Who started it; None with a schedule_id: the schedule did.
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    status: Mapped[str] = mapped_column(String(10), default="queued")
    scheduled_for: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    duration_ms: Mapped[int | None] = mapped_column(default=None)
    stdout: Mapped[str] = mapped_column(Text, default="")
    stderr: Mapped[str] = mapped_column(Text, default="")
    error_type: Mapped[str | None] = mapped_column(String(100), default=None)
    error_message: Mapped[str | None] = mapped_column(Text, default=None)
    error_traceback: Mapped[str | None] = mapped_column(Text, default=None)
    state_json: Mapped[str | None] = mapped_column(Text, default=None)
    return_json: Mapped[str | None] = mapped_column(Text, default=None)
    args_json: Mapped[str | None] = mapped_column(Text, default=None)
    # Bytes of the text fields above as stored (the account's storage budget counts them).
    stored_bytes: Mapped[int] = mapped_column(default=0, server_default="0")
    # The process running it (host:pid) and its last sign of life: a run whose worker stops
    # beating is marked `missing`.
    worker: Mapped[str | None] = mapped_column(String(100), default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)
    kill_requested: Mapped[bool] = mapped_column(default=False)
    # Whether any of its output, error, state or return value held a secret value the run
    # read (stored masked for the owner, withheld for anyone else): a run that is not the
    # owner's reads such a task back withheld whole (tasks/channel.py).
    held_secret: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The fields withheld whole from the person who started it, comma-separated
    # (`RunResult.withheld`): a queued interactive run's answer counts against the caller's
    # extraction budget like one run in the web process.
    withheld_fields: Mapped[str | None] = mapped_column(String(200), default=None)

    actor: Mapped[User | None] = relationship()

    __table_args__ = (
        Index("ix_runs_widget_recent", "widget_id", "id"),
        Index("ix_runs_status", "status"),
        # A schedule's occurrence has one run, however many schedulers saw it due.
        UniqueConstraint("schedule_id", "scheduled_for", name="uq_run_schedule_occurrence"),
    )

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_RUN_STATUSES


SCHEDULE_EVERY = ("minute", "hour", "day", "week")


class Schedule(Model):
    """Runs one of a widget's background tasks at an interval (times in UTC).

    `next_run_at` is the next occurrence; a scheduler claims it by moving it forward with an
    UPDATE that only succeeds if nobody moved it first — that is what makes it fire once."""

    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    widget_id: Mapped[str] = mapped_column(ForeignKey("widgets.id", ondelete="CASCADE"), index=True)
    task_name: Mapped[str] = mapped_column(String(TASK_NAME_MAX))
    every: Mapped[str] = mapped_column(String(10))
    n: Mapped[int] = mapped_column(default=1)
    at_hour: Mapped[int] = mapped_column(default=0)
    at_minute: Mapped[int] = mapped_column(default=0)
    weekday: Mapped[int] = mapped_column(default=0)
    enabled: Mapped[bool] = mapped_column(default=True)
    next_run_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    failure_streak: Mapped[int] = mapped_column(default=0)

    widget: Mapped[Widget] = relationship()


# --- Data tables (pyspace/tables/) ---------------------------------------------------------

TABLE_NAME_MAX = 64
COLUMN_TYPES = (
    "text",
    "number",
    "bool",
    "date",
    "datetime",
    "simple_object",
    "link_single",
    "link_multiple",
    "media",
)
# What client code may do with a data table: nothing (the default), search it, or also edit it.
CLIENT_ACCESS = ("none", "search", "edit")
# Column types whose values are rows of another table (kept in DataLink, not DataCell).
LINK_TYPES = ("link_single", "link_multiple")
# A Users table's own columns (name, type): the py.space username, then Anvil's. Set from the
# account by the site, read-only to widget code and to the Data panel (tables/users.py).
ACCOUNT_COLUMNS = (
    ("username", "text"),
    ("email", "text"),
    ("enabled", "bool"),
    ("signed_up", "datetime"),
    ("last_login", "datetime"),
    ("confirmed_email", "bool"),
)


class DataTable(Model):
    """A widget's data table (`app_tables.<name>` in its server code).

    `row_count` and `byte_count` are kept up to date by every write (see tables/rows.py), so a
    quota check costs one small query instead of a count over every row.
    """

    __tablename__ = "data_tables"

    id: Mapped[int] = mapped_column(primary_key=True)
    widget_id: Mapped[str] = mapped_column(ForeignKey("widgets.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(TABLE_NAME_MAX))
    row_count: Mapped[int] = mapped_column(default=0)
    byte_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # What client (browser) code may do with the table, as Anvil's "Form code can search /
    # edit this table": one of CLIENT_ACCESS. Server code always has full access.
    client_access: Mapped[str] = mapped_column(String(10), default="none", server_default="none")
    # The widget's Users table (`app_tables.users`, `anvil.users.get_user()`): one row per
    # account that used the widget while logged in, with read-only account columns
    # (tables/users.py). At most one per widget, named "users".
    is_users: Mapped[bool] = mapped_column(default=False, server_default=false())

    columns: Mapped[list["DataColumn"]] = relationship(
        back_populates="table",
        foreign_keys="DataColumn.table_id",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="DataColumn.id",
    )

    __table_args__ = (UniqueConstraint("widget_id", "name", name="uq_data_table_widget_name"),)

    @staticmethod
    def name_error(name: str, what: str = "table") -> str | None:
        """Why `name` can't name a table (or, with what="column", a column), or None.

        A table name follows the secret-name rule, a Python identifier of at most 64
        characters, so that `app_tables.readings` reads naturally. A column name may be any
        printable text of at most 64 characters without spaces at either end ("Task Name"),
        as Anvil's are (`row['Task Name']`): it is only ever a bound value in SQL."""
        if not name:
            return f"A {what} needs a name."
        if len(name) > TABLE_NAME_MAX:
            return f"{what.capitalize()} names can be at most {TABLE_NAME_MAX} characters."
        if what == "column":
            if name != name.strip() or not name.isprintable():
                return "Column names are printable text without spaces at either end."
            return None
        if not SECRET_NAME_RE.fullmatch(name):
            return "Use letters, digits and underscores, not starting with a digit (like readings)."
        return None


class DataColumn(Model):
    """A typed column of a data table; its values live in DataCell rows."""

    __tablename__ = "data_columns"

    id: Mapped[int] = mapped_column(primary_key=True)
    table_id: Mapped[int] = mapped_column(
        ForeignKey("data_tables.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(TABLE_NAME_MAX))
    type: Mapped[str] = mapped_column(String(20))
    # The table a link column's rows belong to (a table of the same widget); None for other
    # types, and once that table is deleted (its links then read as None).
    link_table_id: Mapped[int | None] = mapped_column(
        ForeignKey("data_tables.id", ondelete="SET NULL"), default=None
    )

    table: Mapped[DataTable] = relationship(back_populates="columns", foreign_keys=[table_id])
    link_table: Mapped[DataTable | None] = relationship(foreign_keys=[link_table_id])

    __table_args__ = (UniqueConstraint("table_id", "name", name="uq_data_column_table_name"),)


class DataRow(Model):
    """One row of a data table. Its values are DataCell rows, one per column that has a value."""

    __tablename__ = "data_rows"

    id: Mapped[int] = mapped_column(primary_key=True)
    table_id: Mapped[int] = mapped_column(
        ForeignKey("data_tables.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # In a Users table (DataTable.is_users): the account the row stands for. An account has
    # at most one row per Users table; deleting the account keeps the owner's row, unlinked.
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL", name="fk_data_rows_account_id_users"),
        default=None,
    )

    __table_args__ = (UniqueConstraint("table_id", "account_id", name="uq_data_row_account"),)


# The value indexes of data_cells: name → the field each orders (partial: non-NULL only).
VALUE_INDEXES = {
    "ix_data_cells_number": "number_value",
    "ix_data_cells_bool": "bool_value",
    "ix_data_cells_date": "date_value",
    "ix_data_cells_datetime": "datetime_value",
}


def _where_not_null(field: str) -> dict[str, Any]:
    """The dialect options that make an index partial: only rows whose `field` has a value."""
    condition = text(f"{field} IS NOT NULL")
    return {"sqlite_where": condition, "postgresql_where": condition}


class DataCell(Model):
    """One value of one row: a typed column per column type, so that ordering and comparing use
    the database's own types and indexes on SQLite and PostgreSQL alike.

    A None value is no cell at all. Each index starts with the column, then the value, then the
    row: `search(order_by('when', ascending=False))[:48]` reads 48 index entries whatever the
    table's size. Text has no index: a B-tree entry in PostgreSQL is limited to about 2.7 kB,
    and text values may be longer.
    """

    __tablename__ = "data_cells"

    row_id: Mapped[int] = mapped_column(
        ForeignKey("data_rows.id", ondelete="CASCADE"), primary_key=True
    )
    column_id: Mapped[int] = mapped_column(
        ForeignKey("data_columns.id", ondelete="CASCADE"), primary_key=True
    )
    text_value: Mapped[str | None] = mapped_column(Text, default=None)
    number_value: Mapped[float | None] = mapped_column(Float, default=None)
    bool_value: Mapped[bool | None] = mapped_column(default=None)
    date_value: Mapped[date | None] = mapped_column(Date, default=None)
    datetime_value: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    object_value: Mapped[Any | None] = mapped_column(JSON, default=None)
    # Roughly the value's size as JSON; DataTable.byte_count is the sum over the table's cells.
    size_bytes: Mapped[int] = mapped_column(default=0)

    # One index per ordered type, each holding only the cells of its type (partial): a cell
    # enters one index, not four, which made a bulk import's inserts about twice as fast.
    # A query uses them because its condition implies the value is not NULL (`number_value > 3`;
    # an ordered search says `number_value IS NOT NULL`).
    __table_args__ = tuple(
        Index(name, "column_id", field, "row_id", **_where_not_null(field))
        for name, field in VALUE_INDEXES.items()
    )


# Full-text search over text cells (q.full_text_match; pyspace/tables/fulltext.py).
# The first FULL_TEXT_CHARS characters of each text value are indexed, with English stemming.
# SQLite: an FTS5 table kept by triggers on data_cells, one entry per text cell, its rowid
# row_id << FULL_TEXT_ROW_SHIFT | column_id (so a cell's entry is found and deleted by rowid),
# and its column as the token c<column id> in `column_key`, so a search stays in its column.
# PostgreSQL: a GIN index on the same text's tsvector.
FULL_TEXT_CHARS = 100_000
FULL_TEXT_ROW_SHIFT = 32
FULL_TEXT_TABLE = "data_cells_fts"
_FTS_KEY = f"(new.row_id << {FULL_TEXT_ROW_SHIFT}) | new.column_id"
_FTS_OLD_KEY = f"(old.row_id << {FULL_TEXT_ROW_SHIFT}) | old.column_id"
_FTS_VALUES = (
    f"SELECT {_FTS_KEY}, substr(new.text_value, 1, {FULL_TEXT_CHARS}), 'c' || new.column_id"
)
SQLITE_FULL_TEXT_DDL = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FULL_TEXT_TABLE} USING fts5(body, column_key, "
    "tokenize='porter unicode61 remove_diacritics 2')",
    f"CREATE TRIGGER data_cells_fts_insert AFTER INSERT ON data_cells "
    f"WHEN new.text_value IS NOT NULL BEGIN "
    f"INSERT INTO {FULL_TEXT_TABLE}(rowid, body, column_key) {_FTS_VALUES}; END",
    f"CREATE TRIGGER data_cells_fts_delete AFTER DELETE ON data_cells "
    f"WHEN old.text_value IS NOT NULL BEGIN "
    f"DELETE FROM {FULL_TEXT_TABLE} WHERE rowid = {_FTS_OLD_KEY}; END",
    f"CREATE TRIGGER data_cells_fts_update AFTER UPDATE OF text_value ON data_cells BEGIN "
    f"DELETE FROM {FULL_TEXT_TABLE} WHERE rowid = {_FTS_OLD_KEY}; "
    f"INSERT INTO {FULL_TEXT_TABLE}(rowid, body, column_key) {_FTS_VALUES} "
    f"WHERE new.text_value IS NOT NULL; END",
)
POSTGRES_FULL_TEXT_DDL = (
    "CREATE INDEX ix_data_cells_fulltext ON data_cells USING gin "
    f"(to_tsvector('english'::regconfig, left(text_value, {FULL_TEXT_CHARS})))",
)


def is_full_text_index(name: str | None, type_: str, parent_names: dict) -> bool:
    """Whether a schema object is the full-text index (its FTS5 tables, its GIN index), which
    the models leave to the DDL above: Alembic's compare skips them (include_name=...)."""
    return bool(name) and (
        str(name).startswith(FULL_TEXT_TABLE) or name == "ix_data_cells_fulltext"
    )


for _statement in SQLITE_FULL_TEXT_DDL:
    event.listen(DataCell.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
event.listen(
    DataCell.__table__,
    "after_drop",
    DDL(f"DROP TABLE IF EXISTS {FULL_TEXT_TABLE}").execute_if(dialect="sqlite"),
)
for _statement in POSTGRES_FULL_TEXT_DDL:
    event.listen(
        DataCell.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql")
    )


class MailMessage(Model):
    """An e-mail a widget sent (`anvil.email.send`): kept whole in the outbox when the site has
    no mail server, as a log line (no body) once it was handed to one. The rows of the last 24
    hours are what the daily limits count."""

    __tablename__ = "mail_messages"
    __table_args__ = (Index("ix_mail_messages_account_created", "account_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    widget_id: Mapped[str | None] = mapped_column(
        ForeignKey("widgets.id", ondelete="CASCADE"), index=True, default=None
    )
    # Whose daily cap the message counts against: the widget's owner.
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # "outbox" (kept here, not sent), "sent" (handed to the mail server) or "failed".
    status: Mapped[str] = mapped_column(String(10))
    message_id: Mapped[str] = mapped_column(String(200))
    sender: Mapped[str] = mapped_column(String(400))
    recipients: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(String(400), default="")
    size_bytes: Mapped[int] = mapped_column(default=0)
    # The whole message (RFC 5322 bytes), for outbox rows only.
    raw: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    error: Mapped[str] = mapped_column(String(400), default="")


class OwnerAlert(Model):
    """When the owner of a widget was last sent an alert of one kind about it: at most one of
    each kind an hour, however many times it is raised (mail/alerts.py)."""

    __tablename__ = "owner_alerts"
    __table_args__ = (UniqueConstraint("widget_id", "kind", name="uq_owner_alert_widget_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    widget_id: Mapped[str] = mapped_column(ForeignKey("widgets.id", ondelete="CASCADE"))
    # "extraction" or "schedule_failing" (ALERT_KINDS in mail/alerts.py).
    kind: Mapped[str] = mapped_column(String(32))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)


class WidgetSession(Model):
    """`anvil.server.session` of one visitor's browser session on one widget (JSON values)."""

    __tablename__ = "widget_sessions"
    __table_args__ = (UniqueConstraint("widget_id", "session_id", name="uq_widget_session"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    widget_id: Mapped[str] = mapped_column(ForeignKey("widgets.id", ondelete="CASCADE"))
    session_id: Mapped[str] = mapped_column(String(64))
    data_json: Mapped[str] = mapped_column(Text, default="{}")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # A log-in made by widget code (anvil.users.force_login / login_with_email / logout):
    # while `login_set`, the widget's later calls in this session see Users-table row
    # `login_row_id` (None: logged out) instead of the site's account — but only while the
    # site's account is still `login_actor_id` (a site log-in or log-out ends it).
    login_set: Mapped[bool] = mapped_column(default=False, server_default=false())
    login_row_id: Mapped[int | None] = mapped_column(default=None)
    login_actor_id: Mapped[int | None] = mapped_column(default=None)


class TableImport(Model):
    """A CSV import running into one of a widget's tables, and how far it has got.

    One per widget at a time (the primary key): claiming it is how an import refuses to start
    twice. Its batches update `rows_done` (the Data panel polls it); a claim whose import stopped
    moving for tables/imports.py's STALE_AFTER (its process died) can be taken over."""

    __tablename__ = "table_imports"

    widget_id: Mapped[str] = mapped_column(
        ForeignKey("widgets.id", ondelete="CASCADE"), primary_key=True
    )
    table_id: Mapped[int] = mapped_column(ForeignKey("data_tables.id", ondelete="CASCADE"))
    rows_total: Mapped[int] = mapped_column()
    rows_done: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class DataLink(Model):
    """One value of a link column: row `row_id` links to row `target_id` (of the column's
    `link_table`). A link_single value is one DataLink at position 0; a link_multiple value is
    one per linked row, in order. No value is no DataLink.

    `target_id` has no foreign key: deleting a row deletes the links to it (tables/rows.py),
    so a link never points at a row id the database later gives to a new row."""

    __tablename__ = "data_links"

    row_id: Mapped[int] = mapped_column(
        ForeignKey("data_rows.id", ondelete="CASCADE"), primary_key=True
    )
    column_id: Mapped[int] = mapped_column(
        ForeignKey("data_columns.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column()

    __table_args__ = (
        # search(player=row): the column's links to one row; and every link to a deleted row.
        Index("ix_data_links_column_target", "column_id", "target_id", "row_id"),
        Index("ix_data_links_target", "target_id"),
    )


class DataMedia(Model):
    """The bytes of one media value (row `row_id`, column `column_id`).

    The value's content type, name and length are its DataCell (`object_value`), which the
    quotas and the storage budget count like any cell (its `size_bytes` includes the bytes);
    the bytes live here, apart from the cells, so searching and listing rows never reads them.
    In the database (not files beside it), so a backup of the database keeps them and a
    transaction covers them. Deleting the row or the column deletes them (the foreign keys)."""

    __tablename__ = "data_media"

    row_id: Mapped[int] = mapped_column(
        ForeignKey("data_rows.id", ondelete="CASCADE"), primary_key=True
    )
    column_id: Mapped[int] = mapped_column(
        ForeignKey("data_columns.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    data: Mapped[bytes] = mapped_column(LargeBinary)
