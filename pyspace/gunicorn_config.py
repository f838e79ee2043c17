"""gunicorn's settings for `./manage.sh serve`, and for the benchmarks that measure that server.

gthread workers, one per CPU core (WEB_WORKERS), when the machine's sandbox service keeps the
warm pool and the fair queues (SANDBOX_SERVICE, which `./manage.sh serve` sets) and the
rate-limit counters live where every worker sees them (RATELIMIT_STORAGE_URI). Without a
service one worker: its pool and its fair queue must be the only ones. Each worker gets a thread
for every run that may be in flight (running or queued) plus threads that only ever serve
pages: page loads never wait behind runs.
"""

import os

from pyspace.config import config_from_environment
from pyspace.log_format import gunicorn_logconfig, wants_json
from pyspace.sandbox.fairness import request_threads_from_environment


def web_workers() -> int:
    """WEB_WORKERS, by default one per core; 1 where no sandbox service is set."""
    config = config_from_environment()
    if not config.get("SANDBOX_SERVICE"):
        return 1
    return max(1, int(config.get("WEB_WORKERS") or os.cpu_count() or 1))


bind = os.environ.get("PYSPACE_BIND", "127.0.0.1:5000")
workers = web_workers()
worker_class = "gthread"
threads = request_threads_from_environment()
accesslog = "-"
# The site's own log (the warm pool's readiness, cgroup and network set-up, refused runs) goes
# to stderr beside gunicorn's: without a handler on the root logger Python drops INFO messages.
# gunicorn's own loggers stop propagating, so their lines are not printed twice.
# PYSPACE_LOG_FORMAT=json: one JSON object per line (pyspace/log_format.py).
logconfig_dict = gunicorn_logconfig(wants_json())


def when_ready(server) -> None:
    """Log a line when the web server starts serving (and, below, when it stops)."""
    server.log.info("py.space web server started on %s", bind)


def on_exit(server) -> None:
    server.log.info("py.space web server stopped")


def child_exit(server, worker) -> None:
    """A worker that ended leaves its metrics files behind, summed by /metrics (multiprocess
    mode, PROMETHEUS_MULTIPROC_DIR); this marks them as a dead process's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
