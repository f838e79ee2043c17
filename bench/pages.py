"""Page benchmarks in-process (Flask test clients): the Secrets panel, public page, editor."""

import re

from pyspace.extensions import db
from pyspace.models import Secret

from .baseline_apps import PlainRow, hello, plain_rows_app
from .measure import Report, counted_decryptions, time_interleaved
from .sample_data import logged_in_client, make_user, make_widget

PANEL_SIZES = (10, 500, 5000)


def _get(client, path: str, **headers):
    def request():
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.status_code)
        return response

    return request


def _rows_in_memory(widget_id: str) -> list[PlainRow]:
    """The widget's rows as the panel reads them, read once, to hand to the plain-Flask baseline."""
    return [
        PlainRow(
            s.id,
            s.name,
            s.description,
            s.required,
            s.write_only,
            s.value_changed_at,
            s.last_viewed_at,
            s.last_used_at,
            s.ciphertext is None,
        )
        for s in db.session.scalars(
            db.select(Secret).filter_by(widget_id=widget_id).order_by(Secret.id)
        )
    ]


def _secret_list(html: str) -> str:
    """The `<ul class="secret-list">` of a panel, whitespace-normalised, CSRF token values out."""
    start = html.index('<ul class="secret-list">')
    listing = html[start : html.index("</ul>", start)]
    return " ".join(re.sub(r'(name="csrf_token" value=")[^"]*', r"\1", listing).split())


def bench_secrets_panel(app, report: Report, repeat: int, sizes=PANEL_SIZES) -> None:
    """The Secrets panel (htmx partial) for widgets of each size, vs the rows in plain Flask."""
    with app.app_context():
        owner = make_user("panelowner")
        widgets = {size: make_widget(owner, size, title=f"{size} secrets") for size in sizes}
        rows = {size: _rows_in_memory(widget_id) for size, widget_id in widgets.items()}
    client = logged_in_client(app, owner)
    for size in sizes:
        # Fewer repetitions for the biggest panels: each one takes long enough to time well.
        times = max(5, repeat // (5 if size >= 5000 else 1))
        baseline, name = f"plain Flask rows, {size}", f"secrets panel, {size} secrets"
        path = f"/widgets/{widgets[size]}/secrets"
        panel = _get(client, path, **{"HX-Request": "true"})
        # The baseline renders exactly the rows the panel shows (one page of them: it pages),
        # with the same markup — checked here, so the comparison stays fair as the panel changes.
        panel_html = panel().get_data(as_text=True)
        shown = panel_html.count('class="secret-row')
        plain = plain_rows_app(rows[size][:shown], len(rows[size])).test_client()
        plain_html = plain.get(path).get_data(as_text=True)
        assert _secret_list(plain_html) == _secret_list(panel_html), (
            "baseline markup differs from the panel's"
        )
        with counted_decryptions() as count:
            samples = time_interleaved({baseline: _get(plain, path), name: panel}, times)
        decryptions = count.value
        report.add(baseline, samples[baseline], rows_shown=shown, bytes=len(plain_html))
        report.add(
            name,
            samples[name],
            baseline=baseline,
            decryptions=decryptions,
            rows_shown=shown,
            bytes=len(panel_html),
        )
        report.check(name, "0 decryptions", decryptions == 0)
    if 500 in sizes:
        name = "secrets panel, 500 secrets"
        report.check(
            name,
            "≤ 2× plain Flask, 0 decryptions",
            report.figures[name].ratio <= 2.0 and report.figures[name].met,
        )
    if 500 in sizes and 5000 in sizes:
        name = "secrets panel, 5000 secrets"
        growth = report.median(name) / (10 * report.median("secrets panel, 500 secrets"))
        report.figures[name].extra["vs_10x_500"] = growth
        plain_growth = report.median("plain Flask rows, 5000") / (
            10 * report.median("plain Flask rows, 500")
        )
        report.figures["plain Flask rows, 5000"].extra["vs_10x_500"] = plain_growth
        report.check(
            name,
            "< 0.5 × (10 × the 500 case), 0 decryptions",
            growth < 0.5 and report.figures[name].met,
        )


def bench_widget_pages(app, report: Report, repeat: int) -> None:
    """The public page (anonymous viewer) and the editor (owner) of a widget with 10 secrets,
    vs a bare Flask "hello" view through the same kind of test client."""
    with app.app_context():
        owner = make_user("pageowner")
        widget_id = make_widget(owner, 10)
    baseline = "flask hello (test client)"
    samples = time_interleaved(
        {
            baseline: _get(hello.test_client(), "/"),
            "public page": _get(app.test_client(), f"/widgets/{widget_id}"),
            "editor page": _get(logged_in_client(app, owner), f"/widgets/{widget_id}/edit"),
        },
        repeat,
    )
    report.add(baseline, samples[baseline])
    report.add("public page", samples["public page"], baseline=baseline)
    report.add("editor page", samples["editor page"], baseline=baseline)
