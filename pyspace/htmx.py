"""One place that decides between an htmx fragment and a full page, and sets htmx's headers."""

import json

from flask import Flask, Response, make_response, redirect, render_template, request
from werkzeug.wrappers import Response as BaseResponse


def is_htmx() -> bool:
    """True for requests htmx made (it sends `HX-Request: true`)."""
    return request.headers.get("HX-Request") == "true"


def toast(message: str, level: str = "success") -> dict:
    """The HX-Trigger event that shows `message` in a toast (`static/js/htmx-feedback.js`)."""
    return {"toast": {"message": message, "level": level}}


def respond(
    partial: str,
    page: str | None,
    context: dict,
    status: int = 200,
    events: dict | None = None,
) -> Response:
    """Answer `partial` to htmx and `page` (which includes the partial) to a plain browser —
    `partial` to both when `page` is None — with `status` and the HX-Trigger `events` (a
    `toast(...)`, a "refresh the panel" event)."""
    template = partial if page is None or is_htmx() else page
    response = make_response(render_template(template, **context), status)
    return trigger(response, **(events or {}))


def redirect_to(url: str) -> BaseResponse:
    """A redirect that also works for htmx requests (which would swap a 302's target in place)."""
    if is_htmx():
        response = Response(status=204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url)


def trigger(response: Response, **events) -> Response:
    """Attach htmx client events (toasts, panel refreshes) to `response` via HX-Trigger."""
    if not events:
        return response
    existing = response.headers.get("HX-Trigger")
    merged = json.loads(existing) if existing else {}
    merged.update(events)
    response.headers["HX-Trigger"] = json.dumps(merged)
    return response


def retarget(response: Response, selector: str, swap: str = "innerHTML") -> Response:
    """Send `response` to `selector` instead of the element that asked (HX-Retarget/HX-Reswap)."""
    response.headers["HX-Retarget"] = selector
    response.headers["HX-Reswap"] = swap
    return response


def register(app: Flask) -> None:
    """Mark every response as varying on HX-Request."""

    @app.after_request
    def vary_on_hx_request(response: Response) -> Response:
        # Caches must not hand a fragment to a full-page request or the other way round.
        # (Set directly when no Vary is there yet: `response.vary` parses and rewrites it.)
        if "Vary" not in response.headers:
            response.headers["Vary"] = "HX-Request"
        else:
            response.vary.add("HX-Request")
        return response
