"""Backups that restore: one tar.gz holding a consistent database snapshot and a manifest.

The snapshot is taken while the site runs: SQLite's online backup API copies the database page
by page under SQLite's own locking (a copy of the file while a writer writes can be torn), and
on PostgreSQL `pg_dump` dumps a snapshot exported from the transaction that counted the rows,
so the manifest's counts are the dump's counts.

The keys are never in the archive: whoever has both the archive and the secrets key can read
every secret. `--with-keys` writes them to a separate file, to be kept somewhere else.

Restoring refuses a database that already holds a site (unless forced), runs the migrations,
disables every schedule (a restored copy must never fire beside the original) and tries every
secret's ciphertext against the key it now has, to say at once whether the key is the right one.
"""

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection, make_url

from .. import page_cache
from ..extensions import db
from ..secrets import vault

FORMAT = "pyspace-backup-1"
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite"
PG_MEMBER = "database.pgdump"
PROJECT = Path(__file__).resolve().parents[2]
KEYS_WARNING = (
    "The key file can decrypt every secret in the backup: anyone who has both files can read "
    "every secret. Keep it apart from the archive (another disk, a password manager)."
)


class BackupError(RuntimeError):
    """A backup or restore that can't go ahead; the message says why and what to do."""


@dataclass
class RestoreReport:
    schema_revision: str | None
    counts: dict[str, int]
    schedules_disabled: int
    secrets_checked: int
    secrets_unreadable: int
    messages: list[str] = field(default_factory=list)


def release() -> str:
    """This code's release: the newest heading of CHANGELOG.md ("Unreleased" names the last
    dated release it follows)."""
    try:
        lines = (PROJECT / "CHANGELOG.md").read_text().splitlines()
    except OSError:
        return "unknown"
    headings = [line[3:].strip() for line in lines if line.startswith("## ")]
    if not headings:
        return "unknown"
    if headings[0].lower() == "unreleased" and len(headings) > 1:
        return f"unreleased, after {headings[1]}"
    return headings[0]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _counts_and_revision(connection: Connection) -> tuple[dict[str, int], str | None]:
    names = sorted(inspect(connection).get_table_names())
    counts = {
        name: int(connection.execute(text(f'SELECT COUNT(*) FROM "{name}"')).scalar_one())
        for name in names
        if name != "alembic_version"
    }
    revision = None
    if "alembic_version" in names:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return counts, revision


def _is_sqlite(app: Flask) -> bool:
    return make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() == "sqlite"


def _sqlite_path(app: Flask) -> str:
    path = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database
    if not path or path == ":memory:":
        raise BackupError("The database is an in-memory SQLite database: nothing to back up.")
    return path


def _snapshot_sqlite(app: Flask, workdir: Path) -> tuple[Path, dict[str, int], str | None]:
    target = workdir / SQLITE_MEMBER
    source = sqlite3.connect(_sqlite_path(app), timeout=30)
    copy = sqlite3.connect(target)
    try:
        # Copies every page in one step, holding a read lock: a consistent snapshot, however
        # many writers there are (they wait, at most the copy's time, as for any reader).
        source.backup(copy)
    finally:
        copy.close()
        source.close()
    engine = create_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as connection:
            counts, revision = _counts_and_revision(connection)
    finally:
        engine.dispose()
    return target, counts, revision


def _pg_command_url(app: Flask) -> str:
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _snapshot_postgres(app: Flask, workdir: Path) -> tuple[Path, dict[str, int], str | None]:
    if shutil.which("pg_dump") is None:
        raise BackupError("pg_dump is not installed (Debian: apt-get install postgresql-client).")
    target = workdir / PG_MEMBER
    with app.app_context():
        engine = db.engine.execution_options(isolation_level="REPEATABLE READ")
        with engine.connect() as connection, connection.begin():
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")
            snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
            counts, revision = _counts_and_revision(connection)
            # pg_dump reads the very snapshot the counts came from, while this transaction lasts.
            result = subprocess.run(
                [
                    "pg_dump",
                    "--format=custom",
                    "--no-owner",
                    f"--snapshot={snapshot}",
                    f"--file={target}",
                    _pg_command_url(app),
                ],
                capture_output=True,
                text=True,
                check=False,
            )
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    return target, counts, revision


def current_keys(app: Flask) -> dict[str, str]:
    """The keys a restored site needs, as `--with-keys` writes them."""
    with app.app_context():
        secrets_keys = vault.current_keys()
    return {"secrets_key": ",".join(secrets_keys), "flask_secret_key": app.config["SECRET_KEY"]}


def write_backup(app: Flask, archive: Path, with_keys: bool = False) -> tuple[dict, Path | None]:
    """Write the archive (and, with `with_keys`, `<archive>.keys`); return (manifest, key file)."""
    archive = Path(archive).resolve()
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=archive.parent, prefix=".backup-") as tmp:
        workdir = Path(tmp)
        if _is_sqlite(app):
            snapshot, counts, revision = _snapshot_sqlite(app, workdir)
        else:
            snapshot, counts, revision = _snapshot_postgres(app, workdir)
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "release": release(),
            "database": "sqlite" if snapshot.name == SQLITE_MEMBER else "postgresql",
            "schema_revision": revision,
            "counts": counts,
            "files": {snapshot.name: _sha256(snapshot)},
            "keys_included": False,
        }
        partial = workdir / "archive.tar.gz"
        with tarfile.open(partial, "w:gz") as tar:
            data = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            info.mtime = int(datetime.now(UTC).timestamp())
            tar.addfile(info, io.BytesIO(data))
            tar.add(snapshot, arcname=snapshot.name)
        # Password hashes and ciphertext: readable by the site's user only.
        os.chmod(partial, 0o600)
        os.replace(partial, archive)
    key_file = None
    if with_keys:
        key_file = archive.with_name(archive.name + ".keys")
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            json.dump(current_keys(app), file, indent=2)
    return manifest, key_file


