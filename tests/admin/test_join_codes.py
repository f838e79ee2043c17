"""Admins make and withdraw join codes in /admin (expiry and number of uses)."""

import pytest

from pyspace.extensions import db
from pyspace.models import JoinCode, User, utcnow


@pytest.fixture
def teacher(app, alice):
    with app.app_context():
        db.session.scalar(db.select(User).filter_by(username="alice")).is_admin = True
        db.session.commit()
    return alice


def test_an_admin_makes_a_join_code_with_uses_and_expiry(app, teacher):
    response = teacher.post(
        "/admin/join-codes/new", {"note": "Class 7B", "max_uses": "30", "days": "7"}
    )
    assert response.status_code == 302
    with app.app_context():
        code = db.session.scalar(db.select(JoinCode))
        assert (code.max_uses, code.uses, code.note) == (30, 0, "Class 7B")
        assert 6.9 < (code.expires_at - utcnow()).total_seconds() / 86400 <= 7
    page = teacher.client.get("/admin/join-codes").get_data(as_text=True)
    assert code.code in page and "Class 7B" in page and "0 / 30" in page


@pytest.mark.parametrize(
    "data, message",
    [
        ({"max_uses": "0", "days": "7"}, "Between 1 and 1000 uses."),
        ({"max_uses": "30", "days": "999"}, "Between 1 and 365 days."),
        ({"max_uses": "lots", "days": "7"}, "Not a valid integer value."),
    ],
)
def test_a_bad_join_code_form_says_what_is_wrong(app, teacher, data, message):
    response = teacher.post("/admin/join-codes/new", data)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(JoinCode)) == 0


def test_an_admin_withdraws_a_join_code(app, teacher):
    teacher.post("/admin/join-codes/new", {"max_uses": "3", "days": "1"})
    with app.app_context():
        code_id = db.session.scalar(db.select(JoinCode.id))
    assert teacher.post(f"/admin/join-codes/{code_id}/delete").status_code == 302
    with app.app_context():
        assert db.session.get(JoinCode, code_id) is None
