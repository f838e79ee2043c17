"""Backups taken while 10 clients write restore into a fresh instance: every account logs in,
every secret reads back, every row written before the backup is there, schedules come back
disabled, and the manifest's counts are the restored database's."""

import json
import os
import shutil
import tarfile
import threading
import time
from pathlib import Path

import flask_migrate
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from pyspace import create_app
from pyspace.extensions import db
from pyspace.models import DataCell, DataColumn, DataRow, DataTable, Run, Schedule, Secret, User
from pyspace.operations.backup import read_manifest, restore_backup, write_backup
from pyspace.sandbox import shutdown_runner
from pyspace.secrets import vault
from tests.conftest import PASSWORD, Accounts

USERS = ("alice", "bob", "carol")
WRITERS = 10


def site_config(instance: Path) -> dict:
    # No SECRETS_KEY or SECRET_KEY: the site keeps its keys in instance/, as a real one does.
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(instance),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'pyspace.sqlite'}",
        "RATELIMIT_ENABLED": False,
        "RUN_POOL_SIZE": 0,
    }


@pytest.fixture
def make_site(tmp_path):
    apps = []

    def make(name: str, migrate: bool = True):
        app = create_app(site_config(tmp_path / name))
        if migrate:
            with app.app_context():
                flask_migrate.upgrade()
        apps.append(app)
        return app

    yield make
    for app in apps:
        shutdown_runner(app)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def fill_site(app) -> dict[str, str]:
    """Accounts, widgets, secrets, a table with rows, schedules and run history; returns the
    secret values by secret name."""
    values = {}
    for username in USERS:
        accounts = Accounts(app.test_client())
        assert accounts.register(username).status_code == 302
        accounts.create_widget(title=f"{username}'s widget")
    with app.app_context():
        for user in db.session.scalars(select(User)):
            widget_id = user.widgets[0].id
            for n in range(3):
                name = f"{user.username}_key_{n}"
                values[name] = f"value-of-{name}-" + "x" * n
                db.session.add(
                    Secret(
                        widget_id=widget_id,
                        name=name,
                        ciphertext=vault.encrypt_value(values[name]),
                        fingerprint=vault.fingerprint(values[name]),
                    )
                )
            db.session.add(Schedule(widget_id=widget_id, task_name="tick", every="hour"))
            for n in range(5):
                db.session.add(Run(widget_id=widget_id, kind="run", status="ok", stdout=f"{n}"))
            table = DataTable(widget_id=widget_id, name="readings")
            table.columns.append(DataColumn(name="n", type="number"))
            db.session.add(table)
        db.session.commit()
    return values


def write_rows(app, stopping: threading.Event, written: list[int]) -> None:
    """One client writing rows (a row and its cell per transaction) until told to stop."""
    with app.app_context():
        column = db.session.scalars(select(DataColumn)).first()
        n = 0
        while not stopping.is_set():
            try:
                row = DataRow(table_id=column.table_id)
                db.session.add(row)
                db.session.flush()
                db.session.add(DataCell(row_id=row.id, column_id=column.id, number_value=n))
                db.session.commit()
                written.append(row.id)
                n += 1
            except OperationalError:  # locked for longer than the busy timeout: try again
                db.session.rollback()
        db.session.remove()


def restored_counts(app) -> dict[str, int]:
    from pyspace.operations.backup import _counts_and_revision

    with app.app_context():
        counts, _ = _counts_and_revision(db.session.connection())
    return counts


