"""Views give templates their data: no template or context processor queries, no partial is
included "if it exists", and no view reads `request.form` by hand (forms do).

The first tests read the source (a typo'd include or a hand-parsed field is found before it
ships); the last one renders the pages whose boxes come from other areas and proves no SQL
statement runs while a template renders.
"""

import ast
import re
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import before_render_template, template_rendered
from sqlalchemy import event

from pyspace.extensions import db
from pyspace.models import User

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))
PYTHON = sorted((ROOT / "pyspace").rglob("*.py"))
# What a function that reaches the database looks like in this code base.
QUERY_MARKERS = re.compile(r"\bdb\.|\bselect\(|\bsession\b|\bscalars?\(|\.query\b|\bexecute\(")
VALUE = "owm-0c2e9b7d1f-in-the-code"


def _relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_the_source_checks_see_the_templates_and_the_code():
    assert len(TEMPLATES) > 30 and len(PYTHON) > 30


def test_no_template_includes_a_partial_only_if_it_exists():
    found = [_relative(path) for path in TEMPLATES if "ignore missing" in path.read_text()]
    assert found == []


@pytest.mark.parametrize("pattern", ["request.form[", "request.form.get"])
def test_no_view_or_template_reads_the_form_by_hand(pattern):
    found = [_relative(path) for path in [*PYTHON, *TEMPLATES] if pattern in path.read_text()]
    assert found == []


def _context_processors(path: Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and any(
            "context_processor" in ast.unparse(decorator) for decorator in node.decorator_list
        ):
            yield node


def test_no_context_processor_queries_or_hands_templates_a_query():
    offending = []
    for path in PYTHON:
        source = path.read_text()
        for function in _context_processors(path):
            if QUERY_MARKERS.search(ast.get_source_segment(source, function) or ""):
                offending.append(f"{_relative(path)}:{function.name}")
        if re.search(r"context_processor\(\s*lambda", source):
            offending.append(_relative(path))
    assert offending == []


def test_registered_context_processors_hand_templates_no_function_of_the_app(app):
    # A processor that hands templates a domain function lets a template run its query.
    with app.test_request_context("/"):
        for processors in app.template_context_processors.values():
            for processor in processors:
                for name, value in processor().items():
                    module = getattr(value, "__module__", "") or ""
                    assert not (callable(value) and module.startswith("pyspace")), (name, module)


@contextmanager
def queries_while_rendering(app):
    """The SQL statements run while a template renders (nested includes included)."""
    statements, rendering = [], []

    def started(sender, template, context, **extra):
        rendering.append(template.name)

    def finished(sender, template, context, **extra):
        rendering.pop()

    def executed(conn, cursor, statement, parameters, context, executemany):
        if rendering:
            statements.append((rendering[-1], statement))

    with app.app_context():
        engine = db.engine
    before_render_template.connect(started, app)
    template_rendered.connect(finished, app)
    event.listen(engine, "before_cursor_execute", executed)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", executed)
        template_rendered.disconnect(finished, app)
        before_render_template.disconnect(started, app)


def test_widget_pages_panels_and_admin_list_render_without_a_query(app, alice, bob, make_client):
    """The editor of a fork (secrets still needing values, a leak warning), the widget page with
    its lineage, the Secrets panel with its activity list, and the admin list of accounts."""
    original = alice.create_widget("Weather", "script", visibility="public")
    panel = alice.post(f"/widgets/{original}/secrets", htmx=True).get_data(as_text=True)
    secret_id = re.findall(r'id="secret-(\d+)"', panel)[-1]
    alice.post(f"/widgets/{original}/secrets/{secret_id}/name", {"name": "api_key"}, htmx=True)
    alice.post(f"/widgets/{original}/secrets/{secret_id}/value", {"value": VALUE}, htmx=True)
    alice.save_widget(original, server_code=f"key = '{VALUE}'\nprint(len(key))\n")
    fork = bob.post(f"/widgets/{original}/fork")
    fork_id = fork.headers["Location"].rstrip("/").split("/")[-2]
    with app.app_context():
        db.session.execute(db.update(User).filter_by(username="alice").values(is_admin=True))
        db.session.commit()
    pages = [
        (alice, f"/widgets/{original}/edit", {}, "leaking a secret"),
        (alice, f"/widgets/{original}", {}, "Forked 1 time"),
        (alice, f"/widgets/{original}/secrets", {"HX-Request": "true"}, "set the value of"),
        (alice, f"/widgets/{original}/secrets", {}, "set the value of"),
        (alice, "/admin/users", {}, '<td class="muted">1</td>'),
        (bob, f"/widgets/{fork_id}/edit", {}, "still needs a value"),
        (bob, f"/widgets/{fork_id}/needs-values", {"HX-Request": "true"}, "api_key"),
        (bob, f"/widgets/{fork_id}", {}, "Forked from"),
        (make_client(), f"/widgets/{original}", {}, "Forked 1 time"),
    ]
    for who, url, headers, shown in pages:
        with queries_while_rendering(app) as statements:
            response = who.client.get(url, headers=headers)
        body = response.get_data(as_text=True)
        assert response.status_code == 200 and shown in body, url
        assert statements == [], url
