"""`flask --app app config show|table`: the effective settings, and the README's table."""

import click
from flask import current_app
from flask.cli import AppGroup

from .config import effective_settings, markdown_table

config_cli = AppGroup("config", help="Show py.space's settings.")


@config_cli.command("show")
def show_settings() -> None:
    """Print every setting's effective value (keys and passwords masked)."""
    rows = effective_settings(current_app.config)
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        click.echo(f"{name.ljust(width)}  {value}")


@config_cli.command("table")
def print_table() -> None:
    """Print the settings as the README's Markdown table."""
    click.echo(markdown_table())
