"""q.full_text_match: full-text search of a text column, one interface over two databases.

Text is indexed with English stemming ("rains" finds "rain"), case and accents ignored: on
SQLite by an FTS5 table, on PostgreSQL by a GIN index of `to_tsvector('english', ...)`
(pyspace/models.py makes both). A query becomes a tree of terms (`parse_plain`, `parse_raw`);
each term is one lookup in the index, and the tree's AND / OR / NOT are SQL's, so both databases
answer the same question the same way:

- `full_text_match("clear sky")`: rows whose text has every word (PostgreSQL leaves out English
  stop words such as "the"; SQLite looks for them too).
- `full_text_match(text, raw=True)`: PostgreSQL's tsquery syntax, as Anvil passes it on:
  `a & b`, `a | b`, `!a`, parentheses, `a <-> b` (b right after a), `pre:*` (a prefix).
  Words side by side with no operator are taken as `&`.

Nothing a query says becomes SQL text: words are runs of letters and digits, sent as bound
values.
"""

import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, literal_column, not_, or_, select, table, true

from ..extensions import db
from ..models import FULL_TEXT_CHARS, FULL_TEXT_ROW_SHIFT, FULL_TEXT_TABLE, DataCell, DataRow

# Letters and digits; an underscore separates words, as both databases' tokenizers have it.
WORD_RE = re.compile(r"[^\W_]+")
TOKEN_RE = re.compile(r"\s*(<->|:\*|[&|!()]|[^\s&|!()<:]+|[<:])")
# Terms one query may have: each is one lookup in the index.
MAX_TERMS = 32


class FullTextError(ValueError):
    """A raw query that can't be read; the message says where."""


@dataclass(frozen=True)
class Term:
    """Words that must appear in this order, next to each other (the last one as a prefix
    with `prefix`)."""

    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class Op:
    """ "and" / "or" of `parts`, or "not" of its one part."""

    kind: str
    parts: tuple["Node", ...]


Node = Term | Op


def parse_plain(text: str) -> Node:
    """A plain query: every word must appear."""
    words = WORD_RE.findall(text.lower())
    _count(len(words))
    return Op("and", tuple(Term((word,)) for word in words))


def parse_raw(text: str) -> Node:
    """A tsquery-style query (see the module's docstring)."""
    tokens = [token for token in TOKEN_RE.findall(text) if token.strip()]
    parser = _Parser(tokens)
    node = parser.either()
    if parser.position < len(tokens):
        raise FullTextError(f"Unexpected {tokens[parser.position]!r} in the full-text query.")
    _count(parser.terms)
    return node


def _count(terms: int) -> None:
    if terms > MAX_TERMS:
        raise FullTextError(f"A full-text query can have at most {MAX_TERMS} words.")


class _Parser:
    """either := both ('|' both)* ; both := one (('&' | '<->')? one)* ;
    one := '!' one | '(' either ')' | word [':*']"""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.position = 0
        self.terms = 0

    def _peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self) -> str:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def either(self) -> Node:
        parts = [self.both()]
        while self._peek() == "|":
            self._take()
            parts.append(self.both())
        return parts[0] if len(parts) == 1 else Op("or", tuple(parts))

    def both(self) -> Node:
        parts = [self.one()]
        while self._peek() not in (None, "|", ")"):
            if self._peek() == "<->":
                self._take()
                parts[-1] = self._followed(parts[-1], self.one())
                continue
            if self._peek() == "&":
                self._take()
            parts.append(self.one())
        return parts[0] if len(parts) == 1 else Op("and", tuple(parts))

    def _followed(self, first: Node, then: Node) -> Node:
        if not (isinstance(first, Term) and isinstance(then, Term)) or first.prefix:
            raise FullTextError("<-> joins words: like 'clear <-> sky'.")
        return Term(first.words + then.words, then.prefix)

    def one(self) -> Node:
        token = self._peek()
        if token is None:
            raise FullTextError("The full-text query ends where a word was expected.")
        self._take()
        if token == "!":
            return Op("not", (self.one(),))
        if token == "(":
            inner = self.either()
            if self._peek() != ")":
                raise FullTextError("A '(' in the full-text query has no ')'.")
            self._take()
            return inner
        words = tuple(WORD_RE.findall(token.lower()))
        if not words:
            raise FullTextError(f"Unexpected {token!r} in the full-text query.")
        self.terms += len(words)
        prefix = self._peek() == ":*"
        if prefix:
            self._take()
        return Term(words, prefix)


def negates(node: Node) -> bool:
    """Whether the query has a NOT anywhere in it."""
    return isinstance(node, Op) and (node.kind == "not" or any(map(negates, node.parts)))


def condition(column_id: int, node: Node) -> ColumnElement:
    """The rows (DataRow) whose text in column `column_id` matches `node`."""
    if isinstance(node, Term):
        return _term(column_id, node)
    parts = [condition(column_id, part) for part in node.parts]
    if node.kind == "not":
        return not_(parts[0])
    if node.kind == "or":
        return or_(*parts)
    return and_(true(), *parts)


def _term(column_id: int, term: Term) -> ColumnElement:
    if db.engine.dialect.name == "postgresql":
        return _postgres_term(column_id, term)
    return _sqlite_term(column_id, term)


def _sqlite_term(column_id: int, term: Term) -> ColumnElement:
    # The FTS5 query: the column's own token, and the words as one phrase ("a b" * for a
    # prefix). Words are letters and digits, so they hold no quote to break out of the phrase.
    phrase = '"' + " ".join(term.words) + '"' + (" *" if term.prefix else "")
    match = f"column_key : c{column_id} AND body : {phrase}"
    entries = table(FULL_TEXT_TABLE)
    rowid: ColumnElement = literal_column("rowid")
    matching = (
        select(rowid.op(">>")(FULL_TEXT_ROW_SHIFT))
        .select_from(entries)
        .where(literal_column(FULL_TEXT_TABLE).op("MATCH")(match))
    )
    return DataRow.id.in_(matching)


def _postgres_term(column_id: int, term: Term) -> ColumnElement:
    # The indexed expression, written exactly as the index has it, so the index is used.
    english: ColumnElement = literal_column("'english'::regconfig")
    vector = func.to_tsvector(english, func.left(DataCell.text_value, FULL_TEXT_CHARS))
    if term.prefix:
        # Each word as its own lexeme (a stop word among them matches nothing, as in
        # PostgreSQL), the last one a prefix.
        query = func.to_tsquery(english, " <-> ".join(term.words) + ":*")
    else:
        query = func.phraseto_tsquery(english, " ".join(term.words))
    matching = select(DataCell.row_id).where(
        DataCell.column_id == column_id, vector.op("@@")(query)
    )
    # A term of stop words only ("the") is no condition at all, as plainto_tsquery has it.
    return or_(func.numnode(query) == 0, DataRow.id.in_(matching))
