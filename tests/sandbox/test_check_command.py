"""`flask sandbox check` (what `./manage.sh serve` runs before the server starts) starts a real
sandbox with the site's settings and says so; where none can start it exits non-zero with why."""

from pyspace import create_app


def test_sandbox_check_reports_that_sandboxes_start(app_config):
    app = create_app(app_config)
    result = app.test_cli_runner().invoke(args=["sandbox", "check"])
    assert result.exit_code == 0, result.output
    assert "Sandboxes start: bubblewrap" in result.output
    assert "runner" not in app.extensions  # the check's runner is shut down with its sandbox


def test_sandbox_check_fails_with_the_cause_when_no_sandbox_can_start(app_config, monkeypatch):
    def no_user_namespaces(host, limits):
        return "user namespaces are switched off in this kernel"

    monkeypatch.setattr("pyspace.sandbox.bubblewrap_problem", no_user_namespaces)
    app = create_app(app_config)
    result = app.test_cli_runner().invoke(args=["sandbox", "check"])
    assert result.exit_code == 1
    assert "py.space can't run widget code safely here: user namespaces" in result.output
