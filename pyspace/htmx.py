"""One place that decides between an htmx fragment and a full page."""

import json

from flask import Flask, Response, redirect, render_template, request
from werkzeug.wrappers import Response as BaseResponse


def is_htmx() -> bool:
    """True for requests htmx made (it sends `HX-Request: true`)."""
    return request.headers.get("HX-Request") == "true"


def render_partial_or_page(partial: str, page: str, **context) -> str:
    """Render `partial` for htmx requests and `page` (which includes the partial) otherwise."""
    return render_template(partial if is_htmx() else page, **context)


def redirect_to(url: str) -> BaseResponse:
    """A redirect that also works for htmx requests (which would swap a 302's target in place)."""
    if is_htmx():
        response = Response(status=204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url)


def trigger(response: Response, **events) -> Response:
    """Attach htmx client events (toasts, panel refreshes) to `response` via HX-Trigger."""
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
        response.vary.add("HX-Request")
        return response