def test_a_backup_under_load_restores_into_a_fresh_instance(make_site, tmp_path):
    original = make_site("original")
    values = fill_site(original)
    stopping = threading.Event()
    written: list[list[int]] = [[] for _ in range(WRITERS)]
    writers = [
        threading.Thread(target=write_rows, args=(original, stopping, written[i]))
        for i in range(WRITERS)
    ]
    for writer in writers:
        writer.start()
    try:
        deadline = time.time() + 30
        while sum(map(len, written)) < 50 and time.time() < deadline:
            time.sleep(0.05)
        before_backup = {row_id for rows in written for row_id in list(rows)}
        manifest, key_file = write_backup(original, tmp_path / "site.tar.gz", with_keys=True)
        # The writers go on after the snapshot: none of that may be torn into it.
        time.sleep(0.2)
    finally:
        stopping.set()
        for writer in writers:
            writer.join(30)
    assert len(before_backup) >= 50
    assert manifest["counts"]["data_rows"] >= len(before_backup)
    with original.app_context():
        assert db.session.scalar(select(func.count()).select_from(DataRow)) > len(before_backup)

    archive = tmp_path / "site.tar.gz"
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        assert sorted(names) == ["database.sqlite", "manifest.json"]
    assert manifest["schema_revision"] and manifest["release"]
    keys = json.loads(key_file.read_text())
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    archive_bytes = archive.read_bytes()
    assert keys["secrets_key"].encode() not in archive_bytes

    fresh = make_site("restored", migrate=False)
    report = restore_backup(fresh, archive, keys_file=key_file)
    assert report.secrets_unreadable == 0 and report.secrets_checked == len(values)
    assert report.schedules_disabled == len(USERS)
    assert any("never runs them beside the original" in m for m in report.messages)
    assert restored_counts(fresh) == manifest["counts"]

    with fresh.app_context():
        restored_rows = set(db.session.scalars(select(DataRow.id)))
        assert before_backup <= restored_rows
        # Every row came with its cell: no torn transaction.
        assert db.session.scalar(select(func.count()).select_from(DataCell)) == len(restored_rows)
        schedules = db.session.scalars(select(Schedule)).all()
        assert len(schedules) == len(USERS) and not any(s.enabled for s in schedules)
        secrets = db.session.scalars(select(Secret)).all()
        assert {s.name: vault.decrypt_value(s.ciphertext) for s in secrets} == values
        assert db.session.scalar(select(func.count()).select_from(Run)) == 5 * len(USERS)
    for username in USERS:
        response = Accounts(fresh.test_client()).login(username, PASSWORD)
        assert response.status_code == 302, username


def test_restore_without_the_keys_says_how_many_secrets_do_not_decrypt(make_site, tmp_path):
    original = make_site("original")
    values = fill_site(original)
    write_backup(original, tmp_path / "site.tar.gz")
    fresh = make_site("restored", migrate=False)
    result = fresh.test_cli_runner().invoke(args=["site", "restore", str(tmp_path / "site.tar.gz")])
    assert result.exit_code == 1
    assert f"{len(values)} of {len(values)} secret value(s) can't be decrypted" in result.output
    assert "--keys" in result.output
    assert "schedule(s) disabled" in result.output


def test_restore_refuses_to_overwrite_a_site_without_force(make_site, tmp_path):
    original = make_site("original")
    fill_site(original)
    write_backup(original, tmp_path / "site.tar.gz")
    other = make_site("other")
    Accounts(other.test_client()).register("dave")
    runner = other.test_cli_runner()
    refused = runner.invoke(args=["site", "restore", str(tmp_path / "site.tar.gz")])
    assert refused.exit_code != 0 and "--force" in refused.output
    with other.app_context():
        assert db.session.scalars(select(User.username)).all() == ["dave"]


def test_backup_command_warns_that_the_key_file_reads_every_secret(make_site, tmp_path):
    site = make_site("original")
    fill_site(site)
    result = site.test_cli_runner().invoke(
        args=["site", "backup", str(tmp_path / "b.tar.gz"), "--with-keys"]
    )
    assert result.exit_code == 0, result.output
    assert "anyone who has both files can read every secret" in result.output
    assert (tmp_path / "b.tar.gz.keys").exists()
    assert read_manifest(tmp_path / "b.tar.gz")["counts"]["users"] == len(USERS)


def test_a_damaged_archive_is_refused(make_site, tmp_path):
    site = make_site("original")
    fill_site(site)
    manifest, _ = write_backup(site, tmp_path / "b.tar.gz")
    manifest["files"]["database.sqlite"] = "0" * 64
    with tarfile.open(tmp_path / "b.tar.gz") as tar:
        tar.extractall(tmp_path / "x", filter="data")
    (tmp_path / "x" / "manifest.json").write_text(json.dumps(manifest))
    with tarfile.open(tmp_path / "bad.tar.gz", "w:gz") as tar:
        for name in ("manifest.json", "database.sqlite"):
            tar.add(tmp_path / "x" / name, arcname=name)
    fresh = make_site("restored", migrate=False)
    result = fresh.test_cli_runner().invoke(args=["site", "restore", str(tmp_path / "bad.tar.gz")])
    assert result.exit_code != 0 and "checksum" in result.output


def test_daily_backups_keep_the_newest_few(make_site, tmp_path):
    from pyspace.operations.scheduled import DAY_SECONDS, backup_if_due, backups_in

    site = make_site("original")
    fill_site(site)
    folder = tmp_path / "backups"
    site.config.update(BACKUP_DIR=str(folder), BACKUP_KEEP=2)
    start = time.time()
    assert backup_if_due(site, now=start) is not None
    assert backup_if_due(site, now=start + 60) is None  # not a day yet
    for day in (1, 2, 3):
        made = backup_if_due(site, now=start + day * DAY_SECONDS + 1)
        assert made is not None
        os.utime(made, (start + day * DAY_SECONDS + 1,) * 2)
    kept = backups_in(folder)
    assert len(kept) == 2 and kept[-1] == made
    assert read_manifest(kept[-1])["counts"]["users"] == len(USERS)


