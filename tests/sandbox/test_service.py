"""The machine's sandbox service: web workers and queue consumers lease their sandboxes from one
process, which keeps the warm pool and the fair queues, so the per-account cap holds across
every process and a sandbox is never forked from a web process."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import pytest

from pyspace import create_app
from pyspace.extensions import db
from pyspace.models import Widget
from pyspace.sandbox import LocalRunner, runner_for, shutdown_runner
from pyspace.sandbox.service import SandboxService, ServiceRunner
from tests.sandbox.helpers import ROOMY_LIMITS, add_secret
from tests.sandbox.test_limits import HOLD_4_GIB_IN_MEMORY_FILES


@pytest.fixture
def socket_dir():
    # A Unix socket's path has at most 107 bytes: pytest's tmp_path can be longer.
    path = tempfile.mkdtemp(prefix="pyspace-svc-", dir="/tmp")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def service_limits():
    """Settings of the service's own app (a test parametrizes this to change them)."""
    return {}


@pytest.fixture
def service(app_config, socket_dir, service_limits):
    """A sandbox service (pool of 1) serving in a thread of this process, on its own app."""
    config = {**app_config, **ROOMY_LIMITS, "RUN_POOL_SIZE": 1, "RUN_PER_USER_CONCURRENT": 1}
    config.update(service_limits)
    config["INSTANCE_PATH"] = os.path.join(socket_dir, "service-instance")
    service_app = create_app(config)
    runner = runner_for(service_app)
    assert isinstance(runner, LocalRunner)
    if runner.problem:
        pytest.skip(f"sandboxes can't start on this machine: {runner.problem}")
    path = os.path.join(socket_dir, "sandbox.sock")
    served = SandboxService(runner, path)
    served.bind()
    threading.Thread(target=served.serve_forever, daemon=True).start()
    assert runner.pool is not None and runner.pool.wait_until_full(timeout=60)
    yield served
    served.close()
    shutdown_runner(service_app)


@pytest.fixture
def client_config(app_config, service):
    app_config.update(ROOMY_LIMITS, SANDBOX_SERVICE=service.path, RUN_PER_USER_CONCURRENT=1)
    return app_config


def _widget(app, owner_id: int, code: str) -> str:
    with app.app_context():
        widget = Widget(owner_id=owner_id, title="service", server_code=code)
        db.session.add(widget)
        db.session.commit()
        return widget.id


def _run(app, widget_id: str, actor_id: int, code: str):
    with app.app_context():
        return runner_for(app).run(widget_id, code, actor_id, viewer_is_owner=True)


def test_a_run_leased_from_the_service_prints_reads_a_secret_and_comes_warm(
    client_config, app, make_user
):
    owner = make_user()
    code = "import anvil.secrets\nprint('key is', anvil.secrets.get_secret('api_key'))"
    widget_id = _widget(app, owner, code)
    add_secret(app, widget_id, "api_key", "s3cret-value")
    with app.app_context():
        assert isinstance(runner_for(app), ServiceRunner)
    result = _run(app, widget_id, owner, code)
    assert result.ok, result.error
    # The secret was answered by this (client) process; the owner sees it masked.
    assert result.stdout == "key is ***\n"
    assert result.warm is True


def test_the_status_page_and_metrics_show_the_services_pool_before_any_run(client_config, app):
    from pyspace.operations.status import warm_pool_idle, warm_pool_size

    assert "runner" not in app.extensions
    assert warm_pool_size(app) == 1
    assert warm_pool_idle(app) == 1


def test_the_service_reports_exit_status_and_time_limit_as_a_local_run_does(
    client_config, app, make_user
):
    owner = make_user()
    exits = "import os\nprint('bye', flush=True)\nos._exit(3)"
    result = _run(app, _widget(app, owner, exits), owner, exits)
    assert result.stdout == "bye\n"
    assert result.error["type"] == "SandboxExited"
    assert "exit status 3" in result.error["message"]
    app.config["RUN_WALL_SECONDS"] = 2
    shutdown_runner(app)
    spins = "while True: pass"
    result = _run(app, _widget(app, owner, spins), owner, spins)
    assert result.error["type"] == "TimeLimitExceeded"


