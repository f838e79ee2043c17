"""How low the editor's CPU can go: `python -m bench.editor_floor [--bursts B] [--per-burst N]`.

Run from the repository root (`.venv/bin/python -m bench.editor_floor`). In-process, on the
throw-away app of `bench.pages_cpu` (same widget, same owner), the editor is requested in turns
in three forms, beside two empty views of the same app and a bare Flask hello, B bursts of N
requests each, the order rotating from burst to burst:

- *as it ships*;
- *no page*: the view does everything but render its template (it returns an empty body);
- *no page, no boxes*: also without the three look-ups of the boxes above the code (the saved
  code's leak warnings, recent extraction alerts, failing schedules);
- *empty view, logged in*: a view of the site's that only requires a logged-in user and
  returns an empty body (added to the throw-away app for this): what the site's own hooks,
  the session and loading the user cost every logged-in request;
- *empty view, anonymous*: the same without logging in (no user to load);
- *bare Flask hello*: `bench.baseline_apps.hello` through the same kind of test client.

Prints each form's median request-thread CPU (`time.thread_time`) and its ratio to the editor
as it ships and to the hello. What is left in *no page, no boxes* is what every logged-in
request for a widget costs: the session cookie, the user and the widget read from the
database, the form built, CSRF, the rate limits and the response's hooks. The pages' target
(`bench --only http`: the editor at ≥ 0.3× the hello's throughput) asks the editor as it ships
to cost about what that remainder costs; see bench/README.md.

`--cold-caches MB` measures every form a second time, in the same turns, with MB megabytes
copied before each request (not counted): the request starts with the CPU's caches full of
other data, as a web worker's requests do over HTTP, where the other workers and the clients
run between two of them. It shows how much of a page's CPU over HTTP (`bench --only http`) is
the caches being cold rather than the page's own work.
"""

import argparse
import statistics
import tempfile
from contextlib import ExitStack
from unittest import mock

from flask_login import login_required

from .baseline_apps import hello
from .measure import CacheFlusher, request_cpu_us
from .sample_data import logged_in_client, make_app, make_user, make_widget

WARM_UP = 10


def _no_patches(stack: ExitStack) -> None:
    """The form as it is (the editor as it ships, the empty views, the hello)."""


def _no_page(stack: ExitStack) -> None:
    stack.enter_context(mock.patch("pyspace.widgets.routes.render_template", lambda *a, **k: ""))


def _no_page_no_boxes(stack: ExitStack) -> None:
    _no_page(stack)
    stack.enter_context(mock.patch("pyspace.widgets.routes.leak_warnings", lambda widget: []))
    stack.enter_context(mock.patch("pyspace.extraction.recent_alerts", lambda widget_id: []))
    stack.enter_context(mock.patch("pyspace.widgets.routes.failing_schedules", lambda ids: []))


def main(bursts: int, per_burst: int, cold_megabytes: int = 0) -> None:
    """Measure and print (see the module docstring)."""
    flushers = {"warm caches": lambda: None}
    if cold_megabytes:
        flushers["cold caches"] = CacheFlusher(cold_megabytes)
    with tempfile.TemporaryDirectory(prefix="pyspace-editor-floor-") as workdir:
        app = make_app(workdir, RUN_POOL_SIZE=0, RATELIMIT_ENABLED=True)
        with app.app_context():
            owner = make_user("pages")
            widget_id = make_widget(owner, 10, title="Weather")
        app.add_url_rule("/_bench/empty", "bench_empty", lambda: "")
        app.add_url_rule("/_bench/logged-in", "bench_logged_in", login_required(lambda: ""))
        editor, path = logged_in_client(app, owner), f"/widgets/{widget_id}/edit"
        forms = {
            "editor as it ships": (editor, path, _no_patches),
            "no page": (editor, path, _no_page),
            "no page, no boxes": (editor, path, _no_page_no_boxes),
            "empty view, logged in": (editor, "/_bench/logged-in", _no_patches),
            "empty view, anonymous": (app.test_client(), "/_bench/empty", _no_patches),
            "bare Flask hello": (hello.test_client(), "/", _no_patches),
        }
        turns = [(name, caches) for caches in flushers for name in forms]
        samples: dict[tuple[str, str], list[float]] = {turn: [] for turn in turns}
        for burst in range(bursts + 1):
            # Each burst starts with another turn, so none always follows the same one.
            for name, caches in turns[burst % len(turns) :] + turns[: burst % len(turns)]:
                client, url, patches = forms[name]
                flush = flushers[caches]
                with ExitStack() as stack:
                    patches(stack)
                    spent = []
                    for _ in range(per_burst if burst else WARM_UP):
                        flush()
                        spent.append(request_cpu_us(client, url))
                    if burst:
                        samples[(name, caches)] += spent
    print(f"Request-thread CPU, median of {bursts} × {per_burst} per form, in turns:")
    for caches in flushers:
        if caches == "cold caches":
            print(f"Cold caches ({cold_megabytes} MB copied before each request, not counted):")
        shipped = statistics.median(samples[("editor as it ships", caches)])
        bare = statistics.median(samples[("bare Flask hello", caches)])
        for name in forms:
            median = statistics.median(samples[(name, caches)])
            warm = statistics.median(samples[(name, "warm caches")])
            print(
                f"{median:8.0f} µs  {median / shipped:5.2f}× the editor  "
                f"{median / bare:6.2f}× the hello  {median / warm:5.2f}× warm  {name}"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.editor_floor", description=__doc__)
    parser.add_argument("--bursts", type=int, default=20, help="bursts per form (20)")
    parser.add_argument("--per-burst", type=int, default=20, help="requests per burst (20)")
    parser.add_argument(
        "--cold-caches",
        type=int,
        default=0,
        metavar="MB",
        help="copy MB megabytes before each request, so it starts with cold caches (0: don't)",
    )
    arguments = parser.parse_args()
    main(arguments.bursts, arguments.per_burst, arguments.cold_caches)
