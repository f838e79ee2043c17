"""Redaction: secret values become *** wherever a run's output reaches the owner.

Exact values and their usual encodings are masked (documented in pyspace/sandbox/redaction.py;
encodings in tests/security/test_redaction_encoded_forms.py): the last test shows a value
transformed another way getting through, so nobody mistakes the net for a wall.
"""

import pytest

from pyspace.extensions import db
from pyspace.models import Widget
from pyspace.sandbox import call_function
from pyspace.sandbox.redaction import Redactor
from tests.sandbox.helpers import ROOMY_LIMITS, add_secret, run_json

SECRET = "sk-live-9f8e7d"


@pytest.fixture(autouse=True)
def small_limits(app_config):
    app_config.update(ROOMY_LIMITS)


def test_redactor_masks_every_exact_occurrence():
    redactor = Redactor()
    redactor.add("abc123")
    assert redactor.text("abc123 and abc123!") == "*** and ***!"


def test_redactor_masks_a_value_containing_another_as_a_whole():
    redactor = Redactor()
    redactor.add("key")
    redactor.add("key-and-more")
    assert redactor.text("key-and-more / key") == "*** / ***"


def test_redactor_ignores_empty_values():
    redactor = Redactor()
    redactor.add("")
    assert redactor.text("nothing to hide") == "nothing to hide"


def test_output_cut_inside_a_value_does_not_show_its_start():
    redactor = Redactor()
    redactor.add("supersecret")
    assert redactor.text("token: super", truncated=True) == "token: ***"


def test_redactor_masks_strings_and_keys_inside_results():
    redactor = Redactor()
    redactor.add("v4lue")
    assert redactor.value({"v4lue": ["a v4lue", 3, {"k": "v4lue"}], "n": None}) == {
        "***": ["a ***", 3, {"k": "***"}],
        "n": None,
    }


@pytest.fixture
def widget_with_secret(alice, app):
    def make(code):
        widget_id = alice.create_widget("Leaky", server_code=code)
        add_secret(app, widget_id, "api_key", SECRET)
        return widget_id

    return make


def test_value_is_masked_in_stdout_stderr_error_message_and_traceback(alice, widget_with_secret):
    code = (
        "import sys, anvil.secrets\nkey = anvil.secrets.get_secret('api_key')\n"
        "print('out', key)\nprint('err', key, file=sys.stderr)\n"
        "def fail(k):\n    raise RuntimeError('bad key ' + k)\n"
        f"fail('{SECRET}')\n"
    )
    answer = run_json(alice, widget_with_secret(code))
    everything = repr(answer)
    assert SECRET not in everything
    assert answer["stdout"] == "out ***\n" and answer["stderr"] == "err ***\n"
    assert answer["error"]["message"] == "bad key ***"
    assert "fail('***')" in answer["error"]["traceback"]


def test_value_is_masked_in_the_htmx_fragment(alice, widget_with_secret):
    widget_id = widget_with_secret(
        "import anvil.secrets\nprint(anvil.secrets.get_secret('api_key'))\n"
    )
    html = alice.post(f"/widgets/{widget_id}/run", htmx=True).get_data(as_text=True)
    assert SECRET not in html and "***" in html


def test_value_is_masked_in_server_function_results(app, widget_with_secret):
    code = (
        "import anvil.server, anvil.secrets\n@anvil.server.callable\n"
        "def leak(prefix):\n    key = anvil.secrets.get_secret('api_key')\n"
        "    return {'text': prefix + key, key: [key]}\n"
    )
    widget_id = widget_with_secret(code)
    with app.test_request_context():
        widget = db.session.get(Widget, widget_id)
        answer = call_function(widget, "leak", ["x:"], {}, widget.owner_id).as_call_result()
    assert answer == {"ok": True, "result": {"text": "x:***", "***": ["***"]}}


def test_only_exact_values_are_masked(alice, widget_with_secret):
    widget_id = widget_with_secret(
        "import anvil.secrets\nprint(anvil.secrets.get_secret('api_key')[::-1])\n"
    )
    answer = run_json(alice, widget_id)
    assert answer["stdout"] == SECRET[::-1] + "\n"
