"""`flask site …`: operator commands (backup and restore)."""

from flask.cli import AppGroup

site_cli = AppGroup("site", help="Operate the site: backups and restores.")
