"""Configuration: one table of settings, parsed strictly.

`SETTINGS` declares every setting once — name, type, default, meaning — and is the single source
for the environment parser, `flask --app app config show`, and the README's configuration table
(`flask --app app config table` prints it; a test keeps the README in step).

Order (later wins): the defaults here, `instance/config.py`, environment variables
`PYSPACE_<NAME>` (and `DATABASE_URL`), then a test's config. An unknown `PYSPACE_*` variable or a
value that does not parse as its setting's type stops start-up with a message naming the
variable and what it accepts: `PYSPACE_ALLOW_UNSANDBOXED_RUNS=flase` must never mean "yes".
"""

import os
import re
import secrets
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENV_PREFIX = "PYSPACE_"
TRUE_WORDS = ("true", "yes", "on", "1")
FALSE_WORDS = ("false", "no", "off", "0")


class ConfigError(Exception):
    """A setting that can't be used; the message says which and what it accepts."""


# The URLs that name a Redis server, for the settings that take one (QUEUE_URL, PAGE_CACHE_URL).
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def names_redis(url: str) -> bool:
    return url.startswith(REDIS_SCHEMES)


@dataclass(frozen=True)
class Setting:
    """One setting: `PYSPACE_<name>` in the environment, `name` in the Flask config."""

    name: str
    type: type  # bool, int, float, str or list (comma-separated strings)
    default: Any
    meaning: str
    # Shown masked by `config show` (keys, passwords in URLs).
    secret: bool = False
    # The default as the README shows it, where the value itself depends on the machine.
    shown_default: str | None = None
    # For text settings that take one of a few words (SIGNUP_MODE): anything else is refused.
    choices: tuple[str, ...] = ()
    # For text settings of a fixed shape (PASSWORD_HASH_METHOD): anything else is refused.
    pattern: str | None = None

    def parse(self, raw: str) -> Any:
        """`raw` (an environment variable's text) as this setting's type, or ConfigError."""
        text = raw.strip()
        if self.type is bool:
            if text.lower() in TRUE_WORDS:
                return True
            if text.lower() in FALSE_WORDS:
                return False
            raise self._refuse(raw, "true or false (also yes/no, on/off, 1/0)")
        if self.type is int:
            try:
                return int(text)
            except ValueError:
                raise self._refuse(raw, "a whole number") from None
        if self.type is float:
            try:
                return float(text)
            except ValueError:
                raise self._refuse(raw, "a number") from None
        if self.type is list:
            return [item.strip() for item in text.split(",") if item.strip()]
        if self.choices and text not in self.choices:
            raise self._refuse(raw, " or ".join(self.choices))
        if self.pattern and not re.fullmatch(self.pattern, text):
            raise self._refuse(raw, self.meaning)
        return text if self.choices or self.pattern else raw

    def check(self, value: Any, source: str) -> None:
        """Refuse a value of the wrong type given in Python (instance/config.py, tests)."""
        if value is None and self.default is None:
            return
        expected = (int, float) if self.type is float else self.type
        # bool is an int in Python, but "RUN_POOL_SIZE = True" is a mistake.
        wrong_bool = self.type in (int, float) and isinstance(value, bool)
        wrong_choice = bool(self.choices) and value not in self.choices
        if not isinstance(value, expected) or wrong_bool or wrong_choice:
            raise ConfigError(
                f"{self.name} in {source} is {value!r}; it takes {self.type_name} ({self.meaning})."
            )
        if self.choices and value not in self.choices:
            raise ConfigError(
                f"{self.name} in {source} is {value!r}; it takes "
                f"{' or '.join(self.choices)} ({self.meaning})."
            )
        if self.pattern and not re.fullmatch(self.pattern, str(value)):
            raise ConfigError(f"{self.name} in {source} is {value!r}; it takes {self.meaning}.")

    @property
    def env_name(self) -> str:
        return ENV_PREFIX + self.name

    @property
    def type_name(self) -> str:
        return {bool: "true/false", int: "a whole number", float: "a number", list: "a list"}.get(
            self.type, "text"
        )

    def _refuse(self, raw: str, accepts: str) -> ConfigError:
        shown = "…" if self.secret else repr(raw)
        return ConfigError(
            f"{self.env_name}={shown} is not valid: it takes {accepts} ({self.meaning})."
        )


