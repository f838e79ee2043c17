"""Query operators for searches: `import anvil.tables.query as q`, as in Anvil.

    app_tables.readings.search(temp=q.greater_than(20), city=q.any_of("Oslo", "Bergen"))

Each one only describes the comparison; the web app turns it into a database query with
bound parameters, after checking the value against the column's type.
"""


class _Query:
    def __init__(self, op, **parts):
        self.op = op
        self.parts = parts

    def _pyspace_query(self):
        from . import _encode

        wire = {"op": self.op}
        if "value" in self.parts:
            wire["value"] = _encode(self.parts["value"])
        if "values" in self.parts:
            wire["values"] = [_encode(value) for value in self.parts["values"]]
        if "query" in self.parts:
            wire["query"] = _encode(self.parts["query"])
        return wire

    def __repr__(self):
        return f"q.{self.op}({self.parts!r})"


def greater_than(value):
    """Column values greater than `value`."""
    return _Query("gt", value=value)


def less_than(value):
    """Column values less than `value`."""
    return _Query("lt", value=value)


def greater_than_or_equal_to(value):
    return _Query("ge", value=value)


def less_than_or_equal_to(value):
    return _Query("le", value=value)


def like(pattern):
    """Text matching a SQL LIKE pattern, case-sensitive: `%` any text, `_` one character."""
    return _Query("like", value=pattern)


def ilike(pattern):
    """Like `like`, ignoring case."""
    return _Query("ilike", value=pattern)


def any_of(*values):
    """Column values equal to any of `values` (which may include None or other queries)."""
    return _Query("any_of", values=list(values))


def none_of(*values):
    """Column values equal to none of `values`."""
    return _Query("none_of", values=list(values))


def not_(value):
    """Not equal to `value`, or not matching the query `value`."""
    return _Query("not", query=value)
