"""A warm pool of networked sandboxes in a process of its own, for the test that kills it.

Usage: python -m tests.sandbox.pool_process CONFIG_JSON_FILE
Prints "full" once the pool holds its sandboxes, then waits to be killed."""

import json
import sys
import time

from pyspace import create_app
from pyspace.sandbox import runner_for


def main() -> None:
    with open(sys.argv[1]) as config_file:
        app = create_app(json.load(config_file))
    pool = runner_for(app).pool
    full = pool is not None and pool.wait_until_full(60)
    print("full" if full else "not full", flush=True)
    time.sleep(600)


if __name__ == "__main__":
    main()