def test_a_backup_of_a_previous_release_restores_into_this_one(tmp_path):
    """A site still on the first schema, backed up, restores here and is migrated to today's."""
    from tests.test_upgrade_from_previous_release import (
        PREVIOUS_RELEASE,
        SECRET_NAME,
        SECRET_VALUE,
        WIDGET_ID,
        _app,
        _fill_as_previous_release,
        _flask_db,
    )

    old_folder = tmp_path / "old"
    old_folder.mkdir(mode=0o700)
    key = vault.new_key()
    (old_folder / "secrets.key").write_text(key + "\n")
    old = _app(old_folder)
    _flask_db(old, "upgrade", PREVIOUS_RELEASE)
    _fill_as_previous_release(old_folder / "pyspace.sqlite", key)
    manifest, key_file = write_backup(old, tmp_path / "old.tar.gz", with_keys=True)
    assert manifest["schema_revision"] == PREVIOUS_RELEASE

    fresh = _app(tmp_path / "new")
    report = restore_backup(fresh, tmp_path / "old.tar.gz", keys_file=key_file)
    assert report.schema_revision != PREVIOUS_RELEASE
    assert report.secrets_checked == 1 and report.secrets_unreadable == 0
    assert Accounts(fresh.test_client()).login("olduser", PASSWORD).status_code == 302
    from pyspace.secrets.lookup import value_for_run

    with fresh.app_context():
        assert value_for_run(WIDGET_ID, SECRET_NAME, 1) == SECRET_VALUE
        db.session.remove()
        db.engine.dispose()
    with old.app_context():
        db.engine.dispose()


def _postgres_databases(names):
    """Fresh databases beside the suite's PostgreSQL test database; their URLs."""
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(os.environ["PYSPACE_TEST_DATABASE_URL"])
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        for name in names:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{name}"')
    return [base.set(database=name).render_as_string(hide_password=False) for name in names]


@pytest.mark.skipif(
    not os.environ.get("PYSPACE_TEST_DATABASE_URL", "").startswith("postgresql")
    or not shutil.which("pg_dump"),
    reason="needs PYSPACE_TEST_DATABASE_URL (PostgreSQL) and pg_dump",
)
def test_a_postgresql_backup_under_load_restores_into_an_empty_database(tmp_path):
    source_url, target_url = _postgres_databases(["pyspace_ops_source", "pyspace_ops_target"])
    config = site_config(tmp_path / "original")
    original = create_app({**config, "SQLALCHEMY_DATABASE_URI": source_url})
    with original.app_context():
        flask_migrate.upgrade(revision="heads")
    values = fill_site(original)
    stopping = threading.Event()
    written: list[int] = []
    writers = [
        threading.Thread(target=write_rows, args=(original, stopping, written)) for _ in range(4)
    ]
    for writer in writers:
        writer.start()
    try:
        assert wait_until(lambda: len(written) >= 20)
        before_backup = set(written)
        manifest, key_file = write_backup(original, tmp_path / "pg.tar.gz", with_keys=True)
    finally:
        stopping.set()
        for writer in writers:
            writer.join(30)
    assert manifest["database"] == "postgresql"
    fresh_config = site_config(tmp_path / "restored")
    fresh = create_app({**fresh_config, "SQLALCHEMY_DATABASE_URI": target_url})
    report = restore_backup(fresh, tmp_path / "pg.tar.gz", keys_file=key_file)
    assert report.secrets_unreadable == 0 and report.secrets_checked == len(values)
    assert restored_counts(fresh) == manifest["counts"]
    with fresh.app_context():
        assert before_backup <= set(db.session.scalars(select(DataRow.id)))
        assert not any(db.session.scalars(select(Schedule.enabled)))
        db.session.remove()
        db.engine.dispose()
    with original.app_context():
        db.session.remove()
        db.engine.dispose()


def wait_until(predicate, timeout: float = 30) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_restore_refuses_a_file_that_is_not_a_key_file(make_site, tmp_path):
    original = make_site("original")
    fill_site(original)
    write_backup(original, tmp_path / "site.tar.gz")
    (tmp_path / "not-keys").write_text("hello")
    fresh = make_site("restored", migrate=False)
    result = fresh.test_cli_runner().invoke(
        args=[
            "site",
            "restore",
            str(tmp_path / "site.tar.gz"),
            "--keys",
            str(tmp_path / "not-keys"),
        ]
    )
    assert result.exit_code != 0 and "is not a key file" in result.output
