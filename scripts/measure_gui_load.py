"""Measure how long a GUI widget's public page takes to become usable in Chromium: from
navigation until Pyodide has booted and the widget's client code has run. Cold (a fresh browser
profile, empty caches) and cached (the same profile, loading the page again, as a returning
visitor does). Prints the median, min and max of each against its targets.

The frame is an opaque origin (sandbox without allow-same-origin), and Chromium neither stores
nor reuses HTTP cache entries for an opaque origin's requests; so the page embedding it downloads
Pyodide's big files (and the snapshot) and hands the frame their bytes (static/js/gui-host.js):
"cached" finds those in the page's HTTP cache.

    .venv/bin/python scripts/measure_gui_load.py [--runs 5] [--no-snapshot] [--breakdown]

Two clocks: "wall" is from page.goto() until Playwright sees the frame's ready mark (Playwright
polls for it, so this runs up to a few hundred ms late); "browser" is from the page's navigation
start to the frame's own `pyspace:client-code-run` performance mark, on the browser's clock.
Each run's line also says how many requests reached the server for each load.
--breakdown prints when each boot step (gui-frame.js's performance marks) was reached. --mbit N
makes the server send no faster than N megabits a second in all (loopback hides what
downloading Pyodide costs over a real network).

Uses the deployment's Pyodide snapshot (pyspace/gui/snapshot.py), making it first if it is
missing as `./manage.sh serve` does; --no-snapshot measures Python starting from scratch.

The site is a throwaway one (temporary instance folder, SQLite) with one public starter GUI
widget, served on 127.0.0.1 as `./manage.sh serve` serves it (bench/served.py: gunicorn with the
project's settings); the requests it answered come from its own `/metrics`. --mbit and
--no-snapshot need the app in this process, so they serve it with Werkzeug's server instead.
Nothing leaves the machine.

To compare with another checkout in the same session, copy this script there and take turns:
`cp scripts/measure_gui_load.py ../before/scripts/`, then run each side's copy in turn.
"""

import argparse
import contextlib
import logging
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.sample_data import make_app
from bench.served import bench_config_of, served_site
from pyspace.extensions import db
from pyspace.gui import frame_boot, snapshot
from pyspace.models import User, Widget
from pyspace.widgets.starter_code import starter_code
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise

READY = "html[data-pyspace=ready]"
# Targets: seconds from navigation to the client code having run.
TARGETS = {"cold": 1.0, "cached": 0.5}


class PacedLink:
    """WSGI middleware that sends response bodies no faster than `mbit` megabits a second, all
    responses together: loopback with the speed of a real network link."""

    def __init__(self, app, mbit: float) -> None:
        self.app = app
        self.bytes_per_second = mbit * 1_000_000 / 8
        self.lock = threading.Lock()
        self.link_free_at = 0.0

    def __call__(self, environ, start_response):
        body = self.app(environ, start_response)
        try:
            for chunk in body:
                with self.lock:
                    now = time.monotonic()
                    self.link_free_at = (
                        max(self.link_free_at, now) + len(chunk) / self.bytes_per_second
                    )
                    wait = self.link_free_at - now
                time.sleep(wait)
                yield chunk
        finally:
            if hasattr(body, "close"):
                body.close()


class RequestCounter:
    """WSGI middleware counting the requests that reach the server: what a page view costs it
    (a file the browser kept needs none)."""

    def __init__(self, app) -> None:
        self.app = app
        self.count = 0

    def __call__(self, environ, start_response):
        self.count += 1
        return self.app(environ, start_response)


class ServedRequests:
    """The requests a served site answered, by its own `/metrics` (pyspace_http_requests_total,
    summed over its workers), leaving out its answers to `/metrics` itself."""

    COUNTED = re.compile(r"^pyspace_http_requests_total\{(?P<labels>[^}]*)\} (?P<value>\S+)$", re.M)

    def __init__(self, base: str) -> None:
        self.base = base

    @property
    def count(self) -> int:
        with urllib.request.urlopen(f"{self.base}/metrics", timeout=30) as response:
            text = response.read().decode()
        return round(
            sum(
                float(line["value"])
                for line in self.COUNTED.finditer(text)
                if 'endpoint="operations.metrics"' not in line["labels"]
            )
        )


def add_widget(workdir: str):
    """A throwaway app on a new database in `workdir`, with one public starter GUI widget;
    (app, widget id)."""
    app = make_app(workdir, RUN_POOL_SIZE=0)
    with app.app_context():
        owner = User(username="measure")
        owner.set_password("measure-password")
        db.session.add(owner)
        db.session.flush()
        widget = Widget(
            owner_id=owner.id,
            title="Greeter",
            kind="gui",
            visibility="public",
            **starter_code("gui"),
        )
        db.session.add(widget)
        db.session.commit()
        return app, widget.id


