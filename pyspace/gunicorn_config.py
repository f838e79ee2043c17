"""gunicorn's settings for `./manage.sh serve`, and for the benchmarks that measure that server.

One gthread worker: the warm pool of sandboxes, the rate-limit counters (memory:// storage) and
the runner's concurrency caps live in the worker process, so one process keeps them whole; more
threads than run slots keep page loads from queueing behind runs.
"""

import os

bind = os.environ.get("PYSPACE_BIND", "127.0.0.1:5000")
workers = 1
worker_class = "gthread"
threads = 8
accesslog = "-"
