"""A queue consumer or a scheduler in a process of its own, for the multi-process tests.

Usage: python -m tests.tasks.worker_process CONFIG_JSON_FILE consumer|ticks [WORKERS|SECONDS]
(the app is built from the test's own config, so it shares the test's database and queue)."""

import json
import sys
import time

from pyspace import create_app


def main() -> None:
    with open(sys.argv[1]) as config_file:
        app = create_app(json.load(config_file))
    mode = sys.argv[2]
    if mode == "consumer":
        from pyspace.tasks.cli import run_consumer

        run_consumer(app, int(sys.argv[3]), scheduler=False)
    elif mode == "ticks":
        from pyspace.tasks.schedules import tick

        # Tick as fast as possible for a while: the other process does the same, so both
        # keep finding the same due schedules at the same moments.
        deadline = time.monotonic() + float(sys.argv[3])
        claimed = 0
        while time.monotonic() < deadline:
            with app.app_context():
                claimed += len(tick())
        print(claimed, flush=True)


if __name__ == "__main__":
    main()
