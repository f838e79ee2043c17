"""How low the editor's CPU can go: `python -m bench.editor_floor [--bursts B] [--per-burst N]`.

Run from the repository root (`.venv/bin/python -m bench.editor_floor`). In-process, on the
throw-away app of `bench.pages_cpu` (same widget, same owner), the editor is requested in turns
in four forms, B bursts of N requests each, the order rotating from burst to burst:

- *as it ships*;
- *no page*: the view does everything but render its template (it returns an empty body);
- *no page, no boxes*: also without the three look-ups of the boxes above the code (the saved
  code's leak warnings, recent extraction alerts, failing schedules);
- *bare Flask hello*: `bench.baseline_apps.hello` through the same kind of test client.

Prints each form's median request-thread CPU (`time.thread_time`) and its ratio to the editor
as it ships and to the hello. What is left in *no page, no boxes* is what every logged-in
request for a widget costs: the session cookie, the user and the widget read from the
database, the form built, CSRF, the rate limits and the response's hooks. The pages' target
(`bench --only http`: the editor at ≥ 0.3× the hello's throughput) asks the editor as it ships
to cost about what that remainder costs; see bench/README.md.
"""

import argparse
import statistics
import tempfile
from contextlib import ExitStack
from unittest import mock

from .baseline_apps import hello
from .measure import request_cpu_us
from .sample_data import logged_in_client, make_app, make_user, make_widget

WARM_UP = 10


def _no_page(stack: ExitStack) -> None:
    stack.enter_context(mock.patch("pyspace.widgets.routes.render_template", lambda *a, **k: ""))


def _no_page_no_boxes(stack: ExitStack) -> None:
    _no_page(stack)
    stack.enter_context(mock.patch("pyspace.widgets.routes.leak_warnings", lambda widget: []))
    stack.enter_context(mock.patch("pyspace.extraction.recent_alerts", lambda widget_id: []))
    stack.enter_context(mock.patch("pyspace.widgets.routes.failing_schedules", lambda ids: []))


def main(bursts: int, per_burst: int) -> None:
    """Measure and print (see the module docstring)."""
    with tempfile.TemporaryDirectory(prefix="pyspace-editor-floor-") as workdir:
        app = make_app(workdir, RUN_POOL_SIZE=0, RATELIMIT_ENABLED=True)
        with app.app_context():
            owner = make_user("pages")
            widget_id = make_widget(owner, 10, title="Weather")
        editor, path = logged_in_client(app, owner), f"/widgets/{widget_id}/edit"
        hello_client = hello.test_client()
        forms = {
            "editor as it ships": (editor, path, lambda stack: None),
            "no page": (editor, path, _no_page),
            "no page, no boxes": (editor, path, _no_page_no_boxes),
            "bare Flask hello": (hello_client, "/", lambda stack: None),
        }
        samples: dict[str, list[float]] = {name: [] for name in forms}
        names = list(forms)
        for burst in range(bursts + 1):
            # Each burst starts with another form, so none always follows the same one.
            for name in names[burst % len(names) :] + names[: burst % len(names)]:
                client, url, patches = forms[name]
                with ExitStack() as stack:
                    patches(stack)
                    spent = [
                        request_cpu_us(client, url) for _ in range(per_burst if burst else WARM_UP)
                    ]
                    if burst:
                        samples[name] += spent
    shipped = statistics.median(samples["editor as it ships"])
    bare = statistics.median(samples["bare Flask hello"])
    print(f"Request-thread CPU, median of {bursts} × {per_burst} per form, in turns:")
    for name, spent in samples.items():
        median = statistics.median(spent)
        print(
            f"{median:8.0f} µs  {median / shipped:5.2f}× the editor  "
            f"{median / bare:6.2f}× the hello  {name}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.editor_floor", description=__doc__)
    parser.add_argument("--bursts", type=int, default=20, help="bursts per form (20)")
    parser.add_argument("--per-burst", type=int, default=20, help="requests per burst (20)")
    arguments = parser.parse_args()
    main(arguments.bursts, arguments.per_burst)
