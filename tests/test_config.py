"""Configuration: defaults for one machine, the generated SECRET_KEY, environment overrides."""

import stat
import subprocess
from pathlib import Path

import pytest

from pyspace import create_app
from pyspace.config import ConfigError, config_from_environment, markdown_table

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture
def clean_environment(monkeypatch):
    """No PYSPACE_* or DATABASE_URL from the machine running the tests."""
    import os

    for name in list(os.environ):
        if name.startswith("PYSPACE_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    return monkeypatch


@pytest.fixture
def bare_config(app_config, clean_environment):
    """The test config without a SECRET_KEY, so the app must make its own."""
    config = dict(app_config)
    del config["SECRET_KEY"]
    return config


def test_secret_key_is_generated_once_with_owner_only_permissions(bare_config, tmp_path):
    first = create_app(bare_config)
    key_file = tmp_path / "instance" / "flask_secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first.config["SECRET_KEY"]) >= 64
    second = create_app(bare_config)  # a restart
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]
    assert key_file.read_text().strip() == first.config["SECRET_KEY"]


def test_sessions_survive_a_restart(bare_config):
    from pyspace.extensions import db
    from tests.conftest import Accounts

    app = create_app(bare_config)
    with app.app_context():
        db.create_all()
    browser = Accounts(app.test_client())
    browser.register("alice")
    restarted = create_app(bare_config).test_client()
    restarted.set_cookie("session", browser.client.get_cookie("session").value)
    assert restarted.get("/widgets/new").status_code == 200


def test_environment_overrides_defaults(bare_config, clean_environment):
    clean_environment.setenv("PYSPACE_SECRET_KEY", "from-the-environment")
    clean_environment.setenv("PYSPACE_WIDGETS_PER_PAGE", "5")
    clean_environment.setenv("PYSPACE_SESSION_COOKIE_SECURE", "true")
    app = create_app(bare_config)
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert app.config["WIDGETS_PER_PAGE"] == 5
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_instance_config_file_sits_between_defaults_and_environment(
    bare_config, clean_environment, tmp_path
):
    (tmp_path / "instance").mkdir(exist_ok=True)
    (tmp_path / "instance" / "config.py").write_text(
        "WIDGETS_PER_PAGE = 7\nMAX_CONTENT_LENGTH = 1024\n"
    )
    clean_environment.setenv("PYSPACE_WIDGETS_PER_PAGE", "9")
    app = create_app(bare_config)
    assert app.config["MAX_CONTENT_LENGTH"] == 1024
    assert app.config["WIDGETS_PER_PAGE"] == 9


def test_default_database_is_sqlite_in_the_instance_folder(bare_config, tmp_path):
    del bare_config["SQLALCHEMY_DATABASE_URI"]
    app = create_app(bare_config)
    assert (
        app.config["SQLALCHEMY_DATABASE_URI"]
        == f"sqlite:///{tmp_path / 'instance' / 'pyspace.sqlite'}"
    )


@pytest.mark.parametrize(
    "url, expected",
    [
        (
            "postgres://u:p@db.example:5432/pyspace",
            "postgresql+psycopg://u:p@db.example:5432/pyspace",
        ),
        ("postgresql://u:p@localhost/pyspace", "postgresql+psycopg://u:p@localhost/pyspace"),
        ("postgresql+psycopg://u@localhost/pyspace", "postgresql+psycopg://u@localhost/pyspace"),
        ("sqlite:////srv/pyspace.sqlite", "sqlite:////srv/pyspace.sqlite"),
    ],
)
def test_database_url_selects_the_psycopg_driver(url, expected):
    assert config_from_environment({"DATABASE_URL": url})["SQLALCHEMY_DATABASE_URI"] == expected


def test_database_url_reaches_the_app(bare_config, clean_environment):
    del bare_config["SQLALCHEMY_DATABASE_URI"]
    clean_environment.setenv("DATABASE_URL", "postgresql://u:p@127.0.0.1/pyspace")
    app = create_app(bare_config)  # engines connect lazily, so no server is needed here
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@127.0.0.1/pyspace"


