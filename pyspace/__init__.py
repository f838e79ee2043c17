"""py.space: write small Python widgets, run, share and fork them; secrets stay out of code."""

import os

from flask import Config, Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: defaults, instance/config.py, the environment, then `test_config`."""
    # Importing rate_limit_storage registers its pyspace+sqlite:// scheme with `limits`, which
    # limiter.init_app (in _init_extensions) looks RATELIMIT_STORAGE_URI up in.
    from . import config, rate_limit_storage

    # The instance path is given to Flask itself so that instance/config.py is read from it too.
    app = Flask(
        __name__,
        instance_path=_instance_path(test_config),
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    os.makedirs(app.instance_path, exist_ok=True)

    app.config.from_mapping(config.default_config(app.instance_path))
    instance_config = Config(app.instance_path)
    if instance_config.from_pyfile("config.py", silent=True):
        config.check_types(instance_config, "instance/config.py")
        app.config.update(instance_config)
    app.config.from_mapping(config.config_from_environment())
    if test_config:
        config.check_types(test_config, "the test config")
        app.config.from_mapping(test_config)
    # Resolved after every layer, so an empty value from the environment or instance/config.py
    # means the default too: the counters' file that every process on this machine shares.
    if not app.config.get("RATELIMIT_STORAGE_URI"):
        app.config["RATELIMIT_STORAGE_URI"] = rate_limit_storage.default_storage_uri(
            app.instance_path
        )
    # The remember-me cookie logs a browser in for a month: HTTPS-only when the session cookie is.
    app.config.setdefault("REMEMBER_COOKIE_SECURE", app.config["SESSION_COOKIE_SECURE"])
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config.flask_secret_key(app.instance_path)

    if app.config.get("TRUSTED_PROXIES"):
        # Behind N reverse proxies the client's address and scheme arrive in X-Forwarded-*:
        # per-client rate limits must not lump every visitor under the proxy's address.
        hops = int(app.config["TRUSTED_PROXIES"])
        # Flask's documented way to add WSGI middleware; mypy sees a method being replaced.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )

    from .bounded_input import BoundedIntConverter, refuse_nul_in_url_values

    # Before any route is added: every <int:…> id must fit the database's integers.
    app.url_map.converters["int"] = BoundedIntConverter
    app.url_value_preprocessor(refuse_nul_in_url_values)
    _init_extensions(app)
    _init_areas(app)
    if app.config.get("RUN_POOL_WARM_ON_START"):
        # The server (not CLI commands or tests) fills the warm pool now, so the first Run is fast.
        from .sandbox import runner_for

        runner_for(app)
    return app


def _instance_path(test_config: dict | None) -> str | None:
    """The test's INSTANCE_PATH, else PYSPACE_INSTANCE_PATH (a service keeps its instance in
    /var/lib/pyspace), else None: Flask's instance/ beside the code."""
    path = (test_config or {}).get("INSTANCE_PATH") or os.environ.get("PYSPACE_INSTANCE_PATH")
    return os.path.abspath(path) if path else None


def _init_extensions(app: Flask) -> None:
    from .database import configure_engine, engine_options
    from .extensions import csrf, db, limiter, login_manager, migrate
    from .sandbox.fairness import request_threads

    threads = request_threads(app.config["RUN_MAX_CONCURRENT"], app.config["RUN_QUEUE_LENGTH"])
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config, threads)
    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            configure_engine(engine)
    # Batch mode lets Alembic alter SQLite tables (it rebuilds them, keeping the data).
    migrate.init_app(
        app,
        db,
        directory=os.path.join(os.path.dirname(__file__), "migrations"),
        render_as_batch=True,
        compare_type=True,
    )
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.login_message_category = "info"

    from .auth.sessions import user_for_session_id

    @login_manager.user_loader
    def load_user(session_id: str):
        # "<user id>:<session generation>": a session ended since (logout, password change,
        # disabled account) or a disabled account loads nobody. See auth/sessions.py.
        return user_for_session_id(session_id)


def _init_areas(app: Flask) -> None:
    from . import errors, htmx, page_cache, security_headers, static_urls
    from .admin import init_app as admin
    from .appimport import init_app as appimport
    from .auth import init_app as auth
    from .classes import init_app as classes
    from .config_cli import config_cli
    from .endpoints import init_app as endpoints
    from .examples import init_app as examples
    from .forks import init_app as forks
    from .gui import init_app as gui
    from .mail import init_app as mail
    from .operations import init_app as operations
    from .runs import init_app as runs
    from .secrets import init_app as secrets
    from .tables import init_app as tables
    from .tasks import init_app as tasks
    from .widget_sessions import init_app as widget_sessions
    from .widgets import init_app as widgets

    # Each area registers its blueprint, CLI commands, error handlers and channel services.
    for init_area in (
        auth,
        widgets,
        secrets,
        tables,
        runs,
        gui,
        forks,
        admin,
        tasks,
        examples,
        mail,
        endpoints,
        widget_sessions,
        operations,
        classes,
        appimport,
    ):
        init_area(app)
    errors.register(app)
    htmx.register(app)
    security_headers.register(app)
    static_urls.register(app)
    page_cache.init_app(app)
    app.cli.add_command(config_cli)
