"""Helpers for the runner's tests: small limits (fast tests), secrets, and runs over HTTP."""

from pyspace.extensions import db
from pyspace.models import Secret
from pyspace.secrets import vault

# Small enough that the escape tests finish in about a second each.
SMALL_LIMITS = {
    "RUN_WALL_SECONDS": 2,
    "RUN_CPU_SECONDS": 1,
    "RUN_MEMORY_MB": 256,
    "RUN_MAX_PROCESSES": 8,
    "RUN_OUTPUT_BYTES": 64 * 1024,
    "RUN_SCRATCH_MB": 4,
    "RUN_POOL_SIZE": 0,
}
# For code that ends by itself (tests of what works, not of a limit): a cold start and
# `import requests` can take more than 2 s of wall time on a loaded 2-core machine.
ROOMY_LIMITS = {**SMALL_LIMITS, "RUN_WALL_SECONDS": 30, "RUN_CPU_SECONDS": 5}


def add_secret(app, widget_id: str, name: str, value: str | None) -> None:
    """Store a secret for `widget_id` (None: blank) the way the Secrets panel would."""
    with app.app_context():
        db.session.add(
            Secret(
                widget_id=widget_id,
                name=name,
                ciphertext=vault.encrypt_value(value) if value else None,
            )
        )
        db.session.commit()


def run_json(accounts, widget_id: str) -> dict:
    """POST /widgets/<id>/run asking for JSON; returns the decoded answer (asserting 200)."""
    response = accounts.post(f"/widgets/{widget_id}/run", headers={"Accept": "application/json"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def run_code(app, code: str):
    """Run `code` once as a new widget's server code, in a cold sandbox; returns the RunResult."""
    from pyspace.models import User, Widget
    from pyspace.sandbox import runner_for

    with app.app_context():
        owner = db.session.scalar(db.select(User).filter_by(username="runner"))
        if owner is None:
            owner = User(username="runner")
            owner.set_password("correct horse battery")
            db.session.add(owner)
            db.session.commit()
        widget = Widget(owner_id=owner.id, title="limits", server_code=code)
        db.session.add(widget)
        db.session.commit()
        return runner_for(app).run(widget.id, code, owner.id, viewer_is_owner=True)


def confinement(app):
    """The app's runner's host (runtime copy, seccomp filter, cgroups), or a pytest skip
    naming what this machine lacks."""
    import pytest

    from pyspace.sandbox import runner_for

    runner = runner_for(app)
    if runner.problem:
        pytest.skip(f"sandboxes can't start on this machine: {runner.problem}")
    return runner.host
