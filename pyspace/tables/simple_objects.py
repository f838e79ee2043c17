"""Searching simple_object columns as Anvil does: by containment, in SQL.

Anvil's documentation: searching a simple object column with a dict matches rows whose value
is a dict holding every key given, each value matching in turn; with a list, rows whose value
is a list holding every item given (in any order, among others); with a string, number or
bool, rows with that value. Anvil's runtime runs this as PostgreSQL's jsonb containment
(`column @> value`), so a value that is a list also matches a single item given on its own:
`table.get(sessions=session)` and `table.get(sessions=[session])` both find the row whose
`sessions` list holds `session`.

PostgreSQL uses `@>` itself (the JSON cell cast to jsonb). SQLite has no containment
operator: the same rule is built from `json_type` and `json_each`, one EXISTS per key or list
item given, the widget's value entering only as bound parameters.
"""

from typing import Any

from sqlalchemy import ColumnElement, and_, case, cast, exists, false, func, literal, or_
from sqlalchemy.dialects.postgresql import JSONB

# Bounds on one searched value: far beyond what a real search gives, and within SQLite's
# limit on how deeply expressions nest.
MAX_NODES = 200
MAX_DEPTH = 10


class ObjectQueryError(ValueError):
    """A searched value too large or too deeply nested to become SQL."""


def contains(field: ColumnElement, value: Any, dialect: str) -> ColumnElement:
    """The condition that the JSON cell `field` contains `value` (jsonb's `@>` rule)."""
    _check_size(value)
    if dialect == "postgresql":
        # Bound as jsonb whatever the value (a plain str would otherwise bind as text).
        return cast(field, JSONB).op("@>")(literal(value, type_=JSONB))
    return _node_contains(func.json_extract(field, "$"), func.json_type(field), value, top=True)


def _check_size(value: Any) -> None:
    nodes = 0
    pending = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        nodes += 1
        if nodes > MAX_NODES or depth > MAX_DEPTH:
            raise ObjectQueryError(
                f"A simple object searched for may have at most {MAX_NODES} values, nested "
                f"at most {MAX_DEPTH} deep."
            )
        children = item.values() if isinstance(item, dict) else item
        if isinstance(item, (dict, list)):
            pending += [(child, depth + 1) for child in children]


def _members(value: ColumnElement, type_: ColumnElement):
    """json_each over a container node; over an empty list for a scalar (json_each would
    read a scalar's SQL value as JSON text, and SQLite may evaluate it before the type test)."""
    container = case((type_.in_(("object", "array")), value), else_=literal("[]"))
    return func.json_each(container).table_valued("key", "value", "type").alias()


def _node_contains(
    value: ColumnElement, type_: ColumnElement, wanted: Any, top: bool = False
) -> ColumnElement:
    """A JSON node (its SQL value as json_each gives it, and its json_type) contains
    `wanted`."""
    if isinstance(wanted, dict):
        parts = []
        for key, item in wanted.items():
            member = _members(value, type_)
            parts.append(
                exists()
                .select_from(member)
                .where(
                    member.c.key == key,
                    _node_contains(member.c.value, member.c.type, item),
                )
            )
        return and_(type_ == "object", *parts)
    if isinstance(wanted, list):
        parts = []
        for item in wanted:
            member = _members(value, type_)
            parts.append(
                exists()
                .select_from(member)
                .where(_node_contains(member.c.value, member.c.type, item))
            )
        return and_(type_ == "array", *parts)
    matched = _scalar_equals(value, type_, wanted)
    if not top:
        return matched
    # At the top only, a list contains a single item given on its own (jsonb's rule).
    member = _members(value, type_)
    in_list = (
        exists().select_from(member).where(_scalar_equals(member.c.value, member.c.type, wanted))
    )
    return or_(matched, and_(type_ == "array", in_list))


def _scalar_equals(value: ColumnElement, type_: ColumnElement, wanted: Any) -> ColumnElement:
    if wanted is None:
        return type_ == "null"
    if isinstance(wanted, bool):
        return type_ == ("true" if wanted else "false")
    if isinstance(wanted, (int, float)):
        return and_(type_.in_(("integer", "real")), value == wanted)
    if isinstance(wanted, str):
        return and_(type_ == "text", value == wanted)
    return false()  # not a JSON value: check_value lets none through
