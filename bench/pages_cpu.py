"""Pages' CPU: `python -m bench.pages_cpu [--runs N] [--cprofile PAGE]`.

Run from the repository root (`.venv/bin/python -m bench.pages_cpu --runs 200`). In-process,
through Flask's test client, on a throw-away app (no warm pool, rate limits on): the home page
and a public widget page as an anonymous visitor, the editor as the widget's owner, each
requested `N` times after 5 unmeasured requests. Prints, per page, the median CPU time of the
request thread (`time.thread_time`, which holds up on a busy machine), then the SQL statements
of one more request (counted apart, so counting costs the timed requests nothing).
`--cprofile home|public|editor` adds a `cProfile` of `N` more requests of that page.
Anonymous pages come from the page cache after the first request (pyspace/page_cache.py);
`--no-page-cache` measures every request rendering them (PAGE_CACHE_URL=off); `--first-visits`
has the anonymous visitor send no cookie, so each of its requests is a first visit (a public
widget's page then makes a CSRF token and signs a session cookie every time). A bare Flask hello
through the same kind of test client is measured last, as the baseline.

`--cold-caches MB` also measures every page with MB megabytes copied before each request (not
counted), in bursts of 20 taking turns with the warm ones: the request starts with the CPU's
caches full of other data, as a web worker's requests do over HTTP (see `bench.editor_floor`).
"""

import argparse
import cProfile
import pstats
import statistics
import tempfile
import time

from sqlalchemy import event

from .baseline_apps import hello
from .measure import CacheFlusher, request_cpu_us
from .sample_data import logged_in_client, make_app, make_user, make_widget

WARM_UP = 5
BURST = 20


def main(
    runs: int,
    profile_page: str | None,
    page_cache: bool = True,
    first_visits: bool = False,
    cold_megabytes: int = 0,
) -> None:
    """Measure and print (see the module docstring)."""
    from pyspace.extensions import db

    with tempfile.TemporaryDirectory(prefix="pyspace-pages-cpu-") as workdir:
        app = make_app(
            workdir,
            RUN_POOL_SIZE=0,
            RATELIMIT_ENABLED=True,
            PAGE_CACHE_URL="" if page_cache else "off",
        )
        with app.app_context():
            owner = make_user("pages")
            widget_id = make_widget(owner, 10, title="Weather")
            engine = db.engine
        owner_client = logged_in_client(app, owner)
        # A first visit sends no cookie, as the load generator of `bench --only http` does.
        anonymous = app.test_client(use_cookies=not first_visits)
        pages = {
            "home": ("home (anonymous)", anonymous, "/"),
            "public": ("public widget page (anonymous)", anonymous, f"/widgets/{widget_id}"),
            "editor": ("editor (owner)", owner_client, f"/widgets/{widget_id}/edit"),
        }
        statements = [0]

        def count(*_: object) -> None:
            statements[0] += 1

        flush = CacheFlusher(cold_megabytes) if cold_megabytes else None
        print(f"Request-thread CPU per page, median of {runs}; SQL statements of one request:")
        if flush:
            print(f"(and with cold caches: {cold_megabytes} MB copied before each, not counted)")
        baseline = {"hello": ("bare Flask hello (baseline)", hello.test_client(), "/")}
        for label, client, path in {**pages, **baseline}.values():
            for _ in range(WARM_UP):
                request_cpu_us(client, path)
            warm, cold = [], []
            # Warm and cold take turns a burst at a time, not request by request: the first
            # request after a cold one is still partly cold, and would count as warm.
            for burst in range(0, runs, BURST):
                size = min(BURST, runs - burst)
                warm += [request_cpu_us(client, path) for _ in range(size)]
                for _ in range(size if flush else 0):
                    flush()
                    cold.append(request_cpu_us(client, path))
            statements[0] = 0
            event.listen(engine, "before_cursor_execute", count)
            try:
                client.get(path)
            finally:
                event.remove(engine, "before_cursor_execute", count)
            cold_part = f"{statistics.median(cold):8.0f} µs cold, " if flush else ""
            print(
                f"{statistics.median(warm):8.0f} µs CPU, {cold_part}"
                f"{statements[0]} statements  {label}"
            )
        if profile_page:
            _, client, path = pages[profile_page]
            profiler = cProfile.Profile(time.thread_time)
            profiler.enable()
            for _ in range(runs):
                client.get(path)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.pages_cpu", description=__doc__)
    parser.add_argument("--runs", type=int, default=200, help="requests measured per page (200)")
    parser.add_argument(
        "--cprofile", choices=["home", "public", "editor"], help="also profile this page"
    )
    parser.add_argument(
        "--no-page-cache",
        action="store_true",
        help="render the anonymous pages on every request (PAGE_CACHE_URL=off)",
    )
    parser.add_argument(
        "--first-visits",
        action="store_true",
        help="the anonymous visitor sends no cookie (each request a first visit)",
    )
    parser.add_argument(
        "--cold-caches",
        type=int,
        default=0,
        metavar="MB",
        help="also measure each page with MB megabytes copied before every request (0: don't)",
    )
    arguments = parser.parse_args()
    main(
        arguments.runs,
        arguments.cprofile,
        page_cache=not arguments.no_page_cache,
        first_visits=arguments.first_visits,
        cold_megabytes=arguments.cold_caches,
    )
