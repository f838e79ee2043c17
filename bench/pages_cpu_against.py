"""Pages' CPU, this checkout against another: `python -m bench.pages_cpu_against DIR [--bursts B]
[--per-burst N]`.

On a shared machine a page's CPU time moves with the load (the other core's work, frequency), so
two runs of `bench.pages_cpu` minutes apart compare the load as much as the code. This starts the
pages of `bench.pages_cpu` (same app, same data, same three requests) in two processes, one
importing this checkout and one importing DIR (another worktree, e.g. `git worktree add
/tmp/base main`, with its .venv), and measures them in turns: B bursts of N requests per page
and side, the side going first alternating. Prints each page's median request-thread CPU per
side over all its bursts, and the ratio. DIR needs only `bench/sample_data.py`.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
PAGES = ("home", "public", "editor")
WARM_UP = 5


def serve_measurements() -> None:
    """The measuring side (run with the checkout to measure as the working directory): builds
    the app as `bench.pages_cpu` does, then for each line `PAGE N` on stdin prints the
    request-thread CPU (µs) of N requests of PAGE as a JSON list."""
    sys.path.insert(0, os.getcwd())
    from bench.sample_data import logged_in_client, make_app, make_user, make_widget

    with tempfile.TemporaryDirectory(prefix="pyspace-pages-against-") as workdir:
        app = make_app(workdir, RUN_POOL_SIZE=0, RATELIMIT_ENABLED=True)
        with app.app_context():
            owner = make_user("pages")
            widget_id = make_widget(owner, 10, title="Weather")
        owner_client, anonymous = logged_in_client(app, owner), app.test_client()
        pages = {
            "home": (anonymous, "/"),
            "public": (anonymous, f"/widgets/{widget_id}"),
            "editor": (owner_client, f"/widgets/{widget_id}/edit"),
        }
        for client, path in pages.values():
            for _ in range(WARM_UP):
                client.get(path)
        print("ready", flush=True)
        for line in sys.stdin:
            page, count = line.split()
            client, path = pages[page]
            spent = []
            for _ in range(int(count)):
                started = time.thread_time_ns()
                response = client.get(path)
                spent.append((time.thread_time_ns() - started) / 1000)
                assert response.status_code == 200, (path, response.status_code)
            print(json.dumps(spent), flush=True)


def main(other: Path, bursts: int, per_burst: int) -> None:
    """Measure both checkouts in turns and print the comparison (see the module docstring)."""
    sides = {}
    for name, checkout in (("this", HERE), ("other", other)):
        python = checkout / ".venv" / "bin" / "python"
        sides[name] = subprocess.Popen(
            [str(python), __file__, "--serve"],
            cwd=checkout,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert sides[name].stdout is not None
        assert sides[name].stdout.readline().strip() == "ready", f"{checkout} did not start"
    samples: dict[tuple[str, str], list[float]] = {}
    for burst in range(bursts):
        order = ("this", "other") if burst % 2 == 0 else ("other", "this")
        for page in PAGES:
            for name in order:
                side = sides[name]
                assert side.stdin is not None and side.stdout is not None
                side.stdin.write(f"{page} {per_burst}\n")
                side.stdin.flush()
                samples.setdefault((name, page), []).extend(json.loads(side.stdout.readline()))
    for side in sides.values():
        assert side.stdin is not None
        side.stdin.close()
        side.wait()
    print(
        f"Request-thread CPU per page, median of {bursts} × {per_burst} per side, in turns;"
        f" this = {HERE}, other = {other}:"
    )
    for page in PAGES:
        mine = statistics.median(samples[("this", page)])
        theirs = statistics.median(samples[("other", page)])
        ratio = mine / theirs
        print(f"{page:7} other {theirs:6.0f} µs  this {mine:6.0f} µs  this/other {ratio:.2f}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve_measurements()
        sys.exit()
    parser = argparse.ArgumentParser(prog="python -m bench.pages_cpu_against", description=__doc__)
    parser.add_argument("other", type=Path, help="the other checkout (with its .venv)")
    parser.add_argument("--bursts", type=int, default=20, help="bursts per page and side (20)")
    parser.add_argument("--per-burst", type=int, default=20, help="requests per burst (20)")
    arguments = parser.parse_args()
    main(arguments.other.resolve(), arguments.bursts, arguments.per_burst)
