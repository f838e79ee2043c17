"""Where a Run press's web-side time goes: `python -m bench.profile_run [--runs N] [--cprofile]`.

Run from the repository root (`.venv/bin/python -m bench.profile_run --runs 100`). In-process,
through Flask's test client, on a throw-away app with a warm pool of 4 and rate limits on
(memory storage, as served), an owner presses Run on a hello widget `N` times; the pool is
full before each press, so no refill competes with it. Each part is timed by wrapping the
function the request calls (access check, recording the run, the runner, rate limits, session
cookie, CSRF, every request hook); "request" is the whole WSGI call. Prints, per part, the
median and lower quartile of its wall time and of the request thread's CPU time
(`time.thread_time`, which holds up on a busy machine), in µs per request, largest first, and
the SQL statements one more press runs. Parts nest: "run_and_record" holds the runner and the
recording, for example. `--cprofile` adds a `cProfile` of the presses (the thread's CPU time).
"""

import argparse
import collections
import cProfile
import pstats
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

import flask

from .sample_data import csrf_token, logged_in_client, make_app, make_user, make_widget

WARM_UP = 3


def _name(hook: Callable) -> str:
    inner = getattr(hook, "func", None)
    return getattr(hook, "__qualname__", None) or getattr(inner, "__qualname__", None) or repr(hook)


class Parts:
    """Wall and thread-CPU nanoseconds per labelled part, for the request being measured."""

    def __init__(self) -> None:
        self.wall: collections.Counter[str] = collections.Counter()
        self.cpu: collections.Counter[str] = collections.Counter()

    def timed(self, label: str, function: Callable) -> Callable:
        """`function`, adding the time it takes to `label`."""

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter_ns(), time.thread_time_ns()
            try:
                return function(*args, **kwargs)
            finally:
                self.wall[label] += time.perf_counter_ns() - wall
                self.cpu[label] += time.thread_time_ns() - cpu

        return wrapper


def _instrument(app: flask.Flask, parts: Parts) -> Any:
    """Wrap the functions a Run press calls; returns the app's runner."""
    from pyspace import extraction, sandbox
    from pyspace.extensions import csrf, limiter, login_manager
    from pyspace.runs import execution, history, routes

    timed = parts.timed
    runner = sandbox.runner_for(app)
    run_and_record = timed("run_and_record", execution.run_and_record)
    execution.run_and_record = routes.run_and_record = run_and_record
    for owner, attribute, label in [
        (routes, "visible_widget_or_404", "access check (visible_widget_or_404)"),
        (routes, "_save_from_editor", "save from editor"),
        (routes, "jsonify", "JSON answer (jsonify)"),
        (extraction, "refusal", "extraction budget check"),
        (extraction, "caller_key", "extraction caller key"),
        (history, "record_finished", "history.record_finished (insert, retention, commit)"),
        (runner, "take_sandbox", "take sandbox from pool"),
        (runner, "run", "runner.run (fair queue slot, take, job)"),
        (sandbox, "execute", "sandbox job (send job → result, redaction)"),
        (login_manager, "_user_callback", "load user (session id → user)"),
        (app.session_interface, "open_session", "open session cookie"),
        (app.session_interface, "save_session", "save session cookie"),
        (limiter, "_check_request_limit", "rate limits (Flask-Limiter, route decorator)"),
        (csrf, "protect", "CSRF check"),
        (app, "wsgi_app", "request (whole WSGI call)"),
    ]:
        setattr(owner, attribute, timed(label, getattr(owner, attribute)))
    hook_lists: list[tuple[str, dict[Any, list[Any]]]] = [
        ("before_request", app.before_request_funcs),
        ("after_request", app.after_request_funcs),
        ("teardown_request", app.teardown_request_funcs),
    ]
    for kind, by_blueprint in hook_lists:
        for blueprint, hooks in by_blueprint.items():
            prefix = f"{kind} {blueprint}:" if blueprint else f"{kind} "
            by_blueprint[blueprint] = [timed(prefix + _name(hook), hook) for hook in hooks]
    app.teardown_appcontext_funcs[:] = [
        timed("teardown_appcontext " + _name(hook), hook) for hook in app.teardown_appcontext_funcs
    ]
    return runner


def main(runs: int, profile: bool) -> None:
    """Measure and print (see the module docstring)."""
    from pyspace import sandbox

    parts = Parts()
    wall: dict[str, list[float]] = collections.defaultdict(list)
    cpu: dict[str, list[float]] = collections.defaultdict(list)
    profiler = cProfile.Profile(time.thread_time) if profile else None
    with tempfile.TemporaryDirectory(prefix="pyspace-profile-run-") as workdir:
        app = make_app(
            workdir,
            RUN_POOL_SIZE=4,
            RATELIMIT_ENABLED=True,
            RUN_USER_RATE_LIMIT="100000 per minute",
        )
        try:
            with app.app_context():
                owner = make_user("profiler")
                widget_id = make_widget(owner, 10, title="Hello", code="print('Hello, world!')\n")
            client = logged_in_client(app, owner)
            headers = {
                "Accept": "application/json",
                "X-CSRFToken": csrf_token(client, f"/widgets/{widget_id}/edit"),
            }
            runner = _instrument(app, parts)
            for number in range(WARM_UP + runs):
                runner.pool.wait_until_full(timeout=30)
                time.sleep(0.02)
                parts.wall.clear()
                parts.cpu.clear()
                measured = number >= WARM_UP
                if profiler and measured:
                    profiler.enable()
                response = client.post(f"/widgets/{widget_id}/run", headers=headers)
                if profiler and measured:
                    profiler.disable()
                answer = response.get_json()
                assert response.status_code == 200 and answer["ok"], response.data
                if measured:
                    for label, nanoseconds in parts.wall.items():
                        wall[label].append(nanoseconds / 1000)
                        cpu[label].append(parts.cpu[label] / 1000)
                    wall["sandbox duration_ms (its own clock)"].append(answer["duration_ms"] * 1000)
            runner.pool.wait_until_full(timeout=30)
            statements = _statements(
                app, lambda: client.post(f"/widgets/{widget_id}/run", headers=headers)
            )
        finally:
            sandbox.shutdown_runner(app)
    print(
        f"Run press, median of {runs}, µs per request; one more press: {statements} SQL statements"
    )
    print("    wall   (p25)      CPU   (p25)  part")
    for label in sorted(wall, key=lambda label: -statistics.median(wall[label])):
        wall_us, cpu_us = wall[label], cpu.get(label) or [0.0]
        print(
            f"{statistics.median(wall_us):8.0f} {_lower_quartile(wall_us):7.0f}  "
            f"{statistics.median(cpu_us):7.0f} {_lower_quartile(cpu_us):7.0f}  {label}"
        )
    if profiler:
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(70)
        stats.sort_stats("tottime").print_stats(40)


def _statements(app: flask.Flask, request: Callable[[], Any]) -> int:
    """How many SQL statements `request` runs."""
    from sqlalchemy import event

    from pyspace.extensions import db

    with app.app_context():
        engine = db.engine
    seen = [0]

    def count(*_: object) -> None:
        seen[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        request()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return seen[0]


def _lower_quartile(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=4)[0] if len(samples) > 1 else samples[0]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.profile_run", description=__doc__)
    parser.add_argument("--runs", type=int, default=100, help="Run presses measured (100)")
    parser.add_argument("--cprofile", action="store_true", help="also print a cProfile")
    arguments = parser.parse_args()
    main(arguments.runs, arguments.cprofile)
