"""A throw-away py.space for benchmarks: its own SQLite file, users, and widgets with secrets."""

import os
import re

from cryptography.fernet import Fernet
from sqlalchemy import insert

from pyspace import create_app
from pyspace.extensions import db
from pyspace.models import Secret, User, Widget
from pyspace.secrets import vault

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
SERVER_CODE = (
    "import anvil.secrets\n\ndef forecast(city):\n    return city.upper()\n\n"
    "print(forecast('oslo'))\n"
)


def bench_config(workdir: str) -> dict:
    """The app settings of a benchmark run: a fresh database and keys under `workdir`."""
    return {
        "INSTANCE_PATH": os.path.join(workdir, "instance"),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{os.path.join(workdir, 'bench.sqlite')}",
        "SECRET_KEY": "bench-secret-key",
        "SECRETS_KEY": Fernet.generate_key().decode(),
        "RATELIMIT_ENABLED": False,
        # In-process diagnostics use a fixed pool of 2, so their figures don't move with the
        # machine's size (the default sizes the pool to the machine); the sites served over
        # HTTP get the default (bench/served.py).
        "RUN_POOL_SIZE": 2,
    }


def server_environment(config: dict) -> dict:
    """The environment that gives a server process (gunicorn) the app of `config`: only declared
    `PYSPACE_*` settings (anything else stops start-up) and `DATABASE_URL`."""
    from pyspace.config import SETTINGS_BY_NAME

    env = {
        f"PYSPACE_{key}": str(value).lower() if isinstance(value, bool) else str(value)
        for key, value in config.items()
        if key in SETTINGS_BY_NAME
    }
    env["DATABASE_URL"] = config["SQLALCHEMY_DATABASE_URI"]
    return {**os.environ, **env}


def make_app(workdir: str, **overrides):
    """A py.space app on a new, empty database in `workdir`."""
    app = create_app({**bench_config(workdir), **overrides})
    with app.app_context():
        db.create_all()
    return app


def make_user(username: str) -> int:
    """A user's id (inside an app context)."""
    user = User(username=username)
    user.set_password("benchmark password")
    db.session.add(user)
    db.session.commit()
    return user.id


def make_widget(
    owner_id: int,
    secrets: int,
    title: str = "Weather",
    visibility: str = "public",
    code: str = SERVER_CODE,
) -> str:
    """A widget with `secrets` secrets, each with its own encrypted value (one in ten blank)."""
    widget = Widget(
        owner_id=owner_id,
        title=title,
        visibility=visibility,
        server_code=code,
        description="Today's weather, from an API that needs a key.",
    )
    db.session.add(widget)
    db.session.flush()
    rows = []
    for number in range(secrets):
        value = "" if number % 10 == 9 else f"sk-{number:05d}-{os.urandom(8).hex()}"
        rows.append(
            {
                "widget_id": widget.id,
                "name": f"api_key_{number:05d}",
                "description": "Key for the weather service" if number % 3 == 0 else "",
                "required": number % 4 == 0,
                "ciphertext": vault.encrypt_value(value),
            }
        )
    if rows:
        db.session.execute(insert(Secret), rows)
    db.session.commit()
    return widget.id


def logged_in_client(app, user_id: int):
    """A test client with `user_id`'s session, the way Flask-Login keeps it."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)
        session["_fresh"] = True
    return client


def csrf_token(client, path: str) -> str:
    """The CSRF token a page gives its htmx requests."""
    return CSRF_META.search(client.get(path).get_data(as_text=True)).group(1)
