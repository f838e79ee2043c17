"""Page benchmarks in-process (Flask test clients): the Secrets panel, the public page, the editor."""
from pyspace import vault
from pyspace.extensions import db
from pyspace.models import Secret

from .baseline_apps import hello, plain_rows_app
from .measure import Report, time_interleaved
from .sample_data import logged_in_client, make_user, make_widget

PANEL_SIZES = (10, 500, 5000)


def _get(client, path: str, **headers):
    def request():
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.status_code)
        return response
    return request


def _rows_in_memory(widget_id: str) -> list[dict]:
    """The same rows the panel shows, read once, to hand to the plain-Flask baseline."""
    return [{"id": s.id, "name": s.name, "description": s.description, "required": s.required,
             "blank": s.ciphertext is None}
            for s in db.session.scalars(db.select(Secret).filter_by(widget_id=widget_id).order_by(Secret.id))]


def bench_secrets_panel(app, report: Report, repeat: int, sizes=PANEL_SIZES) -> None:
    """The Secrets panel (htmx partial) for widgets of each size, vs the same rows in plain Flask."""
    with app.app_context():
        owner = make_user("panelowner")
        widgets = {size: make_widget(owner, size, title=f"{size} secrets") for size in sizes}
        rows = {size: _rows_in_memory(widget_id) for size, widget_id in widgets.items()}
    client = logged_in_client(app, owner)
    for size in sizes:
        # Fewer repetitions for the biggest panel: each one takes long enough to time well.
        times = max(5, repeat // (5 if size >= 5000 else 1))
        baseline, name = f"plain Flask rows, {size}", f"secrets panel, {size} secrets"
        panel = _get(client, f"/widgets/{widgets[size]}/secrets", **{"HX-Request": "true"})
        # The baseline renders exactly the rows the panel shows (all of them, unless it pages).
        shown = panel().get_data(as_text=True).count('class="secret-row')
        plain = plain_rows_app(rows[size][:shown]).test_client()
        decryptions_before = vault.decryption_count()
        samples = time_interleaved({baseline: _get(plain, "/secrets"), name: panel}, times)
        decryptions = vault.decryption_count() - decryptions_before
        report.add(baseline, samples[baseline], bytes=len(plain.get("/secrets").data))
        report.add(name, samples[name], baseline=baseline, decryptions=decryptions,
                   rows_shown=shown, bytes=len(panel().data))
        report.check(name, "0 decryptions", decryptions == 0)
    if 500 in sizes:
        name = "secrets panel, 500 secrets"
        report.check(name, "≤ 2× plain Flask, 0 decryptions",
                     report.figures[name].ratio <= 2.0 and report.figures[name].met)
    if 500 in sizes and 5000 in sizes:
        name = "secrets panel, 5000 secrets"
        growth = report.median(name) / (10 * report.median("secrets panel, 500 secrets"))
        report.figures[name].extra["vs_10x_500"] = growth
        plain_growth = report.median("plain Flask rows, 5000") / (10 * report.median("plain Flask rows, 500"))
        report.figures["plain Flask rows, 5000"].extra["vs_10x_500"] = plain_growth
        report.check(name, "< 0.5 × (10 × the 500 case), 0 decryptions",
                     growth < 0.5 and report.figures[name].met)


def bench_widget_pages(app, report: Report, repeat: int) -> None:
    """The public page (anonymous viewer) and the editor (owner) of a widget with 10 secrets,
    vs a bare Flask "hello" view through the same kind of test client."""
    with app.app_context():
        owner = make_user("pageowner")
        widget_id = make_widget(owner, 10)
    baseline = "flask hello (test client)"
    samples = time_interleaved({
        baseline: _get(hello.test_client(), "/"),
        "public page": _get(app.test_client(), f"/widgets/{widget_id}"),
        "editor page": _get(logged_in_client(app, owner), f"/widgets/{widget_id}/edit"),
    }, repeat)
    report.add(baseline, samples[baseline])
    report.add("public page", samples["public page"], baseline=baseline)
    report.add("editor page", samples["editor page"], baseline=baseline)