@contextlib.contextmanager
def serve_widget(workdir: str, in_process: bool, mbit: float | None = None) -> Iterator[tuple]:
    """Serve the widget's site on a free loopback port; yields (base URL, widget id, what
    counts the requests it answered). As `./manage.sh serve` serves it, or with `in_process`
    Werkzeug's server in this process (with `mbit`, responses share a link of that speed)."""
    app, widget_id = add_widget(workdir)
    if not in_process:
        # Nothing runs code here: no warm pool to wait for.
        with served_site(bench_config_of(app), RUN_POOL_SIZE="0") as base:
            yield base, widget_id, ServedRequests(base)
        return
    counter = RequestCounter(PacedLink(app, mbit) if mbit else app)
    server = make_server("127.0.0.1", 0, counter, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", widget_id, counter
    finally:
        server.shutdown()


# The frame's boot steps (performance marks in static/js/gui-frame.js), in order.
BOOT_MARKS = (
    "pyspace:frame-script",
    "pyspace:runtime-handed",
    "pyspace:snapshot-bytes",
    "pyspace:python-started",
    "pyspace:runtime-installed",
    "pyspace:client-code-run",
)


def boot_steps(page) -> dict[str, float]:
    """Milliseconds from the page's navigation start to each of the frame's boot steps, by the
    browser's own clock (both documents' performance.timeOrigin are on one time line)."""
    frame = next(frame for frame in page.frames if frame != page.main_frame)
    page_origin = page.evaluate("performance.timeOrigin")
    frame_origin, marks = frame.evaluate(
        "[performance.timeOrigin,"
        " performance.getEntriesByType('mark').map(mark => [mark.name, mark.startTime])]"
    )
    return {name: frame_origin - page_origin + at for name, at in marks if name in BOOT_MARKS}


def time_load(
    page, url: str, counter: RequestCounter
) -> tuple[float, float, dict[str, float], str]:
    """Seconds from navigation to the widget being ready as Playwright sees it (it polls, so up
    to a few hundred ms late) and as the browser's clock has it, each boot step's ms, and the
    frame's own account of its boot (with the number of requests that reached the server)."""
    asked_before = counter.count
    started = time.perf_counter()
    page.goto(url)
    frame = page.frame_locator("iframe[data-gui-frame]")
    frame.locator(READY).wait_for(state="attached", timeout=120_000)
    elapsed = time.perf_counter() - started
    steps = boot_steps(page)
    html = frame.locator("html")
    start = html.get_attribute("data-pyspace-start")
    files = html.get_attribute("data-pyspace-files")
    status = frame.locator("#pyspace-status").text_content().strip()
    requests = counter.count - asked_before
    return (
        elapsed,
        steps["pyspace:client-code-run"] / 1000,
        steps,
        f"{status}, {start}, {files}, {requests} requests",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--mbit",
        type=float,
        help="serve as over a link of this many megabits a second (default: loopback speed)",
    )
    parser.add_argument(
        "--no-snapshot", action="store_true", help="start Python from scratch in every frame"
    )
    parser.add_argument(
        "--breakdown", action="store_true", help="also print when each boot step was reached"
    )
    options = parser.parse_args()
    if options.no_snapshot:
        frame_boot.snapshot_url = lambda: None  # type: ignore[assignment]
    else:
        print(f"Snapshot: {snapshot.make_snapshot(chromium=CHROMIUM).name}")
    in_process = options.no_snapshot or options.mbit is not None
    with (
        tempfile.TemporaryDirectory() as workdir,
        serve_widget(workdir, in_process, options.mbit) as (base, widget_id, counter),
    ):
        url = f"{base}/widgets/{widget_id}"
        seconds: dict[tuple[str, str], list[float]] = defaultdict(list)
        steps: dict[tuple[str, str], list[float]] = defaultdict(list)
        with sync_playwright() as playwright:
            for run in range(options.runs):
                # A persistent profile (not an incognito context) keeps a disk cache and the
                # code cache, as a real browser does.
                with tempfile.TemporaryDirectory() as profile:
                    context = playwright.chromium.launch_persistent_context(
                        profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
                    )
                    page = context.new_page()
                    line = []
                    for kind in ("cold", "cached"):
                        wall, browser, marks, status = time_load(page, url, counter)
                        page.goto("about:blank")
                        seconds[(kind, "wall")].append(wall)
                        seconds[(kind, "browser")].append(browser)
                        for name, at in marks.items():
                            steps[(kind, name)].append(at)
                        line.append(f"{kind} {wall:.2f} s (browser {browser:.2f} s; {status})")
                    print(f"run {run + 1}: " + ", ".join(line))
                    context.close()
    served = "in this process (Werkzeug)" if in_process else "as ./manage.sh serve serves it"
    print(f"Chromium at {CHROMIUM}; the site served {served}")
    for kind in ("cold", "cached"):
        for clock, meaning in (
            ("wall", "navigation to Playwright seeing the client code has run"),
            ("browser", "navigation start to the client code having run, browser's clock"),
        ):
            values = seconds[(kind, clock)]
            median = statistics.median(values)
            verdict = "met" if median <= TARGETS[kind] else "not met"
            print(
                f"{kind:6} {clock:7}: median {median:.2f} s, min {min(values):.2f} s, "
                f"max {max(values):.2f} s over {len(values)} runs; "
                f"target <= {TARGETS[kind]:.1f} s: {verdict} ({meaning})"
            )
    if options.breakdown:
        for kind in ("cold", "cached"):
            print(f"{kind}: each boot step, ms after navigation start (median, min-max)")
            for name in BOOT_MARKS:
                values = steps[(kind, name)]
                if values:
                    print(
                        f"  {name:28} {statistics.median(values):6.0f}"
                        f"  ({min(values):.0f}-{max(values):.0f})"
                    )


if __name__ == "__main__":
    main()
