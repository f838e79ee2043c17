"""`GET /healthz`: open to anyone (load balancers and uptime checkers don't log in), read-only,
rate-limited per client address. `GET /metrics`: loopback or METRICS_TOKEN only.
`GET /admin/status`: admins only (404 to anyone else, as every admin page)."""

import hmac
import ipaddress

from flask import Response, abort, current_app, jsonify, render_template, request

from ..admin.routes import admin_required
from ..extensions import limiter
from . import bp, status
from .health import check_consumer, check_database, check_disk, health_report
from .metrics import CONTENT_TYPE_LATEST, exposition


@bp.get("/healthz")
@limiter.limit("120 per minute")
def healthz():
    """200 {"status": "ok", "checks": …} when everything answers; 503 naming what doesn't."""
    ok, report = health_report(current_app._get_current_object())  # type: ignore[attr-defined]
    return jsonify(report), 200 if ok else 503


def _may_read_metrics() -> bool:
    """Loopback clients (a Prometheus on the same machine), or anyone presenting METRICS_TOKEN."""
    token = current_app.config.get("METRICS_TOKEN") or ""
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    if not current_app.config.get("TRUSTED_PROXIES") and (
        "X-Forwarded-For" in request.headers or "Forwarded" in request.headers
    ):
        # A reverse proxy on this machine makes every visitor look like loopback: a proxied
        # request counts as loopback only when TRUSTED_PROXIES says which address is real.
        return False
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


@bp.get("/metrics")
def metrics():
    """Prometheus's text format; a page that does not exist for anyone else."""
    if not _may_read_metrics():
        abort(404)
    body = exposition(current_app._get_current_object())  # type: ignore[attr-defined]
    return Response(body, mimetype=CONTENT_TYPE_LATEST)


@bp.get("/admin/status")
@admin_required
def admin_status():
    """The site at a glance for admins: runs, queue, failing schedules, storage, alerts."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    checks = {
        "Database": check_database(),
        "Queue consumer": check_consumer(app),
        "Disk": check_disk(app),
    }
    return render_template(
        "operations/status.html",
        checks=checks,
        runs=status.runs_last_hour(),
        queue=status.queue_depth(),
        schedules=status.failing_schedules(),
        accounts=status.largest_accounts(),
        alerts=status.recent_alerts(),
        blocks=status.active_extraction_blocks(),
        pool_ready=status.warm_pool_idle(app),
    )
