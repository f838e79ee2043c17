"""The channel services on their own: malformed or oversized requests get a refusal, never an
exception, and nothing outside the run's widget is named in an answer."""

import pytest

from pyspace.sandbox.services import RunContext
from pyspace.tables.channel import SERVICES
from tests.tables.helpers import make_widget_with_table


@pytest.fixture
def run(app, make_user):
    widget_id = make_widget_with_table(app, make_user())
    with app.app_context():
        yield RunContext(widget_id=widget_id, actor_id=None)


def _eq(value):
    return {"column": "city", "query": {"op": "eq", "value": value}}


def _nested(depth):
    query = {"op": "eq", "value": "Oslo"}
    for _ in range(depth):
        query = {"op": "not", "query": query}
    return [{"column": "city", "query": query}]


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({"table": 7}, "Tables are named with strings"),
        ({"table": "readings", "filters": [_eq("a")] * 51}, "at most 50 conditions"),
        (
            {
                "table": "readings",
                "filters": [{"column": "city", "query": {"op": "any_of", "values": ["a"] * 1001}}],
            },
            "at most 1000 values",
        ),
        ({"table": "readings", "filters": _nested(9)}, "nested at most 8 deep"),
        (
            {"table": "readings", "filters": [{"column": "city", "query": {"op": "drop"}}]},
            "Unknown query operator",
        ),
        ({"table": "readings", "filters": "city=1"}, "column=value keywords"),
        ({"table": "readings", "offset": -1}, "whole numbers"),
        ({"table": "readings", "order": [{"column": "nope"}]}, "Can't order by 'nope'"),
        ({"table": "readings", "filters": [_eq(5)]}, "holds text (a str), not int"),
    ],
)
def test_bad_search_requests_are_refused_with_a_reason(run, request_, message):
    answer = SERVICES["tables_search"]({"op": "tables_search", **request_}, run)
    assert answer["ok"] is False and message in answer["message"]


def test_a_search_nested_within_the_limit_works(run):
    answer = SERVICES["tables_search"]({"table": "readings", "filters": _nested(8)}, run)
    assert answer == {"ok": True, "rows": []}


def test_a_huge_limit_is_capped_not_refused(run):
    SERVICES["tables_delete_all_rows"]({"table": "readings"}, run)
    for _ in range(3):
        assert SERVICES["tables_add_row"]({"table": "readings", "values": {}}, run)["ok"]
    answer = SERVICES["tables_search"]({"table": "readings", "limit": 10**9}, run)
    assert answer["ok"] and len(answer["rows"]) == 3
