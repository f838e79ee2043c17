"""`flask sandbox check` and `flask sandbox serve`, the commands `./manage.sh` runs. The runs
area registers them (`runs/__init__.py`).

- `check`, before the server starts: makes the sandbox's world-readable files (`install.py`),
  starts one real sandbox with the site's settings, and exits non-zero with the cause and the
  fix when widget code couldn't run.
- `serve`: the machine's sandbox service (`service.py`), which keeps the warm pool and the fair
  queues for every web worker and queue consumer.
"""

import faulthandler
import logging
import os
import signal
import sys

import click
from flask import current_app
from flask.cli import AppGroup

from ..log_format import configure_logging
from . import LocalRunner, runner_for, shutdown_runner
from .service import serve as serve_leases

sandbox_cli = AppGroup("sandbox", help="The sandbox widget code runs in.")


@sandbox_cli.command("check")
def check() -> None:
    """Make the sandbox's copy of its files, start one sandbox, report what stops it."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    # One sandbox proves the host works; filling a warm pool here would be thrown away. The
    # check starts it here, not in a sandbox service.
    app.config.update(RUN_POOL_SIZE=0, SANDBOX_SERVICE="")
    runner = runner_for(app)
    assert isinstance(runner, LocalRunner)
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


@sandbox_cli.command("serve")
@click.option(
    "--socket",
    "path",
    default=None,
    help="the Unix socket to listen on (default: SANDBOX_SERVICE, else instance/sandbox.sock)",
)
def serve(path: str | None) -> None:
    """Run the machine's sandbox service: its warm pool fills now."""
    configure_logging(logging.INFO)  # text, or JSON lines with PYSPACE_LOG_FORMAT=json
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    path = (
        path or app.config.get("SANDBOX_SERVICE") or os.path.join(app.instance_path, "sandbox.sock")
    )
    # This process is the service: its runner starts the sandboxes itself.
    app.config["SANDBOX_SERVICE"] = ""
    runner = runner_for(app)
    assert isinstance(runner, LocalRunner)
    # Stopped by SIGTERM (manage.sh, systemd): the pool's sandboxes are killed and the socket
    # removed on the way out. SIGUSR1 prints where every thread is, for a service that hangs.
    signal.signal(signal.SIGTERM, _exit_quietly)
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    try:
        serve_leases(runner, path)
    except OSError as error:
        click.echo(f"The sandbox service can't start: {error}", err=True)
        sys.exit(1)
    finally:
        shutdown_runner(app)


def _exit_quietly(_signal_number, _frame) -> None:
    raise SystemExit(0)
