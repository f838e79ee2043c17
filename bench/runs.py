"""Run benchmarks: hello world end to end (`POST /run`, JSON) against starting Python — bare and
inside the same bubblewrap sandbox, cold — and `get_secret` round trips inside one run."""
import json
import statistics
import subprocess
import time

from pyspace.runner import runner_for
from pyspace.runner.sandbox import PYTHON, as_nobody, bare_python_command, bubblewrap_problem
from pyspace.runner.settings import settings_from_config

from .measure import Report, time_ms
from .sample_data import csrf_token, logged_in_client, make_user, make_widget

HELLO = "print('Hello, world!')\n"
GET_SECRET_LOOP = """import json, time
import anvil.secrets
samples, refused = [], []
for _ in range({calls}):
    started = time.perf_counter_ns()
    anvil.secrets.get_secret('api_key_00000')
    samples.append((time.perf_counter_ns() - started) / 1e6)
for _ in range({calls}):
    started = time.perf_counter_ns()
    try:
        anvil.secrets.get_secret('no_such_secret')
    except anvil.secrets.SecretError:
        refused.append((time.perf_counter_ns() - started) / 1e6)
print(json.dumps({{"samples": samples, "refused": refused}}))
"""


def _start_python(command: list[str], **popen):
    def start():
        subprocess.run(command, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, **popen)
    return start


def bench_python_start(app, report: Report, repeat: int) -> None:
    """Baselines: `python3 -c pass` and `python3 -I -S -c pass`, bare and in the runner's sandbox."""
    problem = bubblewrap_problem()
    if problem:
        raise RuntimeError(f"can't benchmark runs: {problem}")
    limits = settings_from_config(app.config).limits
    # The runner's own sandbox, exactly as its start-up probe uses it, with only Python inside.
    sandbox = bare_python_command(limits)
    sandbox = sandbox[:sandbox.index(PYTHON)]
    for flags in ([], ["-I", "-S"]):
        shown = " ".join(["python3", *flags, "-c", "pass"])
        report.add(shown, time_ms(_start_python([PYTHON, *flags, "-c", "pass"]), repeat))
        report.add(f"{shown} in sandbox, cold",
                   time_ms(_start_python(sandbox + [PYTHON, *flags, "-c", "pass"], env={}, **as_nobody()),
                           repeat),
                   baseline=shown)


def _run_client(app, username: str, code: str):
    """(client, run path, headers) for the owner of a new widget with `code` and 1 secret."""
    with app.app_context():
        owner = make_user(username)
        widget_id = make_widget(owner, 1, title="Hello", code=code)
    client = logged_in_client(app, owner)
    headers = {"Accept": "application/json", "X-CSRFToken": csrf_token(client, f"/widgets/{widget_id}/edit")}
    return client, f"/widgets/{widget_id}/run", headers


def bench_hello_run(app, report: Report, repeat: int, warmup: int = 2) -> None:
    """Hello world through `POST /run`, the pool refilled between runs (people run at human pace)."""
    client, path, headers = _run_client(app, "warmrunner", HELLO)
    pool = runner_for(app).pool
    samples, warm_runs = [], 0
    for number in range(warmup + repeat):
        if pool is not None:
            pool.wait_until_full(timeout=15)
        warm = pool is not None and pool.idle_count() > 0
        started = time.perf_counter_ns()
        _post_run(client, path, headers)
        if number >= warmup:
            samples.append((time.perf_counter_ns() - started) / 1e6)
            warm_runs += warm
    name = "run hello world (POST /run, warm pool)"
    report.add(name, samples, baseline="python3 -I -S -c pass in sandbox, cold", warm_runs=warm_runs,
               pool_size=pool.size if pool else 0)
    report.check(name, "≤ 0.5× sandboxed python3 -I -S -c pass", report.figures[name].ratio <= 0.5)


def bench_cold_run(cold_app, report: Report, repeat: int) -> None:
    """The same run with no pool: every run starts its own sandbox (what a burst of runs gets)."""
    client, path, headers = _run_client(cold_app, "coldrunner", HELLO)
    report.add("run hello world (POST /run, no pool)",
               time_ms(lambda: _post_run(client, path, headers), repeat),
               baseline="python3 -I -S -c pass in sandbox, cold")


def _post_run(client, path: str, headers: dict) -> dict:
    response = client.post(path, headers=headers)
    result = response.get_json()
    assert response.status_code == 200 and result["ok"], result
    return result


def bench_get_secret(app, report: Report, calls: int) -> None:
    """`get_secret` timed inside one run: a secret with a value, and a refused (missing) name."""
    client, path, headers = _run_client(app, "secretrunner", GET_SECRET_LOOP.format(calls=calls))
    result = _post_run(client, path, headers)
    timings = json.loads(result["stdout"])
    report.add("get_secret, missing name (refused)", timings["refused"])
    name = "get_secret, one call"
    report.add(name, timings["samples"], baseline="get_secret, missing name (refused)",
               calls_in_one_run=calls, run_duration_ms=result["duration_ms"])
    report.check(name, "< 1 ms median", statistics.median(timings["samples"]) < 1.0)
