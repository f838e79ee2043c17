"""Run benchmarks: hello world end to end (`POST /run`, JSON) against starting Python — bare and
inside the same bubblewrap sandbox, cold — and `get_secret` round trips inside one run."""

import json
import socket
import statistics
import subprocess
import threading
import time

from pyspace.sandbox import runner_for
from pyspace.sandbox.bwrap import PYTHON, as_nobody, bare_python_command
from pyspace.sandbox.settings import settings_from_config
from pyspace.secrets.channel import MAX_SECRET_LOOKUPS

from .measure import Report, time_interleaved
from .sample_data import csrf_token, logged_in_client, make_user, make_widget

HELLO = "print('Hello, world!')\n"
GET_SECRET_LOOP = """import json, time
import anvil.secrets

def timed(name):
    started = time.perf_counter_ns()
    try:
        anvil.secrets.get_secret(name)
    except anvil.secrets.SecretError:
        return None
    return (time.perf_counter_ns() - started) / 1e6

first = [timed(f"api_key_{{number:05d}}") for number in {distinct}]
again = [timed("api_key_00000") for _ in range({calls})]
print(json.dumps({{"first": first, "again": again}}))
"""


def _start_python(command: list[str], **popen):
    def start():
        subprocess.run(
            command,
            check=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            **popen,
        )

    return start


def _sandboxed(host, limits, flags: list[str]) -> list[str]:
    # The runner's sandbox with only Python inside (without its seccomp filter and cgroup),
    # mounting the host's world-readable copy of the runtime as runs do (uid 65534 can't read
    # a checkout in a 0700 folder such as /root).
    command = bare_python_command(limits, host.runtime_dir)
    return [*command[: command.index(PYTHON)], PYTHON, *flags, "-c", "pass"]


def bench_python_start(app, report: Report, repeat: int) -> None:
    """Baselines: `python3 -c pass` and `python3 -I -S -c pass`, bare and in the runner's
    sandbox."""
    runner = runner_for(app)
    if runner.problem or runner.host is None:
        raise RuntimeError(f"can't benchmark runs: {runner.problem}")
    limits = settings_from_config(app.config).limits
    starts = {}
    for flags in ([], ["-I", "-S"]):
        shown = " ".join(["python3", *flags, "-c", "pass"])
        starts[shown] = _start_python([PYTHON, *flags, "-c", "pass"])
        starts[f"{shown} in sandbox, cold"] = _start_python(
            _sandboxed(runner.host, limits, flags), env={}, **as_nobody()
        )
    samples = time_interleaved(starts, repeat)
    for name, values in samples.items():
        report.add(
            name,
            values,
            baseline=name.removesuffix(" in sandbox, cold") if "sandbox" in name else None,
        )


def _run_client(app, username: str, code: str):
    """(client, run path, headers) for the owner of a new widget with `code` and 1 secret."""
    with app.app_context():
        owner = make_user(username)
        widget_id = make_widget(owner, 1, title="Hello", code=code)
    client = logged_in_client(app, owner)
    headers = {
        "Accept": "application/json",
        "X-CSRFToken": csrf_token(client, f"/widgets/{widget_id}/edit"),
    }
    return client, f"/widgets/{widget_id}/run", headers


def _post_run(client, path: str, headers: dict) -> dict:
    response = client.post(path, headers=headers)
    result = response.get_json()
    assert response.status_code == 200 and result["ok"], result
    return result


