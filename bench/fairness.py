"""Fair shares under a flood: the site served as `./manage.sh serve` serves it (gunicorn, one
worker, its thread count, the warm pool filled at start) on a loopback port.

One account fires `flood` parallel runs of `time.sleep(flood_seconds)` while another account
loads `GET /` and presses Run on a hello widget; the same bystander figures are measured with
no flood first, in the same run. Then a classroom: `classroom` accounts each press Run once, all
at the same moment. Targets (issue 11): the bystander's p95s within 2x of the quiet ones, and
every classroom run succeeds.
"""

import http.cookiejar
import json
import os
import re
import statistics
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from .measure import Report
from .sample_data import bench_config, make_user, server_environment
from .throughput import GUNICORN, PROJECT, _free_port, _stop, _wait_until_listening

CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
PASSWORD = "benchmark password"


class Browser:
    """One person's browser: its own cookies and CSRF token, a new connection per request."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        self.token = ""

    def request(self, path: str, data: dict | None = None, headers: dict | None = None):
        """(status, body, seconds) of one request."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body, headers=headers or {})
        started = time.perf_counter()
        try:
            with self.opener.open(request, timeout=120) as response:
                status, text = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode()
        return status, text, time.perf_counter() - started

    def log_in(self, username: str) -> None:
        _, page, _ = self.request("/login")
        token = CSRF_FIELD.search(page) or CSRF_META.search(page)
        form = {"username": username, "password": PASSWORD, "csrf_token": token.group(1)}
        status, page, _ = self.request("/login", form)
        self.token = CSRF_META.search(page).group(1)
        assert status == 200 and "Log out" in page, f"could not log {username} in"

    def run(self, widget_id: str):
        """Press Run (JSON answer): (status, answer, seconds)."""
        status, text, seconds = self.request(
            f"/widgets/{widget_id}/run",
            {"csrf_token": self.token},
            {"Accept": "application/json"},
        )
        try:
            answer = json.loads(text)
        except ValueError:
            answer = {"ok": False, "error": {"type": f"HTTP {status}", "message": text[:200]}}
        return status, answer, seconds


def _p95(samples: list[float]) -> float:
    if len(samples) < 2:
        return samples[0]
    return statistics.quantiles(samples, n=20, method="inclusive")[18]


def _in_parallel(actions: list) -> list:
    results: list = [None] * len(actions)

    def call(index, action):
        results[index] = action()

    threads = [threading.Thread(target=call, args=item) for item in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _bystander(browser: Browser, hello: str, samples: int) -> tuple[list[float], list[float]]:
    """Page loads and hello runs, taking turns: (page ms, run ms)."""
    pages, runs = [], []
    for _ in range(samples):
        status, _, seconds = browser.request("/")
        assert status == 200, status
        pages.append(seconds * 1000)
        status, answer, seconds = browser.run(hello)
        assert status == 200 and answer["ok"], answer
        runs.append(seconds * 1000)
    return pages, runs


def _serve(workdir: str, config: dict) -> tuple[subprocess.Popen, int]:
    """gunicorn as `manage.sh serve` starts it, on a free loopback port."""
    from pyspace.sandbox.fairness import request_threads

    env = {**server_environment(config), "PYSPACE_RUN_POOL_WARM_ON_START": "true"}
    threads = request_threads(config["RUN_MAX_CONCURRENT"], config["RUN_QUEUE_LENGTH"])
    port = _free_port()
    command = [str(GUNICORN), "--workers", "1", "--threads", str(threads), "--log-level", "warning"]
    process = subprocess.Popen(
        [*command, "--bind", f"127.0.0.1:{port}", "app:app"],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _wait_until_listening(port, process)
    return process, port


def bench_fairness(
    report: Report, workdir: str, flood: int, flood_seconds: float, samples: int, classroom: int
) -> None:
    """The flood and the classroom (see the module docstring)."""
    from pyspace import create_app
    from pyspace.config import SETTINGS_BY_NAME
    from pyspace.extensions import db
    from pyspace.models import Widget

    os.makedirs(workdir, exist_ok=True)
    config = {
        **bench_config(workdir),
        "RUN_WALL_SECONDS": float(flood_seconds + 15),
        "RUN_MAX_CONCURRENT": SETTINGS_BY_NAME["RUN_MAX_CONCURRENT"].default,
        "RUN_QUEUE_LENGTH": SETTINGS_BY_NAME["RUN_QUEUE_LENGTH"].default,
    }
    app = create_app(config)
    pupils = [f"pupil{number:02d}" for number in range(classroom)]
    with app.app_context():
        db.create_all()
        flooder, bystander = make_user("flooder"), make_user("bystander")
        for pupil in pupils:
            make_user(pupil)
        widgets = {}
        for name, owner, code in (
            ("sleeper", flooder, f"import time\ntime.sleep({flood_seconds})\nprint('woke')\n"),
            ("hello", bystander, "print('hello')\n"),
        ):
            widget = Widget(owner_id=owner, title=name, visibility="public", server_code=code)
            db.session.add(widget)
            db.session.commit()
            widgets[name] = widget.id
    process, port = _serve(workdir, config)
    base = f"http://127.0.0.1:{port}"
    try:
        flooding, watching = Browser(base), Browser(base)
        flooding.log_in("flooder")
        watching.log_in("bystander")
        class_browsers = [Browser(base) for _ in pupils]
        for browser, pupil in zip(class_browsers, pupils, strict=True):
            browser.log_in(pupil)
        _bystander(watching, widgets["hello"], 2)  # warm-up: imports, templates, the pool
        quiet_pages, quiet_runs = _bystander(watching, widgets["hello"], samples)

        flood_results: list = []
        flooder_thread = threading.Thread(
            target=lambda: flood_results.extend(
                _in_parallel([lambda: flooding.run(widgets["sleeper"])] * flood)
            )
        )
        flooder_thread.start()
        time.sleep(0.5)  # the flood is in: its runs hold their slots, the rest were refused
        flood_pages, flood_runs = _bystander(watching, widgets["hello"], samples)
        flooder_thread.join()

        classroom_results = _in_parallel(
            [lambda b=browser: b.run(widgets["hello"]) for browser in class_browsers]
        )
    finally:
        _stop(process)

    for figure, quiet, busy in (
        ("bystander GET /", quiet_pages, flood_pages),
        ("bystander hello run", quiet_runs, flood_runs),
    ):
        quiet_name, busy_name = f"{figure}, quiet", f"{figure}, during a {flood}-run flood"
        report.add(quiet_name, quiet, p95_ms=round(_p95(quiet), 1))
        report.add(busy_name, busy, baseline=quiet_name, p95_ms=round(_p95(busy), 1))
        ratio = _p95(busy) / _p95(quiet)
        report.figures[busy_name].extra["p95_ratio"] = round(ratio, 2)
        report.check(busy_name, "p95 ≤ 2× quiet p95", ratio <= 2)

    statuses = [status for status, _, _ in flood_results]
    refused = [seconds * 1000 for status, _, seconds in flood_results if status == 429]
    finished = sum(1 for status, answer, _ in flood_results if status == 200 and answer["ok"])
    name = f"flooder's {flood} parallel {flood_seconds:g} s runs: the refused ones"
    report.add(name, refused or [0.0], refused=len(refused), ran=finished, statuses=statuses)
    ok = [seconds * 1000 for status, answer, seconds in classroom_results if answer["ok"]]
    name = f"classroom: {classroom} accounts press Run at once"
    report.add(name, ok or [0.0], succeeded=len(ok), p95_ms=round(_p95(ok), 1) if ok else None)
    report.check(name, "every run succeeds", len(ok) == classroom)
