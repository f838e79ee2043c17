"""/admin/status: admins see runs, queue, failing schedules, largest accounts and alerts;
everyone else gets 404, as on every admin page."""

from sqlalchemy import select

from pyspace.extensions import db
from pyspace.models import AuditEvent, DataTable, Run, Schedule, User


def make_admin(app, username="alice"):
    with app.app_context():
        db.session.scalar(select(User).filter_by(username=username)).is_admin = True
        db.session.commit()


def test_status_page_is_not_found_for_visitors_and_non_admins(app, client, bob):
    assert client.get("/admin/status").status_code == 404
    assert bob.client.get("/admin/status").status_code == 404


def test_status_page_shows_the_site_at_a_glance_to_admins(app, alice, bob):
    make_admin(app)
    widget_id = bob.create_widget(title="Weather logger", server_code="print(1)\n" * 50)
    with app.app_context():
        db.session.add_all(
            [
                Run(widget_id=widget_id, kind="run", status="completed", duration_ms=120),
                Run(widget_id=widget_id, kind="task", status="failed", duration_ms=300),
                Run(widget_id=widget_id, kind="task", status="queued"),
                Schedule(
                    widget_id=widget_id, task_name="fetch_weather", every="hour", failure_streak=4
                ),
                DataTable(widget_id=widget_id, name="readings", row_count=10, byte_count=5000),
                AuditEvent(
                    widget_id=widget_id, action="extraction", detail="blocked user:9 for an hour"
                ),
            ]
        )
        db.session.commit()
    response = alice.client.get("/admin/status")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "3 runs, 1 failed or missing" in page
    assert "queued task: 1" in page
    assert "fetch_weather" in page and "<td>4</td>" in page
    # bob stores the most: his code and his table's 5000 bytes.
    accounts = page.split("Largest accounts", 1)[1]
    assert accounts.index("bob") < accounts.index("</table>")
    assert "5000 bytes" in accounts
    assert "blocked user:9 for an hour" in page
    assert "Weather logger" in page
    assert response.headers["Cache-Control"] == "no-store"
