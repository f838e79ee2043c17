"""Many writers at once (a class, or one owner with several tabs) on SQLite: no errors reach
users."""

import re
import threading

from pyspace.extensions import db
from pyspace.models import AuditEvent, Secret

HX = {"HX-Request": "true"}
WRITES_PER_CLIENT = 8


def run_together(jobs):
    """Run `jobs` (callables) in threads started at the same instant; return their results."""
    barrier = threading.Barrier(len(jobs))
    results = [None] * len(jobs)

    def worker(index, job):
        barrier.wait()
        results[index] = job()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def edit_secrets(accounts, widget_id):
    """Create secrets and set their values as fast as possible; return every response."""
    responses = []
    for number in range(WRITES_PER_CLIENT):
        created = accounts.post(f"/widgets/{widget_id}/secrets", htmx=True)
        responses.append(created)
        found = re.findall(r'id="secret-(\d+)"', created.get_data(as_text=True))
        if found:
            responses.append(
                accounts.post(
                    f"/widgets/{widget_id}/secrets/{found[-1]}/value",
                    {"value": f"value-{number}-{widget_id}"},
                    htmx=True,
                )
            )
    return responses


def test_a_class_and_an_owner_with_several_tabs_all_write_without_errors(app, make_client):
    students = []
    for number in range(4):
        student = make_client()
        student.register(f"student{number}")
        students.append((student, student.create_widget(f"Widget {number}")))
    owner = make_client()
    owner.register("teacher")
    shared = owner.create_widget("Shared")
    tabs = [owner] + [make_client() for _ in range(2)]
    for tab in tabs[1:]:
        tab.login("teacher")

    jobs = [lambda s=s, w=w: edit_secrets(s, w) for s, w in students]
    jobs += [lambda t=t: edit_secrets(t, shared) for t in tabs]
    results = run_together(jobs)

    responses = [response for batch in results for response in batch]
    assert len(responses) == (len(students) + len(tabs)) * WRITES_PER_CLIENT * 2
    for response in responses:
        body = response.get_data(as_text=True)
        assert response.status_code == 200, body[:300]
        assert "locked" not in body.lower()
    with app.app_context():
        for _student, widget_id in students:
            assert (
                db.session.scalar(
                    db.select(db.func.count()).select_from(Secret).filter_by(widget_id=widget_id)
                )
                == WRITES_PER_CLIENT
            )
        names = db.session.scalars(db.select(Secret.name).filter_by(widget_id=shared)).all()
        # Three tabs creating at once still get distinct, gap-free new_secret_N names.
        assert sorted(names) == sorted(
            f"new_secret_{n}" for n in range(1, 3 * WRITES_PER_CLIENT + 1)
        )
        assert (
            db.session.scalar(
                db.select(db.func.count())
                .select_from(AuditEvent)
                .filter_by(widget_id=shared, action="create")
            )
            == 3 * WRITES_PER_CLIENT
        )
