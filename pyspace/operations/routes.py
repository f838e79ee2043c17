"""`GET /healthz`: open to anyone (load balancers and uptime checkers don't log in), read-only,
rate-limited per client address. `GET /metrics`: loopback or METRICS_TOKEN only."""

import hmac
import ipaddress

from flask import Response, abort, current_app, jsonify, request

from ..extensions import limiter
from . import bp
from .health import health_report
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
