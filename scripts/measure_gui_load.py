"""Measure how long a GUI widget's public page takes to become usable in Chromium: from
navigation until Pyodide has booted and the widget's client code has run. Cold (a fresh browser
profile, empty caches) and cached (the same profile, loading the page again, as a returning
visitor does). Prints the median, min and max of each against its targets.

Note that "cached" helps the page around the frame only: the frame is an opaque origin
(sandbox without allow-same-origin), and Chromium neither stores nor reuses HTTP cache entries
for an opaque origin's requests, so the frame downloads Pyodide (and the snapshot) every time.

    .venv/bin/python scripts/measure_gui_load.py [--runs 5] [--no-snapshot]

Uses the deployment's Pyodide snapshot (pyspace/gui/snapshot.py), making it first if it is
missing as `./manage.sh serve` does; --no-snapshot measures Python starting from scratch.

Serves a throwaway app (temporary instance folder, SQLite) on 127.0.0.1 with one public
starter GUI widget; nothing leaves the machine.
"""

import argparse
import logging
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from cryptography.fernet import Fernet
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pyspace import create_app
from pyspace.extensions import db
from pyspace.gui import frame_boot, snapshot
from pyspace.models import User, Widget
from pyspace.widgets.starter_code import starter_code
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise

READY = "html[data-pyspace=ready]"
# Targets: seconds from navigation to the client code having run.
TARGETS = {"cold": 1.0, "cached": 0.5}


def serve_widget(instance: str) -> tuple[str, str]:
    """Start the app on a free loopback port with one public GUI widget; (base URL, widget id)."""
    app = create_app(
        {
            "INSTANCE_PATH": instance,
            "SECRET_KEY": "measure",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance}/measure.sqlite",
            "SECRETS_KEY": Fernet.generate_key().decode(),
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        db.create_all()
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
        widget_id = widget.id
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", widget_id


def time_load(page, url: str) -> tuple[float, str]:
    """Seconds from navigation to the widget being ready, and the frame's own boot time."""
    started = time.perf_counter()
    page.goto(url)
    frame = page.frame_locator("iframe[data-gui-frame]")
    frame.locator(READY).wait_for(state="attached", timeout=120_000)
    elapsed = time.perf_counter() - started
    start = frame.locator("html").get_attribute("data-pyspace-start")
    return elapsed, f"{frame.locator('#pyspace-status').text_content().strip()}, {start}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--no-snapshot", action="store_true", help="start Python from scratch in every frame"
    )
    options = parser.parse_args()
    if options.no_snapshot:
        frame_boot.snapshot_url = lambda: None  # type: ignore[assignment]
    else:
        print(f"Snapshot: {snapshot.make_snapshot(chromium=CHROMIUM).name}")
    with tempfile.TemporaryDirectory() as instance:
        base, widget_id = serve_widget(instance)
        url = f"{base}/widgets/{widget_id}"
        cold, cached = [], []
        with sync_playwright() as playwright:
            for run in range(options.runs):
                # A persistent profile (not an incognito context) keeps a disk cache and the
                # code cache, as a real browser does.
                with tempfile.TemporaryDirectory() as profile:
                    context = playwright.chromium.launch_persistent_context(
                        profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
                    )
                    page = context.new_page()
                    cold_seconds, cold_status = time_load(page, url)
                    page.goto("about:blank")
                    cached_seconds, cached_status = time_load(page, url)
                    cold.append(cold_seconds)
                    cached.append(cached_seconds)
                    print(
                        f"run {run + 1}: cold {cold_seconds:.2f} s ({cold_status}), "
                        f"cached {cached_seconds:.2f} s ({cached_status})"
                    )
                    context.close()
    print(f"Chromium at {CHROMIUM}")
    for name, values in (("cold", cold), ("cached", cached)):
        median = statistics.median(values)
        verdict = "met" if median <= TARGETS[name] else "not met"
        print(
            f"{name:6}: median {median:.2f} s, min {min(values):.2f} s, "
            f"max {max(values):.2f} s over {len(values)} runs; "
            f"target <= {TARGETS[name]:.1f} s: {verdict}"
        )


if __name__ == "__main__":
    main()
