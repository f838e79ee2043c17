"""`flask site service-units` writes systemd units that `systemd-analyze verify` accepts."""

import shutil
import subprocess

import pytest

from pyspace import create_app


def test_service_units_run_as_their_own_user_with_delegated_cgroups(cli_runner, tmp_path):
    result = cli_runner.invoke(args=["site", "service-units", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    sandboxes = (tmp_path / "pyspace-sandbox.service").read_text()
    web = (tmp_path / "pyspace-web.service").read_text()
    worker = (tmp_path / "pyspace-worker.service").read_text()
    for unit in (sandboxes, web, worker):
        assert "User=pyspace" in unit and "Delegate=yes" in unit
        assert "Restart=on-failure" in unit
        assert "Environment=PYSPACE_INSTANCE_PATH=/var/lib/pyspace" in unit
        assert "Environment=PYSPACE_SANDBOX_SERVICE=/var/lib/pyspace/sandbox.sock" in unit
        assert "WantedBy=multi-user.target" in unit
    assert "sandbox check" in sandboxes and "sandbox serve" in sandboxes
    assert "db upgrade" in web and "gunicorn" in web
    assert "tasks consumer" in worker
    # Both lease their sandboxes from the service: started after it, stopped with it.
    for unit in (web, worker):
        assert "BindsTo=pyspace-sandbox.service" in unit
        assert "pyspace-sandbox.service" in unit.split("After=")[1].splitlines()[0]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_systemd_analyze_verifies_the_written_units(cli_runner, tmp_path):
    cli_runner.invoke(args=["site", "service-units", "--dir", str(tmp_path)])
    result = subprocess.run(
        [
            "systemd-analyze",
            "verify",
            "--man=no",
            "pyspace-sandbox.service",
            "pyspace-web.service",
            "pyspace-worker.service",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_the_instance_folder_comes_from_pyspace_instance_path(tmp_path, monkeypatch):
    monkeypatch.setenv("PYSPACE_INSTANCE_PATH", str(tmp_path / "var-lib-pyspace"))
    app = create_app({"TESTING": True, "SECRETS_KEY": "", "RUN_POOL_SIZE": 0})
    assert app.instance_path == str(tmp_path / "var-lib-pyspace")
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("var-lib-pyspace/pyspace.sqlite")
