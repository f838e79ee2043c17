"""Widget code that tries to escape: every attempt fails cleanly and the site keeps serving.

Each test runs in a cold sandbox and in a warm (pooled) one: the pool obeys the same rules.
"""

import http.server
import threading
from pathlib import Path
from typing import ClassVar

import pytest

from pyspace.extensions import db
from pyspace.models import Widget
from pyspace.sandbox import runner_for
from pyspace.sandbox.settings import PROJECT_DIR
from tests.sandbox.helpers import ROOMY_LIMITS, SMALL_LIMITS, add_secret


@pytest.fixture(params=["cold", "warm"], autouse=True)
def mode(request, app_config):
    app_config.update(SMALL_LIMITS, RUN_POOL_SIZE=1 if request.param == "warm" else 0)
    return request.param


@pytest.fixture
def owner_id(make_user):
    return make_user("mallory")


@pytest.fixture
def run_code(app, mode, owner_id):
    """Run `code` as a new widget's server code; returns the RunResult."""

    def run(code: str, widget_id: str | None = None):
        with app.app_context():
            if widget_id is None:
                widget = Widget(owner_id=owner_id, title="escape", server_code=code)
                db.session.add(widget)
                db.session.commit()
                widget_id = widget.id
            runner = runner_for(app)
            if mode == "warm":
                assert runner.pool.wait_until_full(10)
            # The owner's run: secret values are masked in place (not withheld).
            result = runner.run(widget_id, code, owner_id, viewer_is_owner=True)
            assert result.warm is (mode == "warm")
            return result

    return run


@pytest.fixture
def site_keeps_serving(client):
    yield
    assert client.get("/").status_code == 200


def new_widget(app, owner_id, code="") -> str:
    with app.app_context():
        widget = Widget(owner_id=owner_id, title="w", server_code=code)
        db.session.add(widget)
        db.session.commit()
        return widget.id


def test_code_cannot_read_the_key_file_the_database_or_the_source_by_path(
    app, run_code, site_keeps_serving
):
    instance = Path(app.instance_path)
    key_file = instance / "secrets.key"
    key_file.write_text("KEYFILE-CONTENT\n")
    paths = [
        key_file,
        instance / "pyspace.sqlite",
        PROJECT_DIR / "pyspace" / "secrets" / "vault.py",
        PROJECT_DIR / ".venv" / "pyvenv.cfg",
        Path("/root/.bashrc"),
        Path("/etc/shadow"),
    ]
    code = (
        "for path in %r:\n"
        "    try:\n"
        "        print(path, 'READ', open(path, 'rb').read(200))\n"
        "    except OSError as error:\n"
        "        print(path, type(error).__name__)\n"
    ) % [str(p) for p in paths]
    result = run_code(code)
    assert result.ok, result.error
    assert "READ" not in result.stdout and "KEYFILE" not in result.stdout
    assert result.stdout.count("FileNotFoundError") == len(paths)


def test_root_holds_only_the_sandbox_and_it_is_read_only(run_code, site_keeps_serving):
    code = """
import os
print(sorted(os.listdir('/')))
print(sorted(os.listdir('/opt/pyspace')))
for path in ('/usr/evil', '/opt/pyspace/runtime/evil.py', '/etc/evil', '/evil', '/dev/evil'):
    try:
        open(path, 'w')
        print('WROTE', path)
    except OSError as error:
        print(type(error).__name__)
"""
    result = run_code(code)
    lines = result.stdout.splitlines()
    assert set(eval(lines[0])) <= {
        "bin",
        "dev",
        "etc",
        "lib",
        "lib64",
        "opt",
        "proc",
        "sbin",
        "tmp",
        "usr",
    }
    assert "runtime" in eval(lines[1])
    assert "WROTE" not in result.stdout and len(lines) == 7


