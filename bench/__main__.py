"""`python -m bench [--quick] [--only GROUP,...] [--out DIR]`: run the benchmarks, print the
table, write the JSON. Groups: pages, panel, fork, throughput, runs, keys, fairness, tasks,
fairtasks, tables, writes, http (as a user feels it: real HTTP against the site served as
`./manage.sh serve` serves it)."""

import argparse
import sys
import tempfile
import time
from pathlib import Path

from .measure import Report

GROUPS = (
    "pages",
    "panel",
    "fork",
    "throughput",
    "runs",
    "keys",
    "fairness",
    "tasks",
    "fairtasks",
    "tables",
    "writes",
    "http",
)
# (full, quick) sizes: repetitions, secrets, requests.
SIZES = {
    "page_repeat": (200, 5),
    "panel_repeat": (100, 5),
    "panel_sizes": ((10, 500, 5000), (10, 100)),
    "fork_repeat": (30, 3),
    "fork_secrets": (1000, 100),
    "throughput_rounds": (5, 1),
    "throughput_requests": (400, 40),
    "start_repeat": (30, 3),
    "run_repeat": (30, 3),
    "get_secret_calls": (1000, 20),
    "key_calls": (1000, 20),
    "flood_runs": (40, 4),
    "flood_seconds": (30, 3),
    "fair_samples": (20, 3),
    "schedule_samples": (20, 2),
    "fair_start_samples": (20, 2),
    "task_runs": (40, 4),
    "task_rounds": (3, 1),
    "add_row_calls": (1000, 20),
    "search_rows": (100_000, 2_000),
    "search_repeat": (50, 3),
    "import_rows": (100_000, 2_000),
    "bystander_tries": (30, 3),
}


def _arguments(argv):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the suite works")
    parser.add_argument("--only", default=",".join(GROUPS), help="comma-separated groups to run")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent / "results",
        help="directory for the JSON file (default bench/results)",
    )
    arguments = parser.parse_args(argv)
    arguments.only = [group.strip() for group in arguments.only.split(",") if group.strip()]
    unknown = set(arguments.only) - set(GROUPS)
    if unknown:
        parser.error(f"unknown group(s): {', '.join(sorted(unknown))}")
    return arguments


def run(groups: list[str], quick: bool, workdir: str) -> Report:
    """Measure the chosen groups in a throw-away database under `workdir`."""
    from pyspace.sandbox import shutdown_runner

    from . import fairness, fork, keys, over_http, pages, runs, tables, tasks, throughput, writes
    from .sample_data import make_app

    size = {key: value[1 if quick else 0] for key, value in SIZES.items()}
    report = Report()
    # Long enough for the get_secret loop; the runner's other limits stay as configured.
    app = make_app(workdir, RUN_WALL_SECONDS=60)

    def runs_group() -> None:
        runs.bench_python_start(app, report, size["start_repeat"])
        cold_app = make_app(str(Path(workdir) / "cold"), RUN_POOL_SIZE=0)
        runs.bench_hello_run(app, cold_app, report, size["run_repeat"])
        runs.bench_get_secret(app, report, size["get_secret_calls"])

    def tasks_group() -> None:
        tasks.bench_schedule_latency(app, report, size["schedule_samples"], workdir)
        tasks.bench_runs_per_second(app, report, size["task_runs"], size["task_rounds"])

    def tables_group() -> None:
        tables.bench_add_row(app, report, size["add_row_calls"])
        tables.bench_ordered_search(app, report, size["search_rows"], size["search_repeat"])

    measure = {
        "panel": lambda: pages.bench_secrets_panel(
            app, report, size["panel_repeat"], size["panel_sizes"]
        ),
        "pages": lambda: pages.bench_widget_pages(app, report, size["page_repeat"]),
        "fork": lambda: fork.bench_fork(
            app, report, size["fork_repeat"], workdir, size["fork_secrets"]
        ),
        "throughput": lambda: throughput.bench_throughput(
            report,
            str(Path(workdir) / "throughput"),
            size["throughput_rounds"],
            size["throughput_requests"],
        ),
        "runs": runs_group,
        "keys": lambda: keys.bench_keys(app, report, size["key_calls"]),
        "http": lambda: over_http.bench_over_http(report, quick),
        "fairness": lambda: fairness.bench_fairness(
            report,
            str(Path(workdir) / "fairness"),
            size["flood_runs"],
            size["flood_seconds"],
            size["fair_samples"],
        ),
        "tasks": tasks_group,
        "fairtasks": lambda: tasks.bench_fair_start(
            app, report, size["fair_start_samples"], workdir
        ),
        "writes": lambda: writes.bench_writes(
            report, str(Path(workdir) / "writes"), size["import_rows"], size["bystander_tries"]
        ),
        "tables": tables_group,
    }
    try:
        # In the order the groups are listed, whatever order they were asked for in.
        for group in GROUPS:
            if group in groups:
                started = time.monotonic()
                measure[group]()
                # On stderr: where a slow benchmark run spends its time.
                print(f"bench: {group} took {time.monotonic() - started:.1f} s", file=sys.stderr)
    finally:
        shutdown_runner(app)
    return report


def main(argv=None) -> int:
    arguments = _arguments(argv)
    from .report_output import describe_machine, machine, table, write_json

    with tempfile.TemporaryDirectory(prefix="pyspace-bench-") as workdir:
        report = run(arguments.only, arguments.quick, workdir)
    quick = " (quick)" if arguments.quick else ""
    print(f"py.space benchmarks{quick} on {describe_machine(machine())}\n")
    print(table(report))
    path = write_json(report, arguments.out, arguments.quick)
    print(f"\nJSON: {path}")
    missed = [figure.name for figure in report.figures.values() if figure.met is False]
    if missed:
        print("Targets missed: " + "; ".join(missed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
