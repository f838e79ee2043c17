"""References to rows, searches and tasks (pyspace/gui/references.py): signed on the way to a
page, checked on the way back, and never confused with a plain dict's own "$t" key."""

import pytest

from pyspace.gui.references import ValueReferenceError, resolved_from_frame, signed_for_frame

ROW = {"$t": "row", "table": "tasks", "id": "7", "values": {"name": "x"}}


def test_a_plain_dict_with_a_tag_named_key_is_data_not_a_reference(app):
    plain = {"$t": "dict", "v": {"$t": "row", "note": "a user's own key"}}
    with app.test_request_context():
        assert signed_for_frame(plain, "w1", "token-a") == plain
        assert resolved_from_frame(plain, "w1", "token-a") == plain


def test_a_row_inside_such_a_dict_is_still_signed_and_checked(app):
    value = {"$t": "dict", "v": {"$t": "mine", "row": ROW}}
    with app.test_request_context():
        signed = signed_for_frame(value, "w1", "token-a")
        ref = signed["v"]["row"]["ref"]
        back = resolved_from_frame(signed, "w1", "token-a")
        assert back == {
            "$t": "dict",
            "v": {"$t": "mine", "row": {"$t": "row", "table": "tasks", "id": "7"}},
        }
        with pytest.raises(ValueReferenceError):
            resolved_from_frame(signed, "w1", "token-b")
        with pytest.raises(ValueReferenceError):
            resolved_from_frame(signed, "w2", "token-a")
    assert ref