MiB = 1024 * 1024
SETTINGS: tuple[Setting, ...] = (
    # Site
    Setting(
        "SECRET_KEY",
        str,
        None,
        "signs sessions and CSRF tokens; never used for secrets",
        secret=True,
        shown_default="generated into instance/flask_secret_key (0600)",
    ),
    Setting(
        "SECRETS_KEY",
        str,
        None,
        "Fernet key(s) for secret values, newest first, comma-separated",
        secret=True,
        shown_default="generated into instance/secrets.key (0600)",
    ),
    Setting(
        "SECRETS_KEY_FILE",
        str,
        None,
        "where the generated secrets key is kept",
        shown_default="instance/secrets.key",
    ),
    Setting(
        "INSTANCE_PATH",
        str,
        None,
        "folder of the database, the keys and the queue (read from the environment only)",
        shown_default="instance/ in the checkout",
    ),
    Setting(
        "SESSION_COOKIE_SECURE",
        bool,
        False,
        "cookies only over HTTPS (set true behind HTTPS; covers the remember-me cookie too)",
    ),
    Setting(
        "REMEMBER_COOKIE_DURATION", int, 60 * 60 * 24 * 30, "seconds a 'remember me' log-in lasts"
    ),
    Setting(
        "WEB_WORKERS",
        int,
        None,
        "web server processes `./manage.sh serve` runs (with a sandbox service; without one: 1)",
        shown_default="one per CPU core",
    ),
    Setting(
        "TRUSTED_PROXIES",
        int,
        0,
        "reverse proxies in front of the app whose X-Forwarded-* headers are trusted (0: none)",
    ),
    Setting(
        "RATELIMIT_STORAGE_URI",
        str,
        "",
        "where rate-limit counters live: empty for instance/ratelimits.sqlite, shared by every "
        "process on this machine; redis://… for many machines; memory:// for one process only",
        secret=True,
        shown_default="instance/ratelimits.sqlite",
    ),
    Setting(
        "PAGE_CACHE_URL",
        str,
        "",
        "where pages as anonymous visitors see them are kept: empty for each process's memory, "
        "with instance/page-cache saying which are current for every process on this machine; "
        "redis://… for many machines; off",
        secret=True,
        shown_default="memory + instance/page-cache",
    ),
    Setting("RATELIMIT_ENABLED", bool, True, "rate limits on (turn off only for benchmarks)"),
    Setting("WIDGETS_PER_PAGE", int, 12, "widgets on a page of the home and user pages"),
    Setting("SECRETS_PAGE_SIZE", int, 200, "rows the Secrets panel shows before 'Show more'"),
    Setting("MAX_CONTENT_LENGTH", int, 2 * MiB, "largest request body, in bytes"),
    Setting("MODULES_PER_WIDGET", int, 30, "server modules one widget may have"),
    Setting(
        "MODULES_TOTAL_BYTES", int, 1 * MiB, "bytes of server code in all of a widget's modules"
    ),
    Setting("IMPORT_UNPACKED_BYTES", int, 20 * MiB, "most bytes an imported archive may unpack to"),
    # Runs
    Setting("RUN_WALL_SECONDS", float, 5.0, "a run is stopped after this many seconds"),
    Setting("RUN_CPU_SECONDS", int, 3, "CPU seconds a run may use"),
    Setting(
        "RUN_MEMORY_MB",
        int,
        256,
        "memory of a whole run: all its processes, memory files and scratch (its cgroup)",
    ),
    Setting("RUN_MAX_PROCESSES", int, 8, "processes and threads in one run (its cgroup)"),
    Setting("RUN_OUTPUT_BYTES", int, 256 * 1024, "stdout + stderr kept; more stops the run"),
    Setting("RUN_SCRATCH_MB", int, 16, "size of a run's scratch /tmp and /dev/shm"),
    Setting(
        "RUN_MEDIA_MAX_BYTES",
        int,
        4 * 1024 * 1024,
        "Media bytes one value (a result, task argument, return value or task_state) may carry "
        "between client code, server code and tasks; at most 5 MB (the channel's message cap)",
    ),
    Setting("RUN_NETWORK", bool, True, "widget code may use the network"),
    Setting(
        "RUN_POOL_SIZE",
        int,
        None,
        "warm sandboxes kept ready by the sandbox service (or, without one, per web process; a "
        "queue consumer then keeps at most 4 per worker) (0: none)",
        shown_default="1/8 of memory (or of a lower cgroup limit) at 50 MB each, 2 to 64",
    ),
    Setting(
        "RUN_POOL_WARM_ON_START",
        bool,
        False,
        "without a sandbox service: fill the web process's pool at start-up, not at the first "
        "Run (the service and a queue consumer always fill theirs at start-up)",
    ),
    Setting(
        "RUN_MAX_CONCURRENT",
        int,
        4,
        "runs at once from the web processes (and as many from the queue consumer)",
    ),
    Setting(
        "RUN_ANONYMOUS_RATE_LIMIT",
        str,
        "10 per minute",
        "runs per client address when not logged in",
    ),
    # Runs: network of its own and fair shares
    Setting(
        "RUN_NETWORK_ALLOW",
        list,
        [],
        "address:port services runs may reach despite the network's rules "
        "(e.g. `127.0.0.1:8099,10.0.0.5:5432`)",
    ),
    Setting(
        "RUN_PER_USER_CONCURRENT",
        int,
        2,
        "runs at once per account (per address when not logged in); more get a 429",
    ),
    Setting(
        "RUN_QUEUE_LENGTH",
        int,
        32,
        "runs that may wait for a slot (web processes, and the consumer); more get a 503",
    ),
    Setting(
        "RUN_QUEUE_SECONDS",
        float,
        20.0,
        "longest a run waits for a free slot before the site answers 503",
    ),
    Setting(
        "RUN_USER_RATE_LIMIT",
        str,
        "60 per minute",
        "runs per account when logged in",
    ),
    Setting(
        "SANDBOX_PACKAGES_DIR",
        str,
        None,
        "packages widget code can import",
        shown_default=".sandbox/site-packages",
    ),
    Setting(
        "SANDBOX_SERVICE",
        str,
        "",
        "Unix socket of this machine's sandbox service, which keeps the warm pool and the fair "
        "queue for every web and consumer process (`./manage.sh serve` and `worker` start one "
        "at instance/sandbox.sock); empty: each process keeps its own",
    ),
    Setting(
        "ALLOW_UNSANDBOXED_RUNS",
        bool,
        False,
        "UNSAFE: where bubblewrap can't start, run widget code as a plain process",
    ),
    # Sandbox confinement: cgroups, seccomp, checkout location
    Setting("RUN_CPU_CORES", float, 1.0, "CPUs' worth of time all of a run's processes may use"),
    Setting(
        "SANDBOX_SHARE_DIR",
        str,
        None,
        "where the world-readable copy of the sandbox runtime and packages is made",
        shown_default="/var/lib/pyspace/sandbox (root), else ~/.cache/pyspace/sandbox",
    ),
    # Redaction and bad input
    Setting(
        "EXTRACTION_BUDGET",
        int,
        5,
        "results one caller may get withheld (they held a secret value) from one widget in an "
        "hour; then its runs and calls of that widget are refused for an hour",
    ),
    Setting(
        "CALL_ARGS_MAX_BYTES",
        int,
        16 * 1024,
        "largest GUI server call body (arguments and keyword names, as JSON), in bytes",
    ),
    Setting("CALL_ARGS_MAX_DEPTH", int, 32, "deepest nesting of lists and objects in a call"),
    # Tasks, schedules and run history (pyspace/tasks/)
    Setting(
        "QUEUE_URL",
        str,
        "",
        "job queue: empty for SQLite in instance/queue.sqlite (one machine; or sqlite:///path), "
        "or redis://… shared by every web and worker host",
        secret=True,
    ),
    Setting(
        "RUNS_ON",
        str,
        "web",
        "where Run presses and GUI calls run: `web` (in the web process) or `queue` (on workers)",
        choices=("web", "queue"),
    ),
    Setting(
        "TASK_WALL_SECONDS",
        float,
        300.0,
        "a background or scheduled task is stopped after this many seconds",
    ),
    Setting("TASKS_PER_USER", int, 2, "background tasks one account may have queued or running"),
    Setting("SCHEDULE_MIN_MINUTES", int, 5, "shortest interval a schedule may have (at least 1)"),
    Setting(
        "SCHEDULER_TICK_SECONDS", float, 1.0, "how often the scheduler looks for due schedules"
    ),
    Setting(
        "TASK_HEARTBEAT_SECONDS",
        float,
        2.0,
        "a running task's worker says it is alive this often; silent 5× as long: `missing`",
    ),
    Setting(
        "QUEUE_WORKERS",
        int,
        None,
        "runs one queue consumer executes at once (each `./manage.sh worker` host adds its own); "
        "more than TASKS_PER_USER, so one account's tasks never hold every worker",
        shown_default="4 per CPU core, at least 8",
    ),
    Setting("SCHEDULES_PER_WIDGET", int, 5, "schedules one widget may have"),
    Setting("SCHEDULES_PER_USER", int, 20, "schedules one account may have in all its widgets"),
    Setting("HISTORY_MAX_RUNS", int, 1000, "finished runs kept per widget"),
    Setting("HISTORY_MAX_DAYS", int, 30, "days finished runs are kept"),
    # Operations: health, metrics, backups (pyspace/operations/)
    Setting(
        "HEALTH_MIN_FREE_MB",
        int,
        200,
        "/healthz reports the disk as full below this many free megabytes in instance/",
    ),
    Setting(
        "HEALTH_CONSUMER_SECONDS",
        float,
        60.0,
        "/healthz reports the queue consumer dead when its heartbeat is older (0: not checked, "
        "for web hosts whose consumers run elsewhere)",
    ),
    Setting(
        "METRICS_TOKEN",
        str,
        "",
        "bearer token that lets a non-loopback client read /metrics (empty: loopback only)",
        secret=True,
    ),
    Setting(
        "BACKUP_DIR",
        str,
        "",
        "the queue consumer writes a daily backup here (empty: no scheduled backups)",
    ),
    Setting(
        "LOG_FORMAT",
        str,
        "text",
        "log lines of the web server and the consumer: text, or json (one object per line)",
        choices=("text", "json"),
    ),
    Setting("BACKUP_KEEP", int, 7, "scheduled backups kept in BACKUP_DIR (older ones deleted)"),
    # Accounts: log-in throttling, sign-up, quotas
    Setting(
        "LOGIN_FREE_FAILURES",
        int,
        10,
        "failed log-ins for one account from one address (or device) before each next try waits",
    ),
    Setting(
        "LOGIN_ACCOUNT_FREE_FAILURES",
        int,
        100,
        "failed log-ins for one account from browsers it never logged in on, before they wait",
    ),
    Setting(
        "LOGIN_MAX_DELAY_SECONDS",
        int,
        900,
        "longest wait between log-in tries (the wait doubles from 1 s after the free failures)",
    ),
    Setting(
        "SIGNUP_MODE",
        str,
        "open",
        "who can sign up: open, invite (with a join code made in /admin) or closed",
        choices=("open", "invite", "closed"),
    ),
    Setting(
        "SIGNUP_RATE_LIMIT",
        str,
        "50 per minute;500 per day",
        "successful sign-ups per client address (a class of 40 behind one address fits)",
    ),
    Setting(
        "PASSWORD_HASH_METHOD",
        str,
        "scrypt",
        "how passwords are hashed: `scrypt` (Werkzeug's default, slow on purpose), "
        "`scrypt:N:r:p` or `pbkdf2:sha256:ITERATIONS`; the test suite uses a cheap pbkdf2",
        pattern=r"scrypt(:\d+:\d+:\d+)?|pbkdf2:sha(256|512):\d+",
    ),
    Setting(
        "LOGIN_LINK_HOURS",
        int,
        72,
        "hours a teacher's one-time log-in link (password reset, new pupil account) stays usable",
    ),
    Setting("QUOTA_WIDGETS", int, 100, "widgets one account may have"),
    Setting(
        "QUOTA_CODE_BYTES", int, 5 * MiB, "bytes of code (all fields, all widgets) per account"
    ),
    Setting("QUOTA_SECRETS_PER_WIDGET", int, 500, "secrets one widget may have"),
    Setting(
        "QUOTA_STORAGE_BYTES",
        int,
        100 * MiB,
        "bytes one account may keep in all: code, data-table values and run history",
    ),
    # Data tables (pyspace/tables/)
    Setting("TABLES_MAX_ROWS", int, 100_000, "rows a widget's data tables may hold in all"),
    Setting(
        "TABLES_MAX_BYTES",
        int,
        64 * MiB,
        "bytes of values a widget's data tables may hold in all (each value counted as JSON)",
    ),
    Setting(
        "BULK_WRITE_BATCH_ROWS",
        int,
        5000,
        "the most rows one transaction of bulk work writes or deletes (CSV import, add_rows, "
        "deleting a table); each is also sized to hold the database about 80 ms, so other "
        "accounts' writes never wait long",
    ),
    # E-mail from widgets (pyspace/mail/)
    Setting(
        "SMTP_URL",
        str,
        "",
        "mail server: smtp://user:password@host:port, smtps://… (TLS), smtp://host:port?starttls=1;"
        " empty: mail is kept in the site's outbox, nothing leaves the machine",
        secret=True,
    ),
    Setting(
        "MAIL_FROM",
        str,
        "",
        "the site's From address (widgets' mail comes from it); empty: no-reply@localhost",
    ),
    Setting("MAIL_RECIPIENTS_PER_MESSAGE", int, 10, "to + cc + bcc addresses in one e-mail"),
    Setting("MAIL_PER_WIDGET_PER_DAY", int, 50, "e-mails one widget may send in 24 hours"),
    Setting(
        "MAIL_PER_ACCOUNT_PER_DAY", int, 200, "e-mails all of an account's widgets may send a day"
    ),
    Setting("MAIL_MAX_BYTES", int, 2 * MiB, "largest e-mail (bodies and attachments), in bytes"),
    Setting("MAIL_OUTBOX_DAYS", int, 30, "days e-mail is kept in the outbox and the mail log"),
    # The site's own mail (password reset)
    Setting(
        "SITE_URL",
        str,
        "",
        "the site's public address (https://py.example.org) for links in the site's e-mail;"
        " empty: the address each request came to (set it when mail leaves the machine)",
    ),
    Setting("PASSWORD_RESET_MINUTES", int, 60, "a password-reset link works this long, once"),
    Setting(
        "ALERT_SCHEDULE_FAILURES",
        int,
        3,
        "a widget's owner is e-mailed an alert once a schedule's task failed this many times in a"
        " row (at most one such alert per widget an hour)",
    ),
    Setting(
        "EMAIL_CONFIRM_HOURS",
        int,
        48,
        "a link confirming an account's e-mail address works this long, once",
    ),
    # HTTP endpoints of widgets (pyspace/endpoints/)
    Setting(
        "ENDPOINT_RATE_LIMIT_PER_ADDRESS",
        str,
        "60 per minute",
        "requests one client address may make to widgets' HTTP endpoints",
    ),
    Setting(
        "ENDPOINT_RATE_LIMIT_PER_WIDGET",
        str,
        "300 per minute",
        "requests one widget's HTTP endpoints answer, from everyone together",
    ),
    Setting("ENDPOINT_MAX_BYTES", int, 1 * MiB, "largest request body an endpoint takes, in bytes"),
    Setting(
        "ENDPOINT_COOKIE_MAX_BYTES",
        int,
        4000,
        "largest anvil.server.cookies.local or .shared an endpoint may set, encrypted, in bytes"
        " (browsers keep about 4096 bytes a cookie)",
    ),
    # anvil.server.session (pyspace/widget_sessions/)
    Setting("SESSION_MAX_BYTES", int, 64 * 1024, "largest anvil.server.session, as JSON, in bytes"),
    Setting("SESSION_DAYS", int, 7, "days an unused anvil.server.session is kept"),
    Setting(
        "TABLES_TRANSACTION_SECONDS",
        float,
        5.0,
        "longest a run's data-table transaction may stay open before it is cancelled (kept "
        "below SQLite's 10 s busy timeout, so other writers wait for it rather than fail)",
    ),
    Setting(
        "TABLES_CSV_MAX_BYTES",
        int,
        10 * MiB,
        "largest CSV that to_csv() builds for widget code",
    ),
    Setting(
        "TABLES_MEDIA_MAX_BYTES",
        int,
        4 * MiB,
        "largest value of a data-table media column (a Media from widget code or a file "
        "uploaded in the Data panel), in bytes; at most 5 MiB (it crosses the sandbox's channel)",
    ),
)
SETTINGS_BY_NAME = {setting.name: setting for setting in SETTINGS}

