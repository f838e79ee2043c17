"""`flask sandbox check`, run by `./manage.sh serve` before the server starts: makes the
sandbox's world-readable files (`install.py`), starts one real sandbox with the site's settings,
and exits non-zero with the cause and the fix when widget code couldn't run. The runs area
registers the command (`runs/__init__.py`)."""

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from . import runner_for, shutdown_runner

sandbox_cli = AppGroup("sandbox", help="The sandbox widget code runs in.")


@sandbox_cli.command("check")
def check() -> None:
    """Make the sandbox's copy of its files, start one sandbox, report what stops it."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    # One sandbox proves the host works; filling a warm pool here would be thrown away.
    app.config["RUN_POOL_SIZE"] = 0
    runner = runner_for(app)
    try:
        if runner.problem is None and runner.host is not None:
            click.echo(f"Sandboxes start: {runner.host.describe()}")
            if runner.host.cgroups is None:
                click.echo(f"WARNING: {runner.host.cgroups_warning}", err=True)
            return
        if runner.settings.allow_unsandboxed:
            click.echo(f"WARNING: widget code will run UNSANDBOXED: {runner.problem}", err=True)
            return
        click.echo(f"py.space can't run widget code safely here: {runner.problem}", err=True)
        sys.exit(1)
    finally:
        shutdown_runner(app)
