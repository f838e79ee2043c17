"""Page benchmarks in-process (Flask test clients): the Secrets panel, the public page, the editor."""
from pyspace import vault
from pyspace.extensions import db
from pyspace.models import Secret

from .baseline_apps import hello, plain_rows_app
from .measure import Report, time_ms
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


def bench_hello(report: Report, repeat: int) -> None:
    """The baseline of every in-process page figure: a bare Flask view through the test client."""
    report.add("flask hello (test client)", time_ms(_get(hello.test_client(), "/"), repeat))


def bench_secrets_panel(app, report: Report, repeat: int, sizes=PANEL_SIZES) -> None:
    """The Secrets panel (htmx partial) for widgets of each size, vs the same rows in plain Flask."""
    with app.app_context():
        owner = make_user("panelowner")
        widgets = {size: make_widget(owner, size, title=f"{size} secrets") for size in sizes}
        rows = {size: _rows_in_memory(widget_id) for size, widget_id in widgets.items()}
    client = logged_in_client(app, owner)
    for size in sizes:
        # Fewer repetitions for the biggest panel: each one takes long enough to time well.
        times = max(5, repeat // (10 if size >= 5000 else 1))
        baseline = f"plain Flask rows, {size}"
        plain = plain_rows_app(rows[size]).test_client()
        report.add(baseline, time_ms(_get(plain, "/secrets"), times),
                   bytes=len(plain.get("/secrets").data))
        decryptions_before = vault.decryption_count()
        path = f"/widgets/{widgets[size]}/secrets"
        samples = time_ms(_get(client, path, **{"HX-Request": "true"}), times)
        name = f"secrets panel, {size} secrets"
        report.add(name, samples, baseline=baseline,
                   decryptions=vault.decryption_count() - decryptions_before,
                   bytes=len(client.get(path, headers={"HX-Request": "true"}).data))
        report.check(name, "0 decryptions", report.figures[name].extra["decryptions"] == 0)
    if 500 in sizes:
        report.check("secrets panel, 500 secrets", "≤ 2× plain Flask",
                     report.figures["secrets panel, 500 secrets"].ratio <= 2.0)
    if 500 in sizes and 5000 in sizes:
        growth = report.median("secrets panel, 5000 secrets") / (10 * report.median("secrets panel, 500 secrets"))
        figure = report.figures["secrets panel, 5000 secrets"]
        figure.extra["vs_10x_500"] = growth
        report.check("secrets panel, 5000 secrets", "< 0.5 × (10 × the 500 case)", growth < 0.5)


def bench_widget_pages(app, report: Report, repeat: int) -> None:
    """The public page (anonymous viewer) and the editor (owner) of a widget with 10 secrets."""
    with app.app_context():
        owner = make_user("pageowner")
        widget_id = make_widget(owner, 10)
    anonymous = app.test_client()
    report.add("public page", time_ms(_get(anonymous, f"/widgets/{widget_id}"), repeat),
               baseline="flask hello (test client)")
    report.add("editor page", time_ms(_get(logged_in_client(app, owner), f"/widgets/{widget_id}/edit"), repeat),
               baseline="flask hello (test client)")