def test_code_cannot_read_another_widgets_secret_by_name(
    app, owner_id, run_code, site_keeps_serving
):
    other = new_widget(app, owner_id)
    add_secret(app, other, "api_key", "other-widgets-value")
    code = "import anvil.secrets\nprint(anvil.secrets.get_secret('api_key'))\n"
    result = run_code(code)
    assert result.error["type"] == "SecretError"
    assert result.error["message"] == "No such secret 'api_key'"
    assert "other-widgets-value" not in result.stdout + result.stderr + str(result.error)


def test_fork_bomb_is_capped_and_site_keeps_serving(run_code, site_keeps_serving):
    code = """
import os, time
children = 0
try:
    while True:
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)
        children += 1
except OSError as error:
    print('capped after', children, type(error).__name__)
"""
    result = run_code(code)
    assert result.ok, result.error
    assert result.stdout.startswith("capped after") and "BlockingIOError" in result.stdout
    assert int(result.stdout.split()[2]) < SMALL_LIMITS["RUN_MAX_PROCESSES"]


def test_allocating_2_gib_fails_with_memory_error(run_code, site_keeps_serving):
    result = run_code("block = bytearray(2 * 1024 ** 3)\n")
    assert result.error["type"] == "MemoryError"


def test_infinite_loop_is_stopped_by_the_cpu_limit(run_code, site_keeps_serving):
    result = run_code("while True:\n    pass\n")
    # On a busy machine the wall clock may strike before a whole CPU second is used.
    assert result.error["type"] in ("CPULimitExceeded", "Killed", "TimeLimitExceeded")
    assert result.duration_ms < (SMALL_LIMITS["RUN_WALL_SECONDS"] + 1) * 1000


def test_sleeping_forever_is_stopped_by_the_wall_clock(run_code, site_keeps_serving):
    result = run_code("print('going to sleep', flush=True)\nimport time\ntime.sleep(3600)\n")
    assert result.error["type"] == "TimeLimitExceeded"
    assert "longer than 2 s" in result.error["message"]
    assert result.stdout == "going to sleep\n"


def test_printing_100_mb_is_cut_at_the_output_cap(run_code, site_keeps_serving):
    result = run_code(
        "import sys\nchunk = 'x' * 1024 * 1024\nfor _ in range(100):\n    sys.stdout.write(chunk)\n"
    )
    assert result.error["type"] == "OutputLimitExceeded"
    assert result.truncated
    assert len(result.stdout) <= SMALL_LIMITS["RUN_OUTPUT_BYTES"]


def test_killing_the_parent_fails_and_site_keeps_serving(run_code, site_keeps_serving):
    code = """
import os, signal
print('pids I can see:', sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))
for target in (os.getppid(), 1):
    try:
        os.kill(target, signal.SIGKILL)
        print('signalled', target)
    except OSError as error:
        print('refused', target, type(error).__name__)
print('still here')
os.kill(-1, signal.SIGKILL)
"""
    result = run_code(code)
    first = result.stdout.splitlines()[0]
    assert set(eval(first.split(":", 1)[1])) <= {1, 2, 3}, "the sandbox sees only its own processes"
    # Signals to the sandbox's init are ignored, and kill(-1) finds nobody else to kill.
    assert "still here" in result.stdout
    assert result.error["type"] == "ProcessLookupError"


def test_environment_argv_and_files_hold_no_secret(app, owner_id, run_code, site_keeps_serving):
    code = """
import anvil.secrets, os, sys, glob
value = anvil.secrets.get_secret('api_key')
places = {'environ': repr(dict(os.environ)), 'argv': repr(sys.argv)}
proc_files = ['/proc/self/cmdline', '/proc/1/cmdline', '/proc/self/environ', '/proc/1/environ']
for path in proc_files + glob.glob('/tmp/**', recursive=True):
    try:
        places[path] = open(path, 'rb').read().decode('latin-1')
    except OSError:
        pass
print(sorted(os.environ))
print([name for name, text in places.items() if value in text])
print(os.getuid(), os.getgid())
"""
    widget_id = new_widget(app, owner_id, code)
    add_secret(app, widget_id, "api_key", "the-real-key-123")
    result = run_code(code, widget_id)
    lines = result.stdout.splitlines()
    assert result.ok, result.error
    assert eval(lines[0]) == ["HOME", "LANG", "PATH", "PWD"]
    assert eval(lines[1]) == []
    assert lines[2] == "65534 65534"