def bench_hello_run(app, cold_app, report: Report, repeat: int, warmup: int = 2) -> None:
    """Hello world through `POST /run` with the warm pool (refilled between runs, as it is when
    people run at human pace) and with no pool, taking turns with the cold sandboxed
    `python3 -I -S -c pass` it is compared with."""
    limits = settings_from_config(app.config).limits
    warm_client, warm_path, warm_headers = _run_client(app, "warmrunner", HELLO)
    cold_client, cold_path, cold_headers = _run_client(cold_app, "coldrunner", HELLO)
    runner = runner_for(app)
    pool = runner.pool
    baseline = "sandboxed python3 -I -S -c pass (same turns)"
    warm_name, cold_name = (
        "run hello world (POST /run, warm pool)",
        "run hello world (POST /run, no pool)",
    )

    def settled(action):
        # Nothing starts in the background while a figure is timed.
        def timed():
            if pool is not None:
                pool.wait_until_full(timeout=15)
            started = time.perf_counter_ns()
            action()
            return (time.perf_counter_ns() - started) / 1e6

        return timed

    turns = {
        baseline: settled(
            _start_python(_sandboxed(runner.host, limits, ["-I", "-S"]), env={}, **as_nobody())
        ),
        warm_name: settled(lambda: _post_run(warm_client, warm_path, warm_headers)),
        cold_name: settled(lambda: _post_run(cold_client, cold_path, cold_headers)),
    }
    samples = {name: [] for name in turns}
    for number in range(warmup + repeat):
        for name, timed in turns.items():
            elapsed = timed()
            if number >= warmup:
                samples[name].append(elapsed)
    report.add(baseline, samples[baseline])
    report.add(cold_name, samples[cold_name], baseline=baseline)
    report.add(warm_name, samples[warm_name], baseline=baseline, pool_size=pool.size if pool else 0)
    report.check(
        warm_name, "≤ 0.5× sandboxed python3 -I -S -c pass", report.figures[warm_name].ratio <= 0.5
    )


def _socket_round_trips(calls: int) -> list[float]:
    """Milliseconds per request/answer over a Unix socket pair with an echoing thread: the floor
    under any channel between a sandbox and the host."""
    host, other = socket.socketpair()
    message = json.dumps({"op": "get_secret", "name": "api_key_00000"}).encode()

    def echo():
        while data := other.recv(65536):
            other.sendall(data)

    thread = threading.Thread(target=echo, daemon=True)
    thread.start()
    samples = []
    with host, other:
        for _ in range(calls):
            started = time.perf_counter_ns()
            host.sendall(message)
            host.recv(65536)
            samples.append((time.perf_counter_ns() - started) / 1e6)
        host.shutdown(socket.SHUT_WR)
        thread.join()
    return samples


def bench_get_secret(app, report: Report, calls: int) -> None:
    """`get_secret` timed inside one run: repeated reads of one secret (many calls, per call)
    and each secret's first read (database, decryption, audited use)."""
    # A run may read at most MAX_SECRET_LOOKUPS different secrets: stay under that cap.
    distinct = [number for number in range(calls * 2) if number % 10 != 9][
        : min(calls, MAX_SECRET_LOOKUPS - 10)
    ]
    with app.app_context():
        owner = make_user("secretrunner")
        widget_id = make_widget(
            owner,
            calls * 2,
            title="Secrets",
            code=GET_SECRET_LOOP.format(calls=calls, distinct=distinct),
        )
    client = logged_in_client(app, owner)
    headers = {
        "Accept": "application/json",
        "X-CSRFToken": csrf_token(client, f"/widgets/{widget_id}/edit"),
    }
    result = _post_run(client, f"/widgets/{widget_id}/run", headers)
    # None marks a read that was refused: none are expected, and none may count as a timing.
    timings = {
        kind: [ms for ms in values if ms is not None]
        for kind, values in json.loads(result["stdout"]).items()
    }
    baseline = "socket pair round trip (host only)"
    report.add(baseline, _socket_round_trips(calls))
    name = "get_secret, one call (many calls in one run)"
    report.add(
        name,
        timings["again"],
        baseline=baseline,
        calls_in_one_run=calls,
        run_duration_ms=result["duration_ms"],
    )
    report.check(name, "< 1 ms median", statistics.median(timings["again"]) < 1.0)
    report.add("get_secret, first read of a secret", timings["first"], baseline=baseline)