@pytest.mark.parametrize("service_limits", [{"RUN_MEMORY_MB": 128, "RUN_SCRATCH_MB": 64}])
def test_a_run_over_its_memory_ceiling_is_told_so_through_the_service(
    service, service_limits, client_config, app, make_user
):
    """The cgroup's counts are the service's to read (it removes the cgroup): asked by the
    client before the lease ends."""
    if service.runner.host is None or service.runner.host.cgroups is None:
        pytest.skip("no writable cgroup hierarchy here")
    # Every process of a site reads the same settings (the scratch size is the job's).
    app.config.update(service_limits)
    owner = make_user()
    result = _run(
        app, _widget(app, owner, HOLD_4_GIB_IN_MEMORY_FILES), owner, HOLD_4_GIB_IN_MEMORY_FILES
    )
    assert result.error["type"] == "MemoryError", result.error
    assert "held" not in result.stdout


def test_a_task_killed_from_the_web_side_stops_in_its_leased_sandbox(client_config, app, make_user):
    """Task.kill() signals the sandbox's processes by pid from the process that asked for it:
    the service's child, in the same pid namespace."""
    from pyspace.runs.execution import RunWatcher

    owner = make_user()
    code = "import time\nprint('started', flush=True)\ntime.sleep(20)"
    widget_id = _widget(app, owner, code)
    watcher = RunWatcher(app, run_id=0)

    def kill_soon(sandbox):
        watcher.attach(sandbox)
        threading.Timer(1.0, watcher._kill).start()

    started = time.monotonic()
    with app.app_context():
        result = runner_for(app).run(widget_id, code, owner, on_start=kill_soon)
    assert time.monotonic() - started < 10
    assert watcher.killed
    assert result.stdout == "started\n"
    assert not result.ok


def test_one_accounts_cap_holds_across_two_web_processes(client_config, app, make_user, app_config):
    """Two client apps stand for two web workers: the account's one allowed run in flight on
    the first refuses its second on the other, while another account still runs."""
    alice, bob = make_user("alice"), make_user("bob")
    slow = "import time\ntime.sleep(3)\nprint('slept')"
    quick = "print('hi')"
    slow_id, quick_id = _widget(app, alice, slow), _widget(app, alice, quick)
    bobs_id = _widget(app, bob, quick)
    second_worker = create_app(dict(app_config))
    results = {}
    first = threading.Thread(target=lambda: results.update(slow=_run(app, slow_id, alice, slow)))
    first.start()
    try:
        time.sleep(1.0)
        refused = _run(second_worker, quick_id, alice, quick)
        assert refused.error["type"] == "TooManyRuns"
        assert "You already have 1 runs going" in refused.error["message"]
        assert _run(second_worker, bobs_id, bob, quick).stdout == "hi\n"
    finally:
        first.join(30)
        shutdown_runner(second_worker)
    assert results["slow"].stdout == "slept\n"


def test_a_client_that_goes_away_mid_run_has_its_sandbox_killed(service, socket_dir):
    """The lease ends with the connection: a web worker killed mid-run leaves no sandbox behind
    and its account's slot free."""
    script = f"""
import os, sys
from pyspace.sandbox.service import lease
with lease({service.path!r}, "web", "account:7", 5, 30) as (sandbox, warm):
    print(sandbox.process.pid, flush=True)
    sys.stdin.readline()
"""
    client = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True
    )
    pid = int(client.stdout.readline())
    assert os.path.exists(f"/proc/{pid}")
    client.kill()
    client.wait()
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{pid}"), "the sandbox outlived its lease"
    queue = service.runner.queue_for("web")
    with queue.slot("account:7", timeout=1):
        pass


