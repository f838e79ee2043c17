"""`/metrics` in Prometheus's text format (the `prometheus_client` library).

Two kinds of numbers:
- counted as things happen, in each process: requests by endpoint and status, finished runs by
  kind and outcome with their durations, extraction alerts, mail outcomes, and (from
  pyspace/counters.py) sandbox starts, database busy waits and queued runs' waits. Runs, alerts
  and mail are counted by SQLAlchemy events on their rows, so the queue consumer's count too. With
  PROMETHEUS_MULTIPROC_DIR set (`./manage.sh serve` sets it for gunicorn and the consumer),
  every process writes its counts there and a scrape adds them up;
- read from the database and this process at each scrape: queue depth, runs in the last hour,
  failing schedules, active extraction blocks, the warm pool's size and ready sandboxes, free
  disk.
"""

import os
import time
from collections.abc import Iterator

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import event, inspect

from ..counters import MAIL
from ..models import AuditEvent, MailMessage, Run
from . import status

FINISHED = ("completed", "failed", "killed", "missing", "skipped")
# A mail row's outcomes; "refused" (by a daily limit) is counted where it is refused: that row
# is deleted.
MAIL_OUTCOMES = ("sent", "outbox", "failed")

REQUESTS = Counter(
    "pyspace_http_requests",
    "HTTP requests answered, by endpoint, method and status",
    ["endpoint", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "pyspace_http_request_seconds", "Time to answer a request, by endpoint", ["endpoint"]
)
RUNS = Counter("pyspace_runs_finished", "Runs that ended, by kind and outcome", ["kind", "status"])
RUN_SECONDS = Histogram(
    "pyspace_run_seconds",
    "How long runs took in their sandbox, by kind",
    ["kind"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
EXTRACTION_ALERTS = Counter(
    "pyspace_extraction_alerts", "Possible secret-extraction attempts blocked"
)


def _count_finished_run(mapper, connection, run: Run) -> None:
    state = inspect(run)
    changed = state.attrs.status.history.has_changes() or state.pending
    if run.status in FINISHED and changed:
        RUNS.labels(run.kind, run.status).inc()
        if run.duration_ms is not None:
            RUN_SECONDS.labels(run.kind).observe(run.duration_ms / 1000)


def _count_alert(mapper, connection, audit_event: AuditEvent) -> None:
    if audit_event.action == "extraction":
        EXTRACTION_ALERTS.inc()


def _count_mail(mapper, connection, message: MailMessage) -> None:
    state = inspect(message)
    changed = state.attrs.status.history.has_changes() or state.pending
    if message.status in MAIL_OUTCOMES and changed:
        MAIL.labels(message.status).inc()


def listen_to_models() -> None:
    """Count runs, alerts and mail as their rows are written (once per process)."""
    if not event.contains(Run, "after_insert", _count_finished_run):
        event.listen(Run, "after_insert", _count_finished_run)
        event.listen(Run, "after_update", _count_finished_run)
        event.listen(AuditEvent, "after_insert", _count_alert)
        event.listen(MailMessage, "after_insert", _count_mail)
        event.listen(MailMessage, "after_update", _count_mail)


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _count_request(response: Response) -> Response:
    endpoint = request.endpoint or "unmatched"
    REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
    started = g.get("metrics_started")
    if started is not None:
        REQUEST_SECONDS.labels(endpoint).observe(time.perf_counter() - started)
    return response


def count_requests(app: Flask) -> None:
    app.before_request(_start_timer)
    app.after_request(_count_request)


class SiteCollector(Collector):
    """The numbers read at scrape time (see the module's docstring)."""

    def __init__(self, app: Flask):
        self.app = app

    def collect(self) -> Iterator[Metric]:
        queue = GaugeMetricFamily(
            "pyspace_queue_runs",
            "Runs queued or running now, by state and kind",
            labels=["state", "kind"],
        )
        for key, count in status.queue_depth().items():
            state, kind = key.split(":", 1)
            queue.add_metric([state, kind], count)
        yield queue
        recent = status.runs_last_hour()
        last_hour = GaugeMetricFamily(
            "pyspace_runs_last_hour",
            "Runs started in the last hour, by kind and status",
            labels=["kind", "status"],
        )
        for (kind, run_status), count in recent.by_kind_status.items():
            last_hour.add_metric([kind, run_status], count)
        yield last_hour
        yield GaugeMetricFamily(
            "pyspace_schedules_failing",
            "Schedules whose last runs failed",
            value=len(status.failing_schedules(limit=10_000)),
        )
        yield GaugeMetricFamily(
            "pyspace_extraction_blocks_active",
            "Callers blocked from a widget for possible secret extraction",
            value=status.active_extraction_blocks(),
        )
        yield GaugeMetricFamily(
            "pyspace_warm_pool_size",
            "Sandboxes this web process's warm pool keeps ready (0: no pool)",
            value=status.warm_pool_size(self.app),
        )
        idle = status.warm_pool_idle(self.app)
        yield GaugeMetricFamily(
            "pyspace_warm_pool_ready",
            "Ready sandboxes in this web process's warm pool",
            value=idle if idle is not None else 0,
        )
        yield GaugeMetricFamily(
            "pyspace_instance_used_bytes",
            "Bytes in the instance folder's files (database, queue, keys)",
            value=status.instance_used_bytes(self.app),
        )
        yield GaugeMetricFamily(
            "pyspace_instance_disk_free_bytes",
            "Free bytes on the instance folder's disk",
            value=status.disk_free_bytes(self.app),
        )


def exposition(app: Flask) -> bytes:
    """The metrics page's body."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_Forward(REGISTRY))
    registry.register(SiteCollector(app))
    return generate_latest(registry)


class _Forward(Collector):
    """This process's own counters (the default registry), inside a per-scrape registry."""

    def __init__(self, source: CollectorRegistry):
        self.source = source

    def collect(self) -> Iterator[Metric]:
        return iter(self.source.collect())


__all__ = ["CONTENT_TYPE_LATEST", "count_requests", "exposition", "listen_to_models"]