# Variables for the project's own scripts and tests, not the app: known, so not typos.
TOOL_VARIABLES = {
    "PYSPACE_BIND": "address `./manage.sh serve` listens on (default 127.0.0.1:5000)",
    "PYSPACE_TEST_DATABASE_URL": "run the test suite against this database",
    "PYSPACE_PG_DIR": "data folder of the test suite's throwaway PostgreSQL",
    "PYSPACE_PG_PORT": "port of the test suite's throwaway PostgreSQL",
    "PYSPACE_CHROMIUM": "the Chromium the browser tests drive",
    "PYSPACE_TEST_REDIS_URL": "run the queue tests against this Redis server",
    "PYSPACE_REDIS_DIR": "data folder of the test suite's throwaway Redis",
    "PYSPACE_REDIS_PORT": "port of the test suite's throwaway Redis",
}


def default_config(instance_path: str) -> dict:
    """Every declared setting's default, plus the fixed Flask settings of one machine."""
    config: dict[str, Any] = {setting.name: setting.default for setting in SETTINGS}
    config.update(
        SQLALCHEMY_DATABASE_URI="sqlite:///" + os.path.join(instance_path, "pyspace.sqlite"),
        SQLALCHEMY_ENGINE_OPTIONS={},
        SECRETS_KEY_FILE=os.path.join(instance_path, "secrets.key"),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
        RATELIMIT_HEADERS_ENABLED=True,
    )
    return config


