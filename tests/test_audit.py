"""The audit log: who did what to which secret, newest first — never a value."""

import pytest

from pyspace import audit
from pyspace.extensions import db
from pyspace.models import AuditEvent, Widget


@pytest.fixture
def widget_id(app, make_user):
    owner_id = make_user("owner")
    with app.app_context():
        widget = Widget(owner_id=owner_id, title="Audited")
        db.session.add(widget)
        db.session.commit()
        return widget.id


def test_unknown_actions_are_refused(app, widget_id):
    with app.app_context(), pytest.raises(ValueError, match="unknown audit action"):
        audit.record(widget_id, None, "steal", "api_key")


def test_recent_events_are_newest_first_and_limited(app, widget_id):
    with app.app_context():
        for number in range(5):
            audit.record(widget_id, None, "create", f"new_secret_{number}")
        db.session.commit()
        names = [event.secret_name for event in audit.recent_events(widget_id, limit=3)]
        assert names == ["new_secret_4", "new_secret_3", "new_secret_2"]


def test_details_are_cut_to_the_column_size(app, widget_id):
    with app.app_context():
        event = audit.record(widget_id, None, "rename", "x", detail="d" * 500)
        db.session.commit()
        assert len(db.session.get(AuditEvent, event.id).detail) == 200


def test_events_go_with_their_widget(app, widget_id):
    with app.app_context():
        audit.record(widget_id, None, "create", "api_key")
        db.session.commit()
        db.session.delete(db.session.get(Widget, widget_id))
        db.session.commit()
        assert db.session.scalar(db.select(db.func.count()).select_from(AuditEvent)) == 0


def test_every_action_is_shown_with_its_one_verb_in_the_activity_list(app, widget_id):
    from flask import render_template

    with app.app_context():
        for action in audit.ACTIONS:
            audit.record(widget_id, None, action, "api_key")
        db.session.commit()
        with app.test_request_context():
            html = render_template(
                "secrets/_audit_list.html", events=audit.recent_events(widget_id, limit=50)
            )
    assert tuple(audit.ACTION_VERBS) == audit.ACTIONS
    for action, verb in audit.ACTION_VERBS.items():
        assert verb in html, action
    # The verbs are defined in audit.py only, not again in a template.
    template = app.jinja_env.loader.get_source(app.jinja_env, "secrets/_audit_list.html")[0]
    assert "set the value of" not in template and "made write-only" not in template
