"""The warm pool: ready sandboxes, each used for exactly one run, refilled, bounded, shut down."""

import contextlib
import os
import threading
import time
import types

import pytest

import pyspace.sandbox as sandbox_module
from pyspace.extensions import db
from pyspace.models import Widget
from pyspace.sandbox import call_function, cgroups, runner_for, shutdown_runner
from pyspace.sandbox import pool as pool_module
from pyspace.sandbox import settings as settings_module
from pyspace.sandbox.pool import WarmPool
from pyspace.sandbox.settings import IDLE_SANDBOX_MB, auto_pool_size, settings_from_config
from tests.sandbox.helpers import SMALL_LIMITS


@pytest.fixture(autouse=True)
def pooled(app_config):
    app_config.update(SMALL_LIMITS, RUN_POOL_SIZE=2)


@pytest.fixture
def widget_ids(app, make_user):
    owner_id = make_user("owner")
    with app.app_context():
        widgets = [Widget(owner_id=owner_id, title=f"w{n}") for n in range(2)]
        db.session.add_all(widgets)
        db.session.commit()
        return [widget.id for widget in widgets]


def _pids(runner):
    return {sandbox.process.pid for sandbox in list(runner.pool._idle)}


def test_pool_fills_to_its_size_and_no_further(app):
    runner = runner_for(app)
    assert runner.pool.wait_until_full(10)
    time.sleep(0.2)
    assert runner.pool.idle_count() == 2


def test_each_pooled_sandbox_serves_exactly_one_run(app, widget_ids):
    runner = runner_for(app)
    with app.app_context():
        assert runner.pool.wait_until_full(10)
        first = runner.run(
            widget_ids[0],
            "import builtins, os\nbuiltins.left = 'by run 1'\nprint(os.getpid())\n",
            None,
        )
        assert runner.pool.wait_until_full(10)
        second = runner.run(
            widget_ids[1], "import builtins\nprint(getattr(builtins, 'left', 'clean'))\n", None
        )
    assert first.warm and second.warm
    assert second.stdout == "clean\n", "state from one run must never reach the next"


def test_warm_sandboxes_have_requests_imported_and_no_run_sees_anothers_changes(app, widget_ids):
    runner = runner_for(app)
    with app.app_context():
        # A pooled sandbox counts as ready only once its preload finished (pool.py).
        assert runner.pool.wait_until_full(10)
        first = runner.run(
            widget_ids[0],
            "import sys\nprint('requests' in sys.modules)\n"
            "import requests\nrequests.get = lambda *a, **k: 'tampered by run 1'\n",
            None,
        )
        assert runner.pool.wait_until_full(10)
        second = runner.run(
            widget_ids[1], "import requests\nprint(requests.get.__module__)\n", None
        )
    assert first.warm and second.warm
    assert first.stdout == "True\n", "a warm sandbox has requests imported before the run"
    assert second.stdout == "requests.api\n", "a preloaded module changed by one run is fresh"


def test_a_used_sandbox_is_killed_and_replaced(app, widget_ids):
    runner = runner_for(app)
    with app.app_context():
        assert runner.pool.wait_until_full(10)
        before = _pids(runner)
        assert runner.run(widget_ids[0], "print('hi')\n", None).warm
        assert runner.pool.wait_until_full(10)
    after = _pids(runner)
    used = (before - after).pop()
    assert len(after) == 2 and used not in after
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and os.path.exists(f"/proc/{used}"):
        time.sleep(0.02)
    assert not os.path.exists(f"/proc/{used}"), "the used sandbox must be reaped"


def test_a_burst_larger_than_the_pool_still_runs_every_time(app, widget_ids):
    runner = runner_for(app)
    with app.app_context():
        results = [runner.run(widget_ids[0], "print('ok')\n", None) for _ in range(5)]
    assert [result.stdout for result in results] == ["ok\n"] * 5, [r.error for r in results]


def _real_uids(pid: int) -> set[str]:
    """The real uid of `pid` and all its descendants, as the host's kernel sees them."""
    uids = set()
    with open(f"/proc/{pid}/status") as status:
        uids |= {line.split()[1] for line in status if line.startswith("Uid:")}
    with open(f"/proc/{pid}/task/{pid}/children") as children:
        for child in children.read().split():
            uids |= _real_uids(int(child))
    return uids


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can start the sandbox as another user")
def test_sandboxes_are_never_root_even_outside_their_namespace(app):
    runner = runner_for(app)
    assert runner.pool.wait_until_full(10)
    for pid in _pids(runner):
        assert _real_uids(pid) == {"65534"}


def test_shutdown_kills_every_idle_sandbox(app):
    runner = runner_for(app)
    assert runner.pool.wait_until_full(10)
    pids = _pids(runner)
    shutdown_runner(app)
    assert all(not os.path.exists(f"/proc/{pid}") for pid in pids)
    assert "runner" not in app.extensions


