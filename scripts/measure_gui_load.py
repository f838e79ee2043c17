"""Measure how long a GUI widget's public page takes to become usable in Chromium: from
navigation until Python has booted and the widget's client code has run. Cold (a fresh browser
profile, empty caches) and cached (the same profile, loading the page again, as a returning
visitor does). Prints the median, min and max of each against its targets.

Two widgets with the same (starter) code are measured in turns, one whose client code runs on
Pyodide and one on MicroPython (the owner's "Client Python" in the editor), and the ratio of
their medians is printed; --client-python measures one of them only.

The frame is an opaque origin (sandbox without allow-same-origin), and Chromium neither stores
nor reuses HTTP cache entries for an opaque origin's requests; so the page embedding it downloads
Pyodide's big files (and the snapshot) and hands the frame their bytes (static/js/gui-host.js):
"cached" finds those in the page's HTTP cache.

    .venv/bin/python scripts/measure_gui_load.py [--runs 5] [--no-snapshot] [--breakdown]
        [--client-python both|pyodide|micropython]

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
from pyspace.models import CLIENT_PYTHONS, User, Widget
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


def add_widgets(workdir: str):
    """A throwaway app on a new database in `workdir`, with one public starter GUI widget per
    client Python; (app, {client Python: widget id})."""
    app = make_app(workdir, RUN_POOL_SIZE=0)
    with app.app_context():
        owner = User(username="measure")
        owner.set_password("measure-password")
        db.session.add(owner)
        db.session.flush()
        widgets = {
            python: Widget(
                owner_id=owner.id,
                title="Greeter",
                kind="gui",
                visibility="public",
                client_python=python,
                **starter_code("gui"),
            )
            for python in CLIENT_PYTHONS
        }
        db.session.add_all(widgets.values())
        db.session.commit()
        return app, {python: widget.id for python, widget in widgets.items()}


@contextlib.contextmanager
def serve_widgets(workdir: str, in_process: bool, mbit: float | None = None) -> Iterator[tuple]:
    """Serve the widgets' site on a free loopback port; yields (base URL, widget ids, what
    counts the requests it answered). As `./manage.sh serve` serves it, or with `in_process`
    Werkzeug's server in this process (with `mbit`, responses share a link of that speed)."""
    app, widget_ids = add_widgets(workdir)
    if not in_process:
        # Nothing runs code here: no warm pool to wait for.
        with served_site(bench_config_of(app), RUN_POOL_SIZE="0") as base:
            yield base, widget_ids, ServedRequests(base)
        return
    counter = RequestCounter(PacedLink(app, mbit) if mbit else app)
    server = make_server("127.0.0.1", 0, counter, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", widget_ids, counter
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
        "--client-python",
        choices=("both", *CLIENT_PYTHONS),
        default="both",
        help="measure the Pyodide widget, the MicroPython one, or both in turns (the default)",
    )
    parser.add_argument(
        "--no-snapshot", action="store_true", help="start Pyodide from scratch in every frame"
    )
    parser.add_argument(
        "--breakdown", action="store_true", help="also print when each boot step was reached"
    )
    options = parser.parse_args()
    pythons = CLIENT_PYTHONS if options.client_python == "both" else (options.client_python,)
    if options.no_snapshot:
        frame_boot.snapshot_url = lambda: None  # type: ignore[assignment]
    elif "pyodide" in pythons:
        print(f"Snapshot: {snapshot.make_snapshot(chromium=CHROMIUM).name}")
    in_process = options.no_snapshot or options.mbit is not None
    # (client Python, cold/cached, clock) -> seconds; (client Python, cold/cached, mark) -> ms
    seconds: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    steps: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    with (
        tempfile.TemporaryDirectory() as workdir,
        serve_widgets(workdir, in_process, options.mbit) as (base, widget_ids, counter),
        sync_playwright() as playwright,
    ):
        for run in range(options.runs):
            for python in pythons:  # in turns, so both see the machine alike
                url = f"{base}/widgets/{widget_ids[python]}"
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
                        seconds[(python, kind, "wall")].append(wall)
                        seconds[(python, kind, "browser")].append(browser)
                        for name, at in marks.items():
                            steps[(python, kind, name)].append(at)
                        line.append(f"{kind} {wall:.2f} s (browser {browser:.2f} s; {status})")
                    print(f"run {run + 1}, {python}: " + ", ".join(line))
                    context.close()
    report(seconds, steps, pythons, in_process, options.breakdown)


def report(seconds: dict, steps: dict, pythons: tuple, in_process: bool, breakdown: bool) -> None:
    """Print each client Python's medians against the targets, their ratio, and (breakdown)
    each boot step's time."""
    served = "in this process (Werkzeug)" if in_process else "as ./manage.sh serve serves it"
    print(f"Chromium at {CHROMIUM}; the site served {served}")
    medians = {key: statistics.median(values) for key, values in seconds.items()}
    for python in pythons:
        for kind in ("cold", "cached"):
            for clock, meaning in (
                ("wall", "navigation to Playwright seeing the client code has run"),
                ("browser", "navigation start to the client code having run, browser's clock"),
            ):
                values = seconds[(python, kind, clock)]
                median = medians[(python, kind, clock)]
                verdict = "met" if median <= TARGETS[kind] else "not met"
                print(
                    f"{python:11} {kind:6} {clock:7}: median {median:.2f} s, "
                    f"min {min(values):.2f} s, max {max(values):.2f} s over {len(values)} runs; "
                    f"target <= {TARGETS[kind]:.1f} s: {verdict} ({meaning})"
                )
    if len(pythons) == 2:
        for kind in ("cold", "cached"):
            ratio = (
                medians[("micropython", kind, "browser")] / medians[("pyodide", kind, "browser")]
            )
            print(f"{kind}: MicroPython's median is {ratio:.2f}x Pyodide's (browser clock)")
    if breakdown:
        for python in pythons:
            for kind in ("cold", "cached"):
                print(
                    f"{python}, {kind}: each boot step, ms after navigation start (median, min-max)"
                )
                for name in BOOT_MARKS:
                    values = steps[(python, kind, name)]
                    if values:
                        print(
                            f"  {name:28} {statistics.median(values):6.0f}"
                            f"  ({min(values):.0f}-{max(values):.0f})"
                        )


if __name__ == "__main__":
    main()