def test_scratch_space_is_discarded_after_each_run(run_code, site_keeps_serving):
    first = run_code(
        "open('/tmp/left-behind', 'w').write('x')\nimport os\nprint(os.listdir('/tmp'))\n"
    )
    assert "left-behind" in first.stdout
    second = run_code("import os\nprint(os.listdir('/tmp'))\n")
    assert second.stdout == "[]\n"


def test_scratch_space_is_size_limited(run_code, site_keeps_serving):
    result = run_code("open('/tmp/big', 'wb').write(b'x' * 50 * 1024 * 1024)\n")
    assert not result.ok
    assert result.error["type"] in (
        "OSError",
        "File size limit exceeded",
        "SandboxExited",
        "Killed",
    )


class _WeatherAPI(http.server.BaseHTTPRequestHandler):
    seen_keys: ClassVar[list[str]] = []

    def do_GET(self):
        from urllib.parse import parse_qs, urlparse

        _WeatherAPI.seen_keys.append(parse_qs(urlparse(self.path).query).get("key", [""])[0])
        body = b'{"forecast": "sunny"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def weather_api(app_config):
    """A fake weather API on the host's loopback, on the runs' allow list (as an operator would
    list a local service in PYSPACE_RUN_NETWORK_ALLOW)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _WeatherAPI)
    _WeatherAPI.seen_keys = []
    app_config["RUN_NETWORK_ALLOW"] = [f"127.0.0.1:{server.server_port}"]
    # A request over the run's network ends by itself: a wall limit a loaded machine can't hit.
    app_config["RUN_WALL_SECONDS"] = ROOMY_LIMITS["RUN_WALL_SECONDS"]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    thread.join(5)


def test_weather_api_on_loopback_gets_the_key_and_the_output_hides_it(
    weather_api, app, owner_id, run_code
):
    code = f"""
import anvil.secrets
import requests
key = anvil.secrets.get_secret('api_key')
answer = requests.get('http://127.0.0.1:{weather_api}/', params={{'key': key}}, timeout=2)
print(answer.json()['forecast'], 'for', answer.url)
"""
    widget_id = new_widget(app, owner_id, code)
    add_secret(app, widget_id, "api_key", "weather-key-42")
    result = run_code(code, widget_id)
    assert result.ok, result.error
    assert _WeatherAPI.seen_keys == ["weather-key-42"]
    assert result.stdout == f"sunny for http://127.0.0.1:{weather_api}/?key=***\n"


@pytest.fixture
def network_off(app_config):
    app_config["RUN_NETWORK"] = False


def test_network_can_be_switched_off_even_for_allow_listed_services(
    network_off, weather_api, run_code
):
    code = f"""
import urllib.request
try:
    urllib.request.urlopen('http://127.0.0.1:{weather_api}/?key=x', timeout=1)
    print('REACHED')
except OSError as error:
    print('no network:', type(error).__name__)
"""
    result = run_code(code)
    assert result.stdout.startswith("no network:")
    assert _WeatherAPI.seen_keys == []


def test_code_that_floods_its_channel_gets_a_clean_error(run_code, site_keeps_serving):
    code = (
        "import os, sys\nos.write(int(sys.argv[1]), (2 ** 31).to_bytes(4, 'big'))\n"
        "import time\ntime.sleep(5)\n"
    )
    result = run_code(code)
    assert result.error["type"] == "SandboxError"
    assert "larger than allowed" in result.error["message"]
