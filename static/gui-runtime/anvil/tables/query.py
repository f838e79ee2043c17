"""Query operators for searches: `import anvil.tables.query as q`, as in Anvil.

    app_tables.readings.search(temp=q.greater_than(20), city=q.any_of("Oslo", "Bergen"))
    app_tables.owners.search(q.any_of(Owner1=q.ilike(name), Owner2=q.ilike(name)))

Each one only describes the comparison; the web app turns it into a database query with
bound parameters, after checking each value against its column's type. As in Anvil,
`q.all_of`, `q.any_of` and `q.none_of` (and `q.not_`, which is `q.none_of`) take queries or
values for one column as positional arguments, and column=query keywords; given positionally
to `search()` they combine conditions on several columns.
"""


class _Query:
    def __init__(self, op, **parts):
        self.op = op
        self.parts = parts

    def _pyspace_query(self):
        from . import _encode

        wire = {"op": self.op}
        for name, value in self.parts.items():
            wire[name] = _encode(value)
        return wire

    def __eq__(self, other):
        return type(other) is type(self) and (other.op, other.parts) == (self.op, self.parts)

    def __hash__(self):
        return hash((self.op, repr(self.parts)))

    def __repr__(self):
        return f"q.{self.op}({self.parts!r})"


class _Of(_Query):
    """all_of / any_of / none_of: positional queries or values, and column=query keywords."""

    def __init__(self, op, args, kwargs):
        super().__init__(op)
        self.args = tuple(args)
        self.kwargs = dict(kwargs)

    def _pyspace_query(self):
        from . import _encode_searched

        return {
            "op": self.op,
            "values": [_encode_searched(value) for value in self.args],
            "columns": {name: _encode_searched(value) for name, value in self.kwargs.items()},
        }

    def __eq__(self, other):
        return type(other) is type(self) and (other.op, other.args, other.kwargs) == (
            self.op,
            self.args,
            self.kwargs,
        )

    def __hash__(self):
        return hash((self.op, self.args, tuple(sorted(self.kwargs))))

    def __repr__(self):
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"q.{self.op}({', '.join(parts)})"


def greater_than(value):
    """Column values greater than `value`."""
    return _Query("gt", value=value)


def less_than(value):
    """Column values less than `value`."""
    return _Query("lt", value=value)


def greater_than_or_equal_to(value):
    """Column values greater than or equal to `value`."""
    return _Query("ge", value=value)


def less_than_or_equal_to(value):
    """Column values less than or equal to `value`."""
    return _Query("le", value=value)


def like(pattern):
    """Text matching a SQL LIKE pattern, case-sensitive: `%` any text, `_` one character."""
    return _Query("like", value=pattern)


def ilike(pattern):
    """Like `like`, ignoring case."""
    return _Query("ilike", value=pattern)


def between(min, max, min_inclusive=True, max_inclusive=False):
    """Values from `min` to `max`: by default including `min` and excluding `max`, as in Anvil."""
    return all_of(
        greater_than_or_equal_to(min) if min_inclusive else greater_than(min),
        less_than_or_equal_to(max) if max_inclusive else less_than(max),
    )


def full_text_match(query, raw=False):
    """Text containing every word of `query` (case and punctuation ignored).

    With `raw=True` the query may use `OR`, a leading `-` to exclude a word, `"a phrase"`,
    and `word*` for a prefix."""
    if not isinstance(query, str):
        raise TypeError(
            "full_text_match takes the text to look for, like q.full_text_match('rain')"
        )
    return _Query("full_text_match", value=query, raw=bool(raw))


def all_of(*args, **kwargs):
    """Everything given matches: queries/values for one column, or column=query keywords."""
    return _Of("all_of", args, kwargs)


def any_of(*args, **kwargs):
    """At least one thing given matches: `q.any_of('Oslo', 'Rome')`, `q.any_of(a=1, b=2)`."""
    return _Of("any_of", args, kwargs)


def none_of(*args, **kwargs):
    """Nothing given matches."""
    return _Of("none_of", args, kwargs)


# As in Anvil: "not" any of the given conditions.
not_ = none_of


class page_size:  # noqa: N801 - Anvil's name
    """How many rows each trip to the server fetches while iterating: `search(q.page_size(20))`."""

    def __init__(self, rows):
        if not isinstance(rows, int) or isinstance(rows, bool) or rows < 1:
            raise ValueError("page_size takes a whole number of rows, at least 1")
        self.rows = rows

    def __repr__(self):
        return f"q.page_size({self.rows})"


class fetch_only:  # noqa: N801 - Anvil's name
    """Load only these columns with each row: `search(q.fetch_only('name', 'email'))`.

    Another column is fetched when it is first read. Keywords name link columns with a
    `q.fetch_only(...)` of their own, as in Anvil (their rows are loaded whole here)."""

    def __init__(self, *only_cols, **linked_cols):
        spec: dict = {}
        for col in only_cols:
            if not isinstance(col, str):
                raise TypeError("columns must be strings")
            spec[col] = True
        for col, only in linked_cols.items():
            if not isinstance(only, fetch_only):
                raise TypeError("keyword arguments must use q.fetch_only()")
            spec[col] = only.spec
        self.spec: dict = spec

    def __repr__(self):
        return f"q.fetch_only({', '.join(map(repr, self.spec))})"


class only_cols:  # noqa: N801 - Anvil's name
    """Rows that show only these columns: `search(q.only_cols('name', 'email'))`; reading
    another column is a NoSuchColumnError."""

    def __init__(self, *cols):
        if not all(isinstance(col, str) for col in cols):
            raise TypeError("columns must be strings")
        self.cols = tuple(sorted(cols))

    def __repr__(self):
        return f"q.only_cols({', '.join(map(repr, self.cols))})"