def config_from_environment(environ: Mapping[str, str] = os.environ) -> dict:
    """Settings given as environment variables (`PYSPACE_…`, `DATABASE_URL`), parsed by type.

    Raises ConfigError for an unknown `PYSPACE_` name or a value that doesn't parse.
    """
    found: dict[str, Any] = {}
    for variable, raw in environ.items():
        if not variable.startswith(ENV_PREFIX) or variable in TOOL_VARIABLES:
            continue
        setting = SETTINGS_BY_NAME.get(variable[len(ENV_PREFIX) :])
        if setting is None:
            raise ConfigError(
                f"{variable} is not a py.space setting. Known settings: "
                + ", ".join(s.env_name for s in SETTINGS)
                + " (see the README's configuration table)."
            )
        found[setting.name] = setting.parse(raw)
    if environ.get("DATABASE_URL"):
        found["SQLALCHEMY_DATABASE_URI"] = database_uri(environ["DATABASE_URL"])
    return found


def database_uri(url: str) -> str:
    """`url` with the psycopg 3 driver named (Heroku-style URLs name the old one)."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def check_types(config: Mapping[str, Any], source: str) -> None:
    """Refuse declared settings of the wrong type in a Python config (instance/config.py)."""
    for name, value in config.items():
        setting = SETTINGS_BY_NAME.get(name)
        if setting is not None:
            setting.check(value, source)


def effective_settings(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(name, value as text) of every setting in `config`, secrets masked."""
    rows = []
    for setting in SETTINGS:
        value = config.get(setting.name)
        shown = "(set, hidden)" if setting.secret and value else repr(value)
        rows.append((setting.env_name, shown))
    rows.append(("DATABASE_URL", _masked_url(str(config.get("SQLALCHEMY_DATABASE_URI", "")))))
    return rows


