"""`flask site …`: operator commands (backup and restore). `./manage.sh backup|restore` call
them."""

from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from .backup import KEYS_WARNING, BackupError, restore_backup, write_backup

site_cli = AppGroup("site", help="Operate the site: backups and restores.")


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
