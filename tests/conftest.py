"""Shared fixtures: an app with a fresh database per test, a client, and account helpers.

Building an app (blueprints, URL map, templates compiled on first render) costs more than most
tests, so apps are shared: every test whose configuration is the same gets the same app, its
database put back to empty (SQLite: a copy of an empty file made once; PostgreSQL: every table
truncated), its config, extensions and instance folder as they were after it was built. A test
that changes `app_config` gets an app of that configuration (kept for the next test with the
same one); a test marked `own_app`, or with rate limits on, gets an app built for it alone.

CSRF stays on: helpers read the token from the page's <meta name="csrf-token"> like htmx does,
once per client, and again whenever the session's token changed (logging in starts a new one).
Passwords are hashed with a cheap pbkdf2 (PASSWORD_HASH_METHOD): scrypt costs 0.1-0.7 s a hash.
Set PYSPACE_TEST_DATABASE_URL to run the suite against PostgreSQL instead of SQLite.

`./manage.sh test` spreads the tests over pytest-xdist workers (two per core). Each keeps
its own apps and temporary folders (xdist gives each a base folder), and gets a PostgreSQL
database and a Redis database of its own (`pytest_configure` below), so no test sees another
worker's rows or queue.
"""

import copy
import os
import re
import shutil
import threading
from collections import OrderedDict
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from cryptography.fernet import Fernet
from flask import Flask
from itsdangerous import BadSignature
from sqlalchemy.engine import make_url

from pyspace import create_app, page_cache
from pyspace.extensions import db, limiter
from pyspace.sandbox import shutdown_runner

PASSWORD = "correct horse battery"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
# Where each test's database and instance folder are, and the key of its secrets: a shared app
# keeps its own, and a test that reuses it sees them in `app_config`.
PER_APP_SETTINGS = ("INSTANCE_PATH", "SQLALCHEMY_DATABASE_URI", "SECRETS_KEY")
# Apps of different configurations kept for reuse; the least recently used one goes first.
SHARED_APPS_KEPT = 4
TESTS = Path(__file__).resolve().parent
# Folder -> marker: tests that start real sandboxes, or drive Chromium.
MARKERS_BY_FOLDER = {"sandbox": "sandbox", "browser": "browser"}


def pytest_configure(config):
    """Give this pytest-xdist worker a PostgreSQL database and a Redis database of its own,
    and its share of the long tests first."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")  # "gw0", "gw1", ... in a worker only
    if not worker:
        return
    config.pluginmanager.register(_LongTestsFirst(), "pyspace-long-tests-first")
    number = int(worker.removeprefix("gw"))
    if url := os.environ.get("PYSPACE_TEST_DATABASE_URL"):
        os.environ["PYSPACE_TEST_DATABASE_URL"] = _worker_database(url, worker)
    if url := os.environ.get("PYSPACE_TEST_REDIS_URL"):
        # Redis has 16 numbered databases; the tests empty theirs (FLUSHDB) as they start.
        redis_url = urlsplit(url)._replace(path=f"/{1 + number % 15}")
        os.environ["PYSPACE_TEST_REDIS_URL"] = redis_url.geturl()


def _worker_database(url: str, worker: str) -> str:
    """`url` with the database name suffixed by the worker's, created if it doesn't exist."""
    base = make_url(url)
    if not base.get_backend_name().startswith("postgresql"):
        return url
    name = f"{base.database}_{worker}"
    admin = base.set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if found is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    return base.set(database=name).render_as_string(hide_password=False)


def _database_url(tmp_path) -> str:
    url = os.environ.get("PYSPACE_TEST_DATABASE_URL")
    return url or f"sqlite:///{tmp_path / 'instance' / 'pyspace.sqlite'}"


def pytest_collection_modifyitems(config, items):
    """Mark tests by folder (`browser`, `sandbox`), and the request- and database-level tests
    that the PostgreSQL pass runs again (`postgres`: every other test that uses the app)."""
    for item in items:
        parts = Path(item.path).relative_to(TESTS).parts
        marker = MARKERS_BY_FOLDER.get(parts[0]) if len(parts) > 1 else None
        if marker:
            item.add_marker(marker)
        if marker == "browser" or _runs_migrations(item):
            # A browser test's live server answers from threads of its own, and some tests add
            # request hooks; a migration test leaves its schema behind (on PostgreSQL, emptying
            # the tables would keep it): each gets an app no other test uses.
            item.add_marker("own_app")
        elif marker is None and "app" in getattr(item, "fixturenames", ()):
            item.add_marker("postgres")


class _LongTestsFirst:
    """Orders the collection once `-m` and `-k` have deselected what doesn't run (trylast)."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config, items):
        _spread_long_tests(config, items)


