"""`flask site …`: operator commands (backup, restore, systemd units). `./manage.sh backup`,
`restore` and `install-service` call them."""

from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from .backup import KEYS_WARNING, BackupError, restore_backup, write_backup
from .service import ServicePlan, write_units

site_cli = AppGroup("site", help="Operate the site: backups, restores and service units.")


def default_archive_name() -> str:
    return f"pyspace-backup-{datetime.now(UTC):%Y%m%d-%H%M%S}.tar.gz"


@site_cli.command("backup")
@click.argument("archive", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--with-keys",
    is_flag=True,
    help="Also write the secrets key and session key to ARCHIVE.keys (keep it elsewhere).",
)
def backup_command(archive: Path | None, with_keys: bool) -> None:
    """Write a backup (database snapshot + manifest) to ARCHIVE, safely while the site runs."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    archive = archive or Path(default_archive_name())
    try:
        manifest, key_file = write_backup(app, archive, with_keys=with_keys)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    rows = sum(manifest["counts"].values())
    click.echo(
        f"Backup written to {archive}: {rows} rows in {len(manifest['counts'])} tables, "
        f"schema {manifest['schema_revision'] or 'unknown'}, release {manifest['release']}."
    )
    if key_file is None:
        click.echo(
            "The keys are not in it: a restore needs this site's secrets key "
            "(instance/secrets.key or PYSPACE_SECRETS_KEY) to read secrets."
        )
    else:
        click.echo(f"Keys written to {key_file}.")
        click.secho("WARNING: " + KEYS_WARNING, fg="yellow", err=True)


@site_cli.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--keys",
    "keys_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The key file `backup --with-keys` wrote: installs its keys in this instance.",
)
@click.option("--force", is_flag=True, help="Overwrite a site already in this instance.")
def restore_command(archive: Path, keys_file: Path | None, force: bool) -> None:
    """Restore ARCHIVE into this (empty) instance, migrate it and disable its schedules."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        report = restore_backup(app, archive, keys_file=keys_file, force=force)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"Restored {archive}: {sum(report.counts.values())} rows, "
        f"schema {report.schema_revision or 'unknown'}."
    )
    for message in report.messages:
        click.echo(message)
    if report.secrets_unreadable:
        raise SystemExit(1)


@site_cli.command("service-units")
@click.option("--dir", "folder", default="/etc/systemd/system", type=click.Path(path_type=Path))
@click.option("--user", default="pyspace", help="The system user the services run as.")
@click.option("--instance", default="/var/lib/pyspace", type=click.Path(path_type=Path))
@click.option("--bind", default="127.0.0.1:5000", help="Where gunicorn listens.")
def service_units(folder: Path, user: str, instance: Path, bind: str) -> None:
    """Write the systemd units of the web server and the queue consumer."""
    checkout = Path(__file__).resolve().parents[2]
    plan = ServicePlan(
        checkout=checkout, venv=checkout / ".venv", user=user, instance=instance, bind=bind
    )
    for path in write_units(plan, folder):
        click.echo(f"wrote {path}")