@pytest.mark.parametrize(
    "variable, raw, parsed",
    [
        ("PYSPACE_RUN_NETWORK", "true", True),
        ("PYSPACE_RUN_NETWORK", "off", False),
        ("PYSPACE_ALLOW_UNSANDBOXED_RUNS", "0", False),
        ("PYSPACE_RUN_POOL_SIZE", "42", 42),
        ("PYSPACE_RUN_WALL_SECONDS", "0.5", 0.5),
        ("PYSPACE_PASSWORD_HASH_METHOD", "pbkdf2:sha256:600000", "pbkdf2:sha256:600000"),
        ("PYSPACE_RATELIMIT_STORAGE_URI", "redis://cache:6379", "redis://cache:6379"),
    ],
)
def test_environment_values_are_parsed_by_their_declared_type(variable, raw, parsed):
    name = variable.removeprefix("PYSPACE_")
    assert config_from_environment({variable: raw}) == {name: parsed}


@pytest.mark.parametrize(
    "variable, raw, accepts",
    [
        ("PYSPACE_ALLOW_UNSANDBOXED_RUNS", "flase", "true or false"),
        ("PYSPACE_RUN_NETWORK", "maybe", "true or false"),
        ("PYSPACE_RUN_POOL_SIZE", "two", "a whole number"),
        ("PYSPACE_RUN_WALL_SECONDS", "5s", "a number"),
        ("PYSPACE_PASSWORD_HASH_METHOD", "md5", "how passwords are hashed"),
        ("PYSPACE_PASSWORD_HASH_METHOD", "pbkdf2", "how passwords are hashed"),
    ],
)
def test_a_value_that_does_not_parse_stops_start_up_naming_the_variable(variable, raw, accepts):
    with pytest.raises(ConfigError) as refused:
        config_from_environment({variable: raw})
    assert variable in str(refused.value) and accepts in str(refused.value)


def test_an_unknown_pyspace_variable_stops_start_up(bare_config, clean_environment):
    clean_environment.setenv("PYSPACE_RUN_NETWROK", "false")
    with pytest.raises(ConfigError, match=r"PYSPACE_RUN_NETWROK is not a py\.space setting"):
        create_app(bare_config)


def test_variables_of_the_projects_own_scripts_are_not_typos():
    assert config_from_environment({"PYSPACE_TEST_DATABASE_URL": "sqlite://"}) == {}


def test_instance_config_of_the_wrong_type_is_refused(bare_config, tmp_path):
    (tmp_path / "instance").mkdir(exist_ok=True)
    (tmp_path / "instance" / "config.py").write_text('ALLOW_UNSANDBOXED_RUNS = "no"\n')
    with pytest.raises(ConfigError, match=r"ALLOW_UNSANDBOXED_RUNS in instance/config\.py"):
        create_app(bare_config)


def test_manage_serve_stops_with_a_clear_message_on_a_typo(clean_environment):
    clean_environment.setenv("PYSPACE_ALLOW_UNSANDBOXED_RUNS", "flase")
    serve = subprocess.run(
        ["./manage.sh", "serve"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert serve.returncode == 2
    assert "PYSPACE_ALLOW_UNSANDBOXED_RUNS='flase' is not valid" in serve.stderr
    assert "py.space is running" not in serve.stdout


def test_config_show_masks_keys_and_passwords(app, clean_environment):
    app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://u:hunter2@db/pyspace"
    app.config["SECRETS_KEY"] = "a-secret-fernet-key"
    shown = app.test_cli_runner().invoke(args=["config", "show"]).output
    assert "PYSPACE_RUN_MEMORY_MB" in shown and "256" in shown
    assert "hunter2" not in shown and "a-secret-fernet-key" not in shown
    assert app.config["SECRET_KEY"] not in shown


def test_readme_configuration_table_is_the_settings_table():
    readme = (PROJECT / "README.md").read_text()
    assert markdown_table() in readme


def test_cookies_are_http_only_and_same_site(app):
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["REMEMBER_COOKIE_SAMESITE"] == "Lax"
