"""Pages of widget cards (the home page, a user's page): statements built once, at import.

Building an ORM statement and walking it for SQLAlchemy's compiled-statement cache took about a
third of the home page's CPU when `db.paginate` did it on every request (the listing, then its
`LIMIT`, then a count wrapping it as a subquery). A statement object is immutable and memoizes
its cache key, so these are built once and executed again with bound parameters (the page's
`LIMIT`/`OFFSET`, the owner): the SQL is the same for every visitor, only the values change.
"""

from typing import Any

from flask import current_app
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Integer, Select, bindparam, func, select
from sqlalchemy.orm import defer, joinedload, lazyload

from ..extensions import db
from ..models import Widget


def cards(query: Select) -> Select:
    """`query` loading only what a widget card shows: the owner in the same statement, and
    none of the code (a widget's code can be 100 KB; a card never shows it): neither the
    code columns nor its server modules, which otherwise come in a second SELECT."""
    return query.options(
        joinedload(Widget.owner),
        defer(Widget.client_code),
        defer(Widget.html),
        lazyload(Widget.modules),
    )


_PUBLIC = Widget.visibility == "public"
_OF_OWNER = Widget.owner_id == bindparam("owner_id")
_NEWEST_FIRST = (Widget.created_at.desc(), Widget.id)


def _listing(*where) -> tuple[Select, Select]:
    """The page of cards (newest first) and the count of all of them, for `where`."""
    items = cards(select(Widget)).where(*where).order_by(*_NEWEST_FIRST)
    limit, offset = bindparam("limit", type_=Integer), bindparam("offset", type_=Integer)
    items = items.limit(limit).offset(offset)
    return items, select(func.count()).select_from(Widget).where(*where)


PUBLIC_WIDGETS = _listing(_PUBLIC)
USERS_PUBLIC_WIDGETS = _listing(_PUBLIC, _OF_OWNER)
# The logged-in owner's own widgets on the home page (all of them, last changed first).
OWNERS_WIDGETS = cards(select(Widget)).where(_OF_OWNER).order_by(Widget.updated_at.desc())


class CardsPage(Pagination):
    """`db.paginate`'s page (`items`, `pages`, `has_next`… for widgets/_pagination.html) over
    statements built once: `listing` is one of the pairs above, `params` their other values."""

    def _query_items(self) -> list[Any]:
        items, _count = self._query_args["listing"]
        page = {"limit": self.per_page, "offset": self._query_offset}
        return list(db.session.execute(items, {**self._query_args["params"], **page}).scalars())

    def _query_count(self) -> int:
        _items, count = self._query_args["listing"]
        return db.session.execute(count, self._query_args["params"]).scalar_one()


def widgets_page(listing: tuple[Select, Select], page: int, **params: Any) -> CardsPage:
    """Page `page` (from 1; past the end: no items) of `listing`, WIDGETS_PER_PAGE cards a
    page."""
    return CardsPage(
        page=page,
        per_page=current_app.config["WIDGETS_PER_PAGE"],
        max_per_page=None,  # as db.paginate: WIDGETS_PER_PAGE is the operator's to choose
        error_out=False,
        listing=listing,
        params=params,
    )
