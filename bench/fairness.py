"""Fair shares under a flood: real HTTP against the site served as `./manage.sh serve` serves it
(bench/served.py: gunicorn with `pyspace/gunicorn_config.py`, the warm pool full).

One account fires `flood` parallel runs of `time.sleep(flood_seconds)` while another account
loads `GET /` and presses Run on a hello widget; the same bystander figures are measured with
no flood first, in the same run. Target: the bystander's p95s within 2x of the quiet
ones. (Many accounts pressing Run at once, the classroom burst, is measured by `--only http`.)
"""

import statistics
import threading
import time

from .measure import Report
from .sample_data import make_app, make_user, make_widget
from .served import Visitor, bench_config_of, served_site, timed


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


def _bystander(visitor: Visitor, hello: str, samples: int) -> tuple[list[float], list[float]]:
    """Page loads and hello runs, taking turns: (page ms, run ms)."""
    pages, runs = [], []
    for _ in range(samples):
        (status, _), elapsed = timed(lambda: visitor.get("/"))
        assert status == 200, status
        pages.append(elapsed)
        (status, answer), elapsed = timed(lambda: visitor.run(hello))
        assert status == 200 and answer["ok"], answer
        runs.append(elapsed)
    return pages, runs


def bench_fairness(
    report: Report, workdir: str, flood: int, flood_seconds: float, samples: int
) -> None:
    """The flood (see the module docstring)."""
    app = make_app(workdir)
    with app.app_context():
        flooder, bystander = make_user("flooder"), make_user("bystander")
        sleep = f"import time\ntime.sleep({flood_seconds})\nprint('woke')\n"
        sleeper = make_widget(flooder, 0, title="sleeper", code=sleep)
        hello = make_widget(bystander, 0, title="hello", code="print('hello')\n")
    # RUN_MAX_CONCURRENT and RUN_QUEUE_LENGTH stay at their defaults (served_site passes on no
    # PYSPACE_ setting of this shell). The wall limit lets a sleeper finish; the per-account rate
    # limit (60 runs a minute) is lifted so every 429 the flooder gets is its fair-share cap.
    settings = {
        "RUN_WALL_SECONDS": str(flood_seconds + 15),
        "RUN_USER_RATE_LIMIT": "100000 per minute",
    }
    with served_site(bench_config_of(app), **settings) as base_url:
        flooding, watching = Visitor(base_url), Visitor(base_url)
        flooding.log_in("flooder")
        watching.log_in("bystander")
        _bystander(watching, hello, 2)  # warm-up: imports, templates
        quiet_pages, quiet_runs = _bystander(watching, hello, samples)

        flood_results: list = []
        flooder_thread = threading.Thread(
            target=lambda: flood_results.extend(
                _in_parallel([lambda: timed(lambda: flooding.run(sleeper))] * flood)
            )
        )
        flooder_thread.start()
        time.sleep(0.5)  # the flood is in: its runs hold their slots, the rest were refused
        flood_pages, flood_runs = _bystander(watching, hello, samples)
        flooder_thread.join()

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

    statuses = [status for (status, _), _ in flood_results]
    refused = [elapsed for (status, _), elapsed in flood_results if status == 429]
    finished = sum(1 for (status, answer), _ in flood_results if status == 200 and answer["ok"])
    name = f"flooder's {flood} parallel {flood_seconds:g} s runs: the refused ones"
    report.add(name, refused or [0.0], refused=len(refused), ran=finished, statuses=statuses)