def test_call_function_runs_a_registered_function_in_a_fresh_sandbox(app, widget_ids):
    code = (
        "import anvil.server\ncalls = []\n@anvil.server.callable\n"
        "def greet(name, punctuation='!'):\n    calls.append(name)\n"
        "    return {'text': f'Hello, {name}{punctuation}', 'calls': len(calls)}\n"
    )
    with app.test_request_context():
        widget = db.session.get(Widget, widget_ids[0])
        widget.server_code = code
        first = call_function(widget, "greet", ["Ada"], {"punctuation": "?"}, None).as_call_result()
        second = call_function(widget, "greet", ["Bob"], {}, None).as_call_result()
    assert first == {"ok": True, "result": {"text": "Hello, Ada?", "calls": 1}}
    assert second == {"ok": True, "result": {"text": "Hello, Bob!", "calls": 1}}


@pytest.mark.parametrize(
    "code, name, error_type, message",
    [
        ("x = 1\n", "missing", "NoServerFunctionError", "No server function 'missing'"),
        (
            "import anvil.server\n@anvil.server.callable\ndef f():\n    return object()\n",
            "f",
            "SerializationError",
            "returned a value that is not portable: result (type object)",
        ),
        (
            "import anvil.server\n@anvil.server.callable\ndef f():\n    raise ValueError('nope')\n",
            "f",
            "ValueError",
            "nope",
        ),
        ("raise SystemExit(3)\n", "f", "SystemExit", "3"),
    ],
)
def test_call_function_reports_errors(app, widget_ids, code, name, error_type, message):
    with app.test_request_context():
        widget = db.session.get(Widget, widget_ids[0])
        widget.server_code = code
        answer = call_function(widget, name, [], {}, None).as_call_result()
    assert answer["ok"] is False
    assert answer["error"]["type"] == error_type and message in answer["error"]["message"]
    assert set(answer["error"]) == {"type", "message"}


def test_runs_are_refused_clearly_when_bubblewrap_cannot_start(app, widget_ids, monkeypatch):
    import pyspace.sandbox

    monkeypatch.setattr(
        pyspace.sandbox, "bubblewrap_problem", lambda *args: "bubblewrap is not installed."
    )
    shutdown_runner(app)
    with app.app_context():
        result = runner_for(app).run(widget_ids[0], "print('unsafe')\n", None)
    assert result.error["type"] == "SandboxUnavailable"
    assert "can't run code safely" in result.error["message"] and result.stdout == ""
    # The cause is for the administrator (the log, `./manage.sh serve`), not for visitors.
    assert "bubblewrap" not in result.error["message"]


def test_unsandboxed_runs_only_when_the_administrator_allows_them(app, widget_ids, monkeypatch):
    import pyspace.sandbox

    monkeypatch.setattr(
        pyspace.sandbox, "bubblewrap_problem", lambda *args: "bubblewrap is not installed."
    )
    shutdown_runner(app)
    app.config["ALLOW_UNSANDBOXED_RUNS"] = True
    with app.app_context():
        result = runner_for(app).run(widget_ids[0], "print('unsafe but allowed')\n", None)
    assert result.ok and result.stdout == "unsafe but allowed\n"


class _FakeSandbox:
    """Stands in for a started sandbox: ready at once, nothing to kill."""

    def wait_ready(self, timeout):
        return True

    def preload(self, modules, timeout):
        return True

    def is_alive(self):
        return True

    def discard(self):
        pass

    def destroy(self):
        pass