def _masked_url(url: str) -> str:
    # postgresql://user:password@host/db -> postgresql://user:***@host/db
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    return f"{scheme}{sep}{credentials.split(':', 1)[0]}:***@{host}"


def markdown_table() -> str:
    """The README's configuration table."""
    lines = ["| setting | type | default | what |", "|---|---|---|---|"]
    lines.append(
        "| `DATABASE_URL` | text | SQLite in `instance/pyspace.sqlite` | e.g. "
        "`postgresql://user:pw@host/db` (psycopg 3) |"
    )
    for setting in SETTINGS:
        default = setting.shown_default or _shown(setting.default)
        lines.append(
            f"| `{setting.env_name}` | {setting.type_name} | {default} | {setting.meaning} |"
        )
    return "\n".join(lines)


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, list):
        return "`" + ",".join(value) + "`" if value else "(none)"
    return f"`{value}`"


def read_or_create_key_file(path: Path, make_key: Callable[[], str]) -> str:
    """Return the key stored at `path`, creating it (mode 0600) on first use.

    The file is created with O_EXCL so two processes starting at once cannot
    both write a different key; the loser reads the winner's key.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        key = make_key()
        f.write(key + "\n")
        f.flush()
        os.fsync(f.fileno())
    return key


def flask_secret_key(instance_path: str) -> str:
    """The session-signing key, kept in instance/ so sessions survive restarts."""
    return read_or_create_key_file(
        Path(instance_path) / "flask_secret_key", lambda: secrets.token_hex(32)
    )


def main() -> int:
    """`python -m pyspace.config`: check the environment before the server starts."""
    try:
        config_from_environment()
    except ConfigError as error:
        print(f"py.space can't start: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