def _spread_long_tests(config, items) -> None:
    """Start each pytest-xdist worker on its share of the tests marked `long`.

    The worksteal scheduler hands worker k the k-th of n contiguous slices of the collection,
    and a worker only gives tests away from the end of its queue. A long test in the middle of
    a slice (the benchmark's groups sort near the end) would often still be running when every
    other worker is done; at the front of the slices they run while the rest are shared out."""
    workers = config.workerinput["workercount"]  # registered in xdist workers only
    long, rest = [], []
    for item in items:
        (long if item.get_closest_marker("long") else rest).append(item)
    if workers < 2 or not long:
        return
    shares: list[list] = [long[k::workers] for k in range(workers)]
    ordered: list = []
    remaining = len(items)
    for k in range(workers):
        # The same sizes xdist cuts: what is left, split evenly between the workers left.
        size = remaining // (workers - k)
        remaining -= size
        fill = max(0, size - len(shares[k]))
        ordered += shares[k] + rest[:fill]
        del rest[:fill]
    items[:] = ordered + rest


def _runs_migrations(item) -> bool:
    """Whether the test's module uses Flask-Migrate's commands (upgrade, downgrade, stamp)."""
    module = getattr(item, "module", None)
    return (
        any(
            getattr(value, "__module__", "").startswith("flask_migrate")
            for value in vars(module).values()
        )
        if module is not None
        else False
    )


FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Remember whether a test failed: its shared app's tables are then rebuilt, not emptied
    (on PostgreSQL; a SQLite database is a fresh copy either way)."""
    report = yield
    if report.failed:
        item.stash[FAILED] = True
    return report


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
        # scrypt costs 0.1-0.7 s a hash; the product's code path is the same with any method.
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    }


class SharedApp:
    """One app kept between tests, and what it looked like just after it was built."""

    def __init__(self, config: dict, folder: Path):
        self.folder = folder
        instance = folder / "instance"
        config = dict(config, INSTANCE_PATH=str(instance))
        if not os.environ.get("PYSPACE_TEST_DATABASE_URL"):
            config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'pyspace.sqlite'}"
        self.app = create_app(config)
        self.sqlite = self.app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
        self.template = folder / "empty.sqlite"
        with self.app.app_context():
            db.drop_all()
            db.create_all()
            db.session.remove()
            db.engine.dispose()  # the last connection closing folds the WAL into the file
        if self.sqlite:
            shutil.copyfile(instance / "pyspace.sqlite", self.template)
        self.config = _copied(dict(self.app.config))
        self.extensions = dict(self.app.extensions)
        self.needs_rebuild = False

    @property
    def instance(self) -> Path:
        return Path(self.app.instance_path)

    def check_out(self) -> Flask:
        """The app, as it was after it was built, with an empty database."""
        app = self.app
        # The rate limiter is one object bound to the latest app built: bind it to this one
        # again (its limits are off, so this only sets the flag; no hooks are added twice).
        limiter.init_app(app)
        with app.app_context():
            shutil.rmtree(self.instance, ignore_errors=True)
            self.instance.mkdir()
            # The stored pages went with the instance folder; the store's folder comes back
            # and a new generation with it (pages of the last test's data are never served).
            (self.instance / "page-cache").mkdir()
            page_cache.new_generation()
            if self.sqlite:
                db.engine.dispose()
                shutil.copyfile(self.template, self.instance / "pyspace.sqlite")
            else:
                self._empty_postgresql_tables()
        self.needs_rebuild = False
        return app

    def _empty_postgresql_tables(self) -> None:
        """Empty every table and restart the ids. DELETE, not TRUNCATE: a test leaves a few
        rows, and TRUNCATE gives every table new files (20-60 ms a test against 10 ms)."""
        tables = db.metadata.sorted_tables
        if self.needs_rebuild:
            db.drop_all()
        with db.engine.begin() as connection:
            present = connection.execute(
                db.text(
                    "SELECT count(*) FROM pg_tables"
                    " WHERE schemaname = current_schema() AND tablename = ANY(:names)"
                ),
                {"names": [table.name for table in tables]},
            ).scalar_one()
        if present != len(tables):
            db.create_all()  # a test with an app of its own dropped them (or this is a rebuild)
        with db.engine.begin() as connection:
            for table in reversed(tables):  # rows that others point at go last
                connection.execute(table.delete())
            connection.execute(
                db.text(
                    "SELECT setval(c.oid, 1, false) FROM pg_class c"
                    " WHERE c.relkind = 'S' AND c.relnamespace = current_schema()::regnamespace"
                )
            )

    def check_in(self, failed: bool) -> None:
        """Undo what a test did to the app: its runner, queue, config and extensions."""
        app = self.app
        shutdown_runner(app)  # the warm pool's sandboxes end with the test
        huey = app.extensions.get("huey")
        if huey is not None and huey is not self.extensions.get("huey"):
            getattr(huey.storage, "close", lambda: None)()
        app.extensions.clear()
        app.extensions.update(self.extensions)
        app.config.clear()
        app.config.update(_copied(self.config))
        with app.app_context():
            db.session.remove()
            if self.sqlite:
                db.engine.dispose()
        self.needs_rebuild = failed

    def close(self) -> None:
        shutdown_runner(self.app)
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()


def _copied(config: dict) -> dict:
    copied = {}
    for name, value in config.items():
        try:
            copied[name] = copy.deepcopy(value)
        except Exception:  # an object a setting holds as it is (an engine option's function)
            copied[name] = value
    return copied


class SharedApps:
    """Apps kept for reuse, one per configuration (apart from PER_APP_SETTINGS)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.apps: OrderedDict[str, SharedApp] = OrderedDict()
        self._made = 0

    @staticmethod
    def key(config: dict) -> str:
        return repr(sorted((k, v) for k, v in config.items() if k not in PER_APP_SETTINGS))

    def get(self, config: dict) -> SharedApp:
        key = self.key(config)
        shared = self.apps.pop(key, None)
        if shared is None:
            self._made += 1
            shared = SharedApp(config, self.folder / f"app{self._made}")
        self.apps[key] = shared
        while len(self.apps) > SHARED_APPS_KEPT:
            _, oldest = self.apps.popitem(last=False)
            oldest.close()
            shutil.rmtree(oldest.folder, ignore_errors=True)
        return shared

    def close(self) -> None:
        for shared in self.apps.values():
            shared.close()


