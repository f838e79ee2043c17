"""Configuration: defaults for one machine, then instance/config.py, then the environment."""

import os
import secrets
from pathlib import Path


def read_or_create_key_file(path: Path, make_key) -> str:
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


def default_config(instance_path: str) -> dict:
    """The settings that make py.space work on one machine with no configuration."""
    return {
        "SQLALCHEMY_DATABASE_URI": "sqlite:///" + os.path.join(instance_path, "pyspace.sqlite"),
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "SECRETS_KEY_FILE": os.path.join(instance_path, "secrets.key"),
        "SECRETS_KEY": None,
        "REMEMBER_COOKIE_DURATION": 60 * 60 * 24 * 30,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "RATELIMIT_STORAGE_URI": "memory://",
        # Reverse proxies in front of the app whose X-Forwarded-* headers are trusted (0: none,
        # so nobody can dodge a rate limit by sending the header themselves).
        "TRUSTED_PROXIES": 0,
        "RATELIMIT_HEADERS_ENABLED": True,
        "WIDGETS_PER_PAGE": 12,
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    }


# Environment variables read at start-up: PYSPACE_<NAME> overrides config NAME.
ENV_PREFIX = "PYSPACE_"


def config_from_environment(environ=os.environ) -> dict:
    """Settings given as environment variables (`PYSPACE_…`, `DATABASE_URL`)."""
    found = {}
    for name, value in environ.items():
        if name.startswith(ENV_PREFIX) and len(name) > len(ENV_PREFIX):
            found[name[len(ENV_PREFIX) :]] = _parse_env_value(value)
    if environ.get("DATABASE_URL"):
        url = environ["DATABASE_URL"]
        # Heroku-style URLs name the old driver; SQLAlchemy wants psycopg 3.
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://") :]
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        found["SQLALCHEMY_DATABASE_URI"] = url
    return found


def _parse_env_value(value: str):
    lowered = value.strip().lower()
    if lowered in ("true", "yes", "on"):
        return True
    if lowered in ("false", "no", "off"):
        return False
    try:
        return int(value)
    except ValueError:
        pass
    try:
        return float(value)
    except ValueError:
        return value


def flask_secret_key(instance_path: str) -> str:
    """The session-signing key, kept in instance/ so sessions survive restarts."""
    return read_or_create_key_file(
        Path(instance_path) / "flask_secret_key", lambda: secrets.token_hex(32)
    )
