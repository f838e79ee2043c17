"""Runs work wherever the checkout lives, and a sandbox that can't start says why.

As root, sandboxes run as uid 65534, which can't read a checkout in a 0700 directory such as
/root: the runtime and the packages are served from a world-readable copy the setup makes.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pyspace.sandbox.host import HostProblemError, diagnose, prepare_host
from pyspace.sandbox.settings import PROJECT_DIR

# The project as a fresh checkout has it (no virtualenv, database or caches).
NOT_IN_A_CHECKOUT = shutil.ignore_patterns(
    ".git", ".venv", ".sandbox", "instance", "test-artifacts", "__pycache__", "*.pyc", "results"
)

RUN_A_WIDGET = """
import sys
from pyspace import create_app
from pyspace.extensions import db
from pyspace.models import User, Widget
from pyspace.sandbox import runner_for

app = create_app({
    "INSTANCE_PATH": sys.argv[1],
    "SQLALCHEMY_DATABASE_URI": "sqlite:///" + sys.argv[1] + "/pyspace.sqlite",
    "SECRET_KEY": "checkout-test",
    "RUN_POOL_SIZE": 0,
})
with app.app_context():
    db.create_all()
    user = User(username="teacher")
    user.set_password("correct horse battery")
    db.session.add(user)
    db.session.commit()
    code = "import requests\\nprint('hello from', __name__)\\n"
    widget = Widget(owner_id=user.id, title="hello", server_code=code)
    db.session.add(widget)
    db.session.commit()
    runner = runner_for(app)
    print("problem:", runner.problem)
    result = runner.run(widget.id, code, user.id)
    print("ok:", result.ok, result.error)
    print("stdout:", result.stdout.strip())
    runner.shutdown()
"""


@pytest.fixture
def private_checkout(tmp_path) -> Path:
    """A copy of the project inside a directory only its owner may enter (like /root)."""
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    home.chmod(0o700)
    checkout = home / "pyspace"
    shutil.copytree(PROJECT_DIR, checkout, ignore=NOT_IN_A_CHECKOUT)
    packages = PROJECT_DIR / ".sandbox" / "site-packages"
    if packages.is_dir():
        shutil.copytree(packages, checkout / ".sandbox" / "site-packages")
    return checkout


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs sandboxes as another user")
def test_a_widget_runs_from_a_checkout_in_a_private_directory(private_checkout, tmp_path):
    instance = private_checkout / "instance"
    instance.mkdir()
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("PYSPACE_")
    }
    environment["PYTHONPATH"] = str(private_checkout)
    completed = subprocess.run(
        [sys.executable, "-c", RUN_A_WIDGET, str(instance)],
        cwd=private_checkout,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "problem: None" in completed.stdout, completed.stdout
    assert "stdout: hello from __main__" in completed.stdout, completed.stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs sandboxes as another user")
def test_a_share_directory_the_sandbox_user_cant_reach_is_named_with_the_fix(tmp_path):
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    private.chmod(0o700)
    with pytest.raises(HostProblemError) as problem:
        prepare_host(
            str(PROJECT_DIR / "sandbox_runtime"),
            str(PROJECT_DIR / ".sandbox" / "site-packages"),
            str(private / "share"),
        )
    message = str(problem.value)
    assert f"{private} has mode 700" in message
    assert "PYSPACE_SANDBOX_SHARE_DIR" in message and "bubblewrap" not in message


@pytest.mark.parametrize(
    ("stderr", "cause"),
    [
        (
            "bwrap: Can't find source path /root/pyspace/sandbox_runtime: Permission denied",
            "can't read /root/pyspace/sandbox_runtime",
        ),
        (
            "bwrap: No permissions to creating new namespace, likely because the kernel does "
            "not allow non-privileged user namespaces.",
            "kernel.unprivileged_userns_clone",
        ),
        ("bwrap: Unknown option --disable-userns", "too old"),
    ],
    ids=["unreadable-runtime", "user-namespaces-off", "old-bubblewrap"],
)
def test_a_sandbox_that_cant_start_is_explained_by_its_real_cause(stderr, cause):
    message = diagnose(stderr, 1)
    assert cause in message
    assert "not installed" not in message