def test_pool_refills_with_one_thread_per_cpu_and_never_overshoots(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    starting = 0
    most_at_once = 0
    changed = threading.Condition()

    def slow_start():
        nonlocal starting, most_at_once
        with changed:
            starting += 1
            most_at_once = max(most_at_once, starting)
            changed.notify_all()
            # A sandbox takes a while to start: the others start meanwhile. Waiting for them
            # (not sleeping a while) keeps a busy machine's scheduling out of the count.
            changed.wait_for(lambda: starting >= 3, timeout=2)
        with changed:
            starting -= 1
        return _FakeSandbox()

    pool = WarmPool(slow_start, size=9)
    try:
        assert pool.wait_until_full(30)
        time.sleep(0.2)
        assert pool.idle_count() == 9
        assert most_at_once == 3, "three CPUs: three sandboxes start side by side"
    finally:
        pool.shutdown()


@pytest.mark.parametrize(
    ("memory_gib", "size"), [(0.5, 2), (1, 2), (2, 5), (4, 10), (8, 20), (24, 61), (256, 64)]
)
def test_default_pool_size_spends_an_8th_of_memory_between_2_and_64(memory_gib, size):
    assert auto_pool_size(int(memory_gib * 1024**3)) == size


def test_the_default_pool_fits_a_2_gib_machine():
    # The sandbox service's pool at 50 MB per idle sandbox, beside the site's processes (the
    # service, two web workers and the consumer: about 400 MB): under a third of 2 GiB, the
    # rest for the runs themselves.
    two_gib = 2 * 1024**3
    pool_mb = auto_pool_size(two_gib) * IDLE_SANDBOX_MB
    assert pool_mb + 400 <= two_gib / 1024**2 / 3


def test_a_container_limited_to_2_gib_on_a_bigger_host_gets_the_2_gib_pool(monkeypatch):
    monkeypatch.setattr(os, "sysconf", lambda name: {"SC_PAGE_SIZE": 4096}.get(name, 6 * 1024**2))
    assert settings_module.usable_memory_bytes() == 24 * 1024**3
    monkeypatch.setattr(cgroups, "memory_ceiling", lambda: 2 * 1024**3)
    assert settings_module.usable_memory_bytes() == 2 * 1024**3
    assert settings_from_config({}).pool_size == auto_pool_size(2 * 1024**3) == 5


def test_memory_ceiling_is_the_lowest_limit_on_the_cgroup_v2_path(tmp_path):
    (tmp_path / "cgroup.controllers").write_text("memory pids\n")
    service = tmp_path / "machine.slice" / "site.scope"
    service.mkdir(parents=True)
    (tmp_path / "machine.slice" / "memory.max").write_text(f"{2 * 1024**3}\n")
    (service / "memory.max").write_text("max\n")
    own = "0::/machine.slice/site.scope\n"
    assert cgroups.memory_ceiling(tmp_path, own_cgroups=own) == 2 * 1024**3
    (service / "memory.max").write_text(f"{1024**3}\n")
    assert cgroups.memory_ceiling(tmp_path, own_cgroups=own) == 1024**3


def test_memory_ceiling_reads_a_cgroup_v1_memory_limit_and_ignores_unlimited(tmp_path):
    container = tmp_path / "memory" / "docker" / "abc"
    container.mkdir(parents=True)
    (tmp_path / "memory" / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    own = "4:memory:/docker/abc\n0::/\n"
    assert cgroups.memory_ceiling(tmp_path, own_cgroups=own) is None
    (container / "memory.limit_in_bytes").write_text(f"{2 * 1024**3}\n")
    assert cgroups.memory_ceiling(tmp_path, own_cgroups=own) == 2 * 1024**3


def test_no_cgroup_files_means_no_memory_ceiling(tmp_path):
    assert cgroups.memory_ceiling(tmp_path, own_cgroups="0::/\n4:memory:/\n") is None


def test_an_unset_pool_size_is_sized_to_this_machine():
    assert settings_from_config({}).pool_size == auto_pool_size()
    assert settings_from_config({"RUN_POOL_SIZE": 0}).pool_size == 0


@contextlib.contextmanager
def _counting_pool(size):
    """A pool of fake sandboxes and the times they were started; shut down afterwards."""
    starts = []

    def start():
        starts.append(time.monotonic())
        return _FakeSandbox()

    pool = WarmPool(start, size=size)
    try:
        yield pool, starts
    finally:
        pool.shutdown()


def test_refill_waits_until_the_finished_runs_answer_has_had_time_to_go(monkeypatch):
    monkeypatch.setattr(pool_module, "QUIET_BEFORE_REFILL", 1.0)
    with _counting_pool(2) as (pool, starts):
        assert pool.wait_until_full(5)
        pool.take()
        pool.run_finished()
        time.sleep(0.3)
        assert len(starts) == 2, "no sandbox starts while the run's response is being sent"
        assert pool.wait_until_full(5)
        assert len(starts) == 3


def test_a_pool_that_ran_dry_refills_at_once_even_with_runs_in_flight(monkeypatch):
    monkeypatch.setattr(pool_module, "QUIET_BEFORE_REFILL", 10.0)
    with _counting_pool(2) as (pool, starts):
        assert pool.wait_until_full(5)
        pool.take()
        pool.take()  # both runs still going: the pool is empty
        deadline = time.monotonic() + 5
        while pool.idle_count() == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert pool.idle_count() == 1, "one ready sandbox again, without waiting for the runs"
        assert len(starts) == 3


class _DiedStarting(_FakeSandbox):
    """A sandbox whose bubblewrap exited before the runtime said it was ready."""

    process = types.SimpleNamespace(poll=lambda: 1)
    discarded = False

    def wait_ready(self, timeout):
        return False

    def discard(self):
        self.discarded = True


def test_a_sandbox_that_dies_while_starting_is_replaced_until_one_starts(app, monkeypatch):
    app.config["RUN_POOL_SIZE"] = 0
    shutdown_runner(app)
    runner = runner_for(app)
    first, second, healthy = _DiedStarting(), _DiedStarting(), _FakeSandbox()
    started = iter([first, second, healthy])
    monkeypatch.setattr(runner, "start_sandbox", lambda: next(started))
    assert runner.take_sandbox() == (healthy, False)
    assert first.discarded and second.discarded


def test_starting_sandboxes_gives_up_after_a_few_attempts(app, monkeypatch):
    app.config["RUN_POOL_SIZE"] = 0
    shutdown_runner(app)
    runner = runner_for(app)
    starts = []

    def start():
        starts.append(_DiedStarting())
        return starts[-1]

    monkeypatch.setattr(runner, "start_sandbox", start)
    sandbox, warm = runner.take_sandbox()
    assert (sandbox, warm) == (starts[-1], False), "the last one is handed to the run to report"
    assert len(starts) == sandbox_module.START_ATTEMPTS
    assert all(s.discarded for s in starts[:-1])