def read_manifest(archive: Path) -> dict:
    with tarfile.open(archive, "r:gz") as tar:
        member = tar.extractfile(MANIFEST)
        if member is None:
            raise BackupError(f"{archive} has no {MANIFEST}: not a py.space backup.")
        manifest = json.load(member)
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{archive} is not a py.space backup ({manifest.get('format')!r}).")
    return manifest


def _extract(archive: Path, manifest: dict, workdir: Path) -> Path:
    (name,) = manifest["files"]
    with tarfile.open(archive, "r:gz") as tar:
        tar.extract(name, workdir, filter="data")
    path = workdir / name
    if _sha256(path) != manifest["files"][name]:
        raise BackupError(f"{name} in {archive} does not match its checksum: the file is damaged.")
    return path


def _site_exists(app: Flask) -> bool:
    with app.app_context():
        return "users" in inspect(db.engine).get_table_names()


def _install_keys(app: Flask, keys_file: Path, messages: list[str]) -> None:
    try:
        keys = json.loads(Path(keys_file).read_text())
        secrets_key, session_key = keys["secrets_key"], keys["flask_secret_key"]
    except (OSError, ValueError, KeyError, TypeError):
        raise BackupError(
            f"{keys_file} is not a key file written by `backup --with-keys`."
        ) from None
    if app.config.get("SECRETS_KEY"):
        messages.append(
            "PYSPACE_SECRETS_KEY is set, so it is used, not the key file's secrets key."
        )
    else:
        path = Path(app.config["SECRETS_KEY_FILE"])
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_private(path, secrets_key + "\n")
    _write_private(Path(app.instance_path) / "flask_secret_key", session_key + "\n")
    vault.init_app(app)  # read the key just written


def _write_private(path: Path, content: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(content)


def _restore_sqlite(app: Flask, snapshot: Path) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    source = sqlite3.connect(snapshot)
    target = sqlite3.connect(_sqlite_path(app), timeout=30)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def _restore_postgres(app: Flask, snapshot: Path, force: bool) -> None:
    if shutil.which("pg_restore") is None:
        raise BackupError(
            "pg_restore is not installed (Debian: apt-get install postgresql-client)."
        )
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    command = ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={_pg_command_url(app)}"]
    if force:
        command += ["--clean", "--if-exists"]
    result = subprocess.run([*command, str(snapshot)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()}")


def restore_backup(
    app: Flask, archive: Path, keys_file: Path | None = None, force: bool = False
) -> RestoreReport:
    """Restore `archive` into the app's database; see the module's docstring."""
    import flask_migrate

    from ..models import Schedule, Secret

    archive = Path(archive)
    manifest = read_manifest(archive)
    if _site_exists(app) and not force:
        raise BackupError(
            "This instance already has a site in its database: restoring would replace it. "
            "Restore into an empty instance, or add --force to overwrite it."
        )
    wanted = "sqlite" if _is_sqlite(app) else "postgresql"
    if manifest["database"] != wanted:
        raise BackupError(
            f"The backup is of a {manifest['database']} database; this site uses {wanted}."
        )
    messages: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        snapshot = _extract(archive, manifest, Path(tmp))
        if keys_file is not None:
            _install_keys(app, keys_file, messages)
        if wanted == "sqlite":
            _restore_sqlite(app, snapshot)
        else:
            _restore_postgres(app, snapshot, force)
    with app.app_context():
        if manifest.get("schema_revision"):
            # Brings a backup of an earlier release up to this one's schema.
            flask_migrate.upgrade(revision="heads")
        # A restored copy must never fire a schedule beside the original site.
        disabled = (
            db.session.query(Schedule).filter(Schedule.enabled.is_(True)).update({"enabled": False})
        )
        db.session.commit()
        # Pages stored for anonymous visitors showed the site this restore replaced.
        page_cache.new_generation()
        messages.append(
            f"{disabled} schedule(s) disabled, so this copy never runs them beside the original "
            "site; an admin or each owner enables them again."
        )
        checked = unreadable = 0
        for (ciphertext,) in db.session.query(Secret.ciphertext).filter(
            Secret.ciphertext.is_not(None)
        ):
            checked += 1
            try:
                vault.decrypt_value(ciphertext)
            except vault.VaultKeyError:
                unreadable += 1
        if unreadable:
            messages.append(
                f"{unreadable} of {checked} secret value(s) can't be decrypted: the secrets key "
                "here is not the one they were stored with. Restore again with --keys KEYFILE "
                "(the file `backup --with-keys` wrote), or put the original key in "
                "PYSPACE_SECRETS_KEY."
            )
        else:
            messages.append(f"All {checked} secret value(s) decrypt with this site's key.")
        counts, revision = _counts_and_revision(db.session.connection())
        db.session.commit()
    return RestoreReport(revision, counts, disabled, checked, unreadable, messages)
