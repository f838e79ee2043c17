"""Shared fixtures: a fresh app and database per test, a client, and account helpers.

CSRF stays on: helpers read the token from the page's <meta name="csrf-token"> like htmx does.
Set PYSPACE_TEST_DATABASE_URL to run the suite against PostgreSQL instead of SQLite.
"""

import os
import re
import threading
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from pyspace import create_app
from pyspace.extensions import db
from pyspace.sandbox import shutdown_runner

PASSWORD = "correct horse battery"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def _database_url(tmp_path) -> str:
    url = os.environ.get("PYSPACE_TEST_DATABASE_URL")
    return url or f"sqlite:///{tmp_path / 'instance' / 'pyspace.sqlite'}"


@pytest.fixture
def app_config(tmp_path):
    """The test configuration; a test may change it before `app` is created."""
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SQLALCHEMY_DATABASE_URI": _database_url(tmp_path),
        "SECRET_KEY": "test-secret-key",
        "SECRETS_KEY": Fernet.generate_key().decode(),
        "RATELIMIT_ENABLED": False,
        # The default sizes the pool to the machine (up to 32); each test app needs only a few.
        "RUN_POOL_SIZE": 2,
    }


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    shutdown_runner(app)  # the warm pool's sandboxes end with the app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def cli_runner(app):
    return app.test_cli_runner()


def stored_bytes(db) -> bytes:
    """Everything the database holds: the SQLite files byte for byte, or on PostgreSQL every
    row of every table as the server prints it (bytea as hex). Needs an app context."""
    if db.engine.dialect.name == "sqlite":
        database = Path(db.engine.url.database)
        return b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
    rows = []
    for table in db.metadata.sorted_tables:
        rows += db.session.execute(db.text(f"SELECT t::text FROM {table.name} t")).scalars().all()
    return "\n".join(rows).encode()


def csrf_token_from(html: str) -> str:
    match = CSRF_META.search(html)
    assert match, "page has no csrf-token meta tag"
    return match.group(1)


class Accounts:
    """Register, log in and post with CSRF tokens, the way a browser would."""

    def __init__(self, client):
        self.client = client

    def csrf_token(self) -> str:
        return csrf_token_from(
            self.client.get("/login").get_data(as_text=True)
            if not self._logged_in()
            else self.client.get("/").get_data(as_text=True)
        )

    def _logged_in(self) -> bool:
        with self.client.session_transaction() as session:
            return "_user_id" in session

    def register(self, username="alice", password=PASSWORD):
        token = csrf_token_from(self.client.get("/register").get_data(as_text=True))
        return self.client.post(
            "/register", data={"username": username, "password": password, "csrf_token": token}
        )

    def login(self, username="alice", password=PASSWORD, remember=False):
        token = csrf_token_from(self.client.get("/login").get_data(as_text=True))
        data = {"username": username, "password": password, "csrf_token": token}
        if remember:
            data["remember"] = "y"
        return self.client.post("/login", data=data)

    def logout(self):
        return self.post("/logout")

    def post(self, url, data=None, htmx=False, **kwargs):
        """POST with a valid CSRF token (as a form field, or as htmx's X-CSRFToken header)."""
        token = self.csrf_token()
        data = dict(data or {})
        headers = dict(kwargs.pop("headers", {}))
        if htmx:
            headers.update({"HX-Request": "true", "X-CSRFToken": token})
        else:
            data.setdefault("csrf_token", token)
        return self.client.post(url, data=data, headers=headers, **kwargs)

    def create_widget(self, title="My widget", kind="script", **fields):
        """Create a widget, optionally save `fields` in the editor, and return its id."""
        response = self.post("/widgets/new", {"title": title, "kind": kind})
        assert response.status_code == 302, response.get_data(as_text=True)
        widget_id = response.headers["Location"].rstrip("/").split("/")[-2]
        if fields:
            self.save_widget(widget_id, **fields)
        return widget_id

    def save_widget(self, widget_id, **fields):
        from pyspace.models import Widget

        with self.client.application.app_context():
            widget = db.session.get(Widget, widget_id)
            data = {
                "title": widget.title,
                "description": widget.description,
                "visibility": widget.visibility,
                "server_code": widget.server_code,
                "client_code": widget.client_code,
                "html": widget.html,
            }
        data.update(fields)
        response = self.post(f"/widgets/{widget_id}/edit", data)
        assert response.status_code == 302, response.get_data(as_text=True)
        return response


class DecryptionCounter:
    """How many times any Fernet key was tried on a ciphertext since the fixture started."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def counted(self, decrypt):
        def counting_decrypt(fernet, *args, **kwargs):
            with self._lock:
                self.count += 1
            return decrypt(fernet, *args, **kwargs)

        return counting_decrypt


@pytest.fixture
def decryptions(monkeypatch) -> DecryptionCounter:
    """Counts decryptions in this process, sandbox runs' secret lookups included (threads too).

    Counted in cryptography itself rather than in the vault, so a decryption that bypassed the
    vault would be counted as well. `_decrypt_data` is where every path ends (Fernet.decrypt,
    decrypt_at_time and MultiFernet's, which skip Fernet.decrypt): private, so if cryptography
    renames it, setattr fails loudly instead of the count silently staying at zero."""
    counter = DecryptionCounter()
    monkeypatch.setattr(Fernet, "_decrypt_data", counter.counted(Fernet._decrypt_data))
    return counter


@pytest.fixture
def accounts(client):
    return Accounts(client)


@pytest.fixture
def alice(accounts):
    """A logged-in user "alice"."""
    assert accounts.register("alice").status_code == 302
    return accounts


@pytest.fixture
def bob(make_client):
    """Another logged-in user "bob", in a browser of his own (owns nothing of alice's)."""
    bob = make_client()
    assert bob.register("bob").status_code == 302
    return bob


@pytest.fixture
def make_client(app):
    """More browsers: each call gives a fresh client with its own Accounts helper."""

    def make():
        return Accounts(app.test_client())

    return make
