"""q.full_text_match through the full-text index: the query reader, and the index kept in step
with every write (insert, update, delete) on SQLite and PostgreSQL alike."""

import re

import pytest

from pyspace.tables import fulltext, rows
from pyspace.tables.fulltext import FullTextError, Op, Term, parse_plain, parse_raw
from pyspace.tables.queries import conditions, count_rows
from pyspace.tables.schema import table_named
from tests.tables.helpers import make_widget_with_table

NOTES = [("body", "text"), ("title", "text")]


def test_a_plain_query_needs_every_word():
    assert parse_plain("Clear, SKY!") == Op("and", (Term(("clear",)), Term(("sky",))))


@pytest.mark.parametrize(
    ("raw", "tree"),
    [
        ("a & b", Op("and", (Term(("a",)), Term(("b",))))),
        ("a b", Op("and", (Term(("a",)), Term(("b",))))),
        ("a | !b", Op("or", (Term(("a",)), Op("not", (Term(("b",)),))))),
        ("(a | b) & c", Op("and", (Op("or", (Term(("a",)), Term(("b",)))), Term(("c",))))),
        ("clear <-> sky", Term(("clear", "sky"))),
        ("sun:*", Term(("sun",), prefix=True)),
        ("e-mail", Term(("e", "mail"))),
    ],
)
def test_a_raw_query_reads_tsquery_syntax(raw, tree):
    assert parse_raw(raw) == tree


@pytest.mark.parametrize(
    ("raw", "message"),
    [("(a", "no ')'"), ("a &", "ends where"), ("a )", "Unexpected ')'"), ("& a", "Unexpected")],
)
def test_a_raw_query_that_cant_be_read_says_why(raw, message):
    with pytest.raises(FullTextError, match=re.escape(message)):
        parse_raw(raw)


def test_a_query_has_at_most_32_words():
    with pytest.raises(FullTextError, match="at most 32 words"):
        parse_plain(" ".join(["w"] * 33))


def _matches(table, column: str, text: str, raw: bool = False) -> int:
    query = {"op": "full_text_match", "value": text, "raw": raw}
    where = conditions(table, rows.columns_by_name(table), [{"column": column, "query": query}])
    return count_rows(table, where)


def test_the_index_follows_inserts_updates_and_deletes_in_its_own_column(app, make_user):
    widget = make_widget_with_table(app, make_user(), "notes", NOTES)
    with app.app_context():
        table = table_named(widget, "notes")
        assert table is not None
        first = rows.add_row(table, {"body": "Walking in the rain", "title": "storms"})
        rows.add_rows(table, [{"body": "Running late"}, {"title": "walked home"}])
        assert _matches(table, "body", "walks") == 1
        assert _matches(table, "body", "RAINS walking") == 1
        assert _matches(table, "title", "walk") == 1  # the title column's own row
        assert _matches(table, "body", "storm") == 0  # only in the other column
        rows.update_row(table, first, {"body": "Sunny afternoon"})
        assert _matches(table, "body", "rain") == 0
        assert _matches(table, "body", "afternoons") == 1
        rows.update_row(table, first, {"body": None})
        assert _matches(table, "body", "afternoon") == 0
        rows.delete_rows(table)
        assert _matches(table, "title", "walk") == 0


def test_a_negated_raw_query_matches_only_rows_with_text(app, make_user):
    widget = make_widget_with_table(app, make_user(), "notes", NOTES)
    with app.app_context():
        table = table_named(widget, "notes")
        assert table is not None
        rows.add_rows(table, [{"body": "rain"}, {"body": "sun"}, {"title": "no body"}])
        assert _matches(table, "body", "!rain", raw=True) == 1
        assert _matches(table, "body", "rain | sun", raw=True) == 2


def test_the_data_panel_query_box_finds_words_by_their_start(app, make_user):
    from pyspace.tables.queries import panel_filter

    widget = make_widget_with_table(app, make_user(), "notes", NOTES)
    with app.app_context():
        table = table_named(widget, "notes")
        assert table is not None
        rows.add_rows(table, [{"title": "Brian"}, {"body": "Ada"}])
        assert count_rows(table, panel_filter(table, "bri")) == 1
        assert count_rows(table, panel_filter(table, "ada bri")) == 0
        assert fulltext.MAX_TERMS == 32