def test_the_socket_is_for_the_sites_user_only(service, socket_dir):
    assert os.stat(service.path).st_mode & 0o777 == 0o600
    python = shutil.which("python3", path="/usr/bin:/bin")
    if os.getuid() != 0 or python is None:
        pytest.skip("connecting as another user needs root and a system python3")
    # Even with the folder and the socket opened up, another user's connection gets no answer.
    os.chmod(socket_dir, 0o711)
    os.chmod(service.path, 0o666)
    probe = (
        "import socket, struct, sys, json\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        "s.connect(sys.argv[1])\n"
        "data = json.dumps({'op': 'state'}).encode()\n"
        "try:\n"
        "    s.sendall(struct.pack('>I', len(data)) + data)\n"
        "    print(repr(s.recv(100)))\n"
        "except ConnectionError:\n"
        "    print('closed')\n"
    )
    answered = subprocess.run(
        [python, "-c", probe, service.path],
        user=65534,
        capture_output=True,
        text=True,
        check=False,
        cwd="/",
    )
    assert answered.returncode == 0, answered.stderr
    assert answered.stdout in ("b''\n", "closed\n"), answered.stderr


@pytest.fixture
def gone_config(app_config, socket_dir):
    app_config.update(ROOMY_LIMITS, SANDBOX_SERVICE=os.path.join(socket_dir, "gone.sock"))
    return app_config


def test_without_its_service_a_run_is_refused_and_healthz_says_why(
    gone_config, app, client, make_user
):
    owner = make_user()
    code = "print('hi')"
    result = _run(app, _widget(app, owner, code), owner, code)
    assert result.error["type"] == "SandboxUnavailable"
    assert "sandbox service is not running" in result.error["message"]
    app.config["HEALTH_CONSUMER_SECONDS"] = 0
    response = client.get("/healthz")
    assert response.status_code == 503
    assert "gone.sock does not answer" in response.get_json()["checks"]["sandbox"]["detail"]


@pytest.fixture
def cli_service_config(app_config, socket_dir):
    # The app is built knowing the socket (an app of its own: tests share apps by config).
    app_config["SANDBOX_SERVICE"] = os.path.join(socket_dir, "cli.sock")
    return app_config


def test_flask_sandbox_serve_serves_leases_until_stopped(
    cli_service_config, socket_dir, make_user, app
):
    """The command `./manage.sh serve` starts: a run from this process uses its pool."""
    path = app.config["SANDBOX_SERVICE"]
    environment = {
        **os.environ,
        "PYSPACE_INSTANCE_PATH": os.path.join(socket_dir, "cli-instance"),
        "PYSPACE_SECRET_KEY": "test",
        "PYSPACE_RUN_POOL_SIZE": "1",
        "PYSPACE_SANDBOX_SERVICE": path,
    }
    with tempfile.TemporaryFile("w+") as log:
        served = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "sandbox", "serve"],
            env=environment,
            stderr=log,
        )
        try:
            deadline = time.monotonic() + 60
            while not os.path.exists(path):
                assert served.poll() is None, _log_text(log)
                assert time.monotonic() < deadline, "the service never listened"
                time.sleep(0.05)
            owner = make_user()
            code = "print(6 * 7)"
            result = _run(app, _widget(app, owner, code), owner, code)
            assert result.ok, result.error
            assert result.stdout == "42\n"
        finally:
            served.terminate()
            try:
                # On a loaded machine the pool's refill may be starting a sandbox, which the
                # stop waits for (at most the pool's READY_TIMEOUT).
                served.wait(60)
            except subprocess.TimeoutExpired:
                # Where every thread is (the command registers SIGUSR1 for this), then never
                # left running after the test.
                served.send_signal(signal.SIGUSR1)
                time.sleep(1)
                served.kill()
                served.wait()
                pytest.fail(f"the service did not stop on SIGTERM:\n{_log_text(log)}")
    assert not os.path.exists(path), "the socket outlived its service"


def _log_text(log) -> str:
    log.seek(0)
    return log.read()[-6000:]
