"""`GET /healthz`: open to anyone (load balancers and uptime checkers don't log in), read-only,
rate-limited per client address."""

from flask import current_app, jsonify

from ..extensions import limiter
from . import bp
from .health import health_report


@bp.get("/healthz")
@limiter.limit("120 per minute")
def healthz():
    """200 {"status": "ok", "checks": …} when everything answers; 503 naming what doesn't."""
    ok, report = health_report(current_app._get_current_object())  # type: ignore[attr-defined]
    return jsonify(report), 200 if ok else 503