@pytest.fixture(scope="session")
def shared_apps(tmp_path_factory):
    apps = SharedApps(tmp_path_factory.mktemp("shared-apps"))
    yield apps
    apps.close()


def _can_share(request, app_config: dict, tmp_path: Path) -> bool:
    """Whether the test may use a shared app: not marked `own_app`, rate limits off (their
    hooks are added when an app is built), a secrets key given (not one the app keeps in its
    instance folder), and the database the suite chose."""
    return (
        request.node.get_closest_marker("own_app") is None
        and not app_config.get("RATELIMIT_ENABLED")
        and bool(app_config.get("SECRETS_KEY"))
        and app_config.get("SQLALCHEMY_DATABASE_URI") == _database_url(tmp_path)
    )


@pytest.fixture
def app(request, app_config, shared_apps, tmp_path):
    """An app with an empty database for this test alone (see the module docstring)."""
    if _can_share(request, app_config, tmp_path):
        shared = shared_apps.get(app_config)
        app = shared.check_out()
        # The test sees where its database and instance folder are, and the key in use.
        app_config.update({name: app.config[name] for name in PER_APP_SETTINGS})
        yield app
        shared.check_in(failed=request.node.stash.get(FAILED, False))
        return
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
    """Register, log in and post with CSRF tokens, the way a browser would: the token comes from
    a page's <meta name="csrf-token">, and is read again only when the session's token changed
    (logging in starts a new one), as a browser would after loading the next page."""

    def __init__(self, client):
        self.client = client
        self._token: str | None = None
        self._token_session: str | None = None  # the session's raw token `_token` signs

    def csrf_token(self) -> str:
        session = self._session()
        raw = session.get("csrf_token")
        if self._token is None or raw is None or raw != self._token_session:
            page = self.client.get("/" if "_user_id" in session else "/login")
            self._token = csrf_token_from(page.get_data(as_text=True))
            self._token_session = self._session().get("csrf_token")
        return self._token

    def _session(self) -> dict:
        """The session as the client's cookie holds it (read, not sent to the app)."""
        app = self.client.application
        cookie = self.client.get_cookie(app.config["SESSION_COOKIE_NAME"])
        serializer = app.session_interface.get_signing_serializer(app)
        if cookie is None or serializer is None:
            return {}
        try:
            return dict(serializer.loads(cookie.value))
        except BadSignature:
            return {}

    def register(self, username="alice", password=PASSWORD):
        data = {"username": username, "password": password, "csrf_token": self.csrf_token()}
        return self.client.post("/register", data=data)

    def login(self, username="alice", password=PASSWORD, remember=False):
        data = {"username": username, "password": password, "csrf_token": self.csrf_token()}
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
def make_user(app):
    """Add an account straight to the database (no sign-up request); returns its id."""

    def make(username: str = "owner", password: str = PASSWORD, **fields) -> int:
        from pyspace.models import User

        with app.app_context():
            user = User(username=username, **fields)
            user.set_password(password)
            db.session.add(user)
            db.session.commit()
            return user.id

    return make


@pytest.fixture
def make_client(app):
    """More browsers: each call gives a fresh client with its own Accounts helper."""

    def make():
        return Accounts(app.test_client())

    return make
