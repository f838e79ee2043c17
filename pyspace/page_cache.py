"""Pages as an anonymous visitor sees them, rendered once and served to every anonymous visitor
until the data they show changes.

The home page, a public widget's page and a user's page look the same to everyone who is not
logged in, but for one thing: the CSRF token, which is each visitor's own (a public script
widget's Run form needs it). So a page is rendered with a random placeholder where the token
goes (Flask-WTF's `generate_csrf` returns it during such a render), stored with that
placeholder, and every answer puts the visitor's own token in its place. Logged-in visitors,
visitors with a message waiting (a flash), htmx requests and query strings a view doesn't
declare are never served from here, nor stored.

Staleness: nothing stored is served after a change it doesn't show. Every entry is stored under
the current *generation*, a random value kept where every process sees it; a commit that
changed a row of a table the pages show (`SHOWN_TABLES`, through the ORM or a bulk ORM
statement) sets a new generation once the commit is done, and so does every start of the site
(new code or settings). A render reads the generation before it reads the database, so a page
rendered from data older than a commit is stored under the generation that commit replaced.
Where they are kept follows PAGE_CACHE_URL. By default the generation is a file in the instance
folder, which every process on this machine reads, and each process keeps the pages it rendered
in its own memory (at most MOST_PAGES: a file store would scan all its files on every write
once full, 60 ms a write, which a flood of page numbers would make every request pay). With
`redis://…` both live in Redis, shared by every machine; `off` keeps nothing.
"""

import hashlib
import os
import secrets
from collections.abc import Callable
from functools import wraps

from flask import Flask, Response, current_app, g, has_app_context, request, session
from flask_caching import Cache
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from .config import ConfigError, names_redis
from .extensions import limiter

# The generation, where every process sees it; the pages (see the module's docstring).
generations = Cache()
pages = Cache()
GENERATION_KEY = "pages:generation"
# A page is stored this long at most, even if nothing changes (static files' hashed URLs
# follow a deployment; a restart starts a new generation anyway).
PAGE_SECONDS = 300
# Pages one process keeps in memory before it drops a third of them: at most about 10 MB (a page
# is a few to 20 KB), whatever a flood of page numbers asks for.
MOST_PAGES = 500
# The tables whose rows the stored pages show: widgets, their server modules, and users (the
# owners' names).
SHOWN_TABLES = frozenset({"users", "widgets", "server_modules"})
_CHANGED = "pyspace.pages_changed"
# The headers every rendered page has before the app's after-request hooks add theirs.
_BODY_HEADERS = frozenset({"content-type", "content-length"})


def init_app(app: Flask) -> None:
    """Bind the store PAGE_CACHE_URL names and start a new generation (this start's code and
    settings may render the pages differently)."""
    generation_store, page_store = _stores(app)
    generations.init_app(app, config=generation_store)
    pages.init_app(app, config=page_store)
    with app.app_context():
        new_generation()


def _stores(app: Flask) -> tuple[dict, dict]:
    """Flask-Caching's settings for the generation's store and the pages' store."""
    url = (app.config.get("PAGE_CACHE_URL") or "").strip()
    common = {"CACHE_DEFAULT_TIMEOUT": PAGE_SECONDS, "CACHE_KEY_PREFIX": "pyspace:"}
    if url.lower() == "off":
        nothing = {**common, "CACHE_TYPE": "NullCache", "CACHE_NO_NULL_WARNING": True}
        return nothing, nothing
    if names_redis(url):
        shared = {**common, "CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": url}
        return shared, shared
    if url:
        raise ConfigError(
            "PYSPACE_PAGE_CACHE_URL must be empty (kept on this machine), redis://… or off; "
            f"got {url.split(':', 1)[0]}:…"
        )
    # One file, rewritten at commits that change what the pages show; no pruning to do.
    generation_file = {
        **common,
        "CACHE_TYPE": "FileSystemCache",
        "CACHE_DIR": os.path.join(app.instance_path, "page-cache"),
        "CACHE_THRESHOLD": 0,
    }
    return generation_file, {**common, "CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": MOST_PAGES}


def new_generation() -> str:
    """Make every stored page stale (in every process that shares the store)."""
    generation = secrets.token_hex(8)
    if not generations.set(GENERATION_KEY, generation, timeout=0):
        # The store could not write it (a full disk): with no generation stored, every request
        # starts one of its own, so nothing stored is served until writing works again.
        generations.delete(GENERATION_KEY)
    return generation


def for_anonymous_visitors(*query_args: str) -> Callable:
    """Serve the view's page from the store to anonymous visitors (see the module's docstring);
    `query_args` are the query-string arguments the view reads (others: not stored)."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def view_or_stored_page(**kwargs):
            if not _same_for_every_visitor(query_args):
                return view(**kwargs)
            # Read before the view reads the database (see the module's docstring): each of the
            # view's statements then sees every commit made before this generation was set
            # (SQLite's reads and PostgreSQL's READ COMMITTED see the latest commit). A store
            # that lost the generation (pruned, restarted) gets a new one first, for that reason.
            generation = generations.get(GENERATION_KEY) or new_generation()
            key = _page_key(generation)
            entry = pages.get(key)
            if entry is None:
                response, entry = _render(view, kwargs)
                if entry is None:
                    return response
                pages.set(key, entry)
            placeholder, body, mimetype = entry
            if placeholder in body:
                body = body.replace(placeholder, generate_csrf())
            return Response(body, mimetype=mimetype)

        view_or_stored_page.serves_stored_pages = True  # type: ignore[attr-defined]
        return view_or_stored_page

    return decorate


@limiter.request_filter
def _stored_page_request() -> bool:
    """Flask-Limiter passes over requests for these pages before it looks their limits up: they
    have none (tests/test_page_cache.py checks), and finding that out cost about a third of a
    stored page's CPU (0.15 ms of 0.45)."""
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "serves_stored_pages", False)


def _same_for_every_visitor(query_args: tuple[str, ...]) -> bool:
    return (
        request.method in ("GET", "HEAD")
        and not current_user.is_authenticated
        and "_flashes" not in session
        and "HX-Request" not in request.headers
        and set(request.args) <= set(query_args)
    )


def _page_key(generation: str) -> str:
    where = "\0".join(
        [
            request.host,
            request.script_root,
            request.path,
            *(f"{name}={value}" for name, value in sorted(request.args.items(multi=True))),
        ]
    )
    return f"page:{generation}:{hashlib.sha256(where.encode()).hexdigest()}"


def _render(view: Callable, kwargs: dict) -> tuple[Response, tuple[str, str, str] | None]:
    """The view's response, and what to store: None when the page must not be shared (not a
    200, or this request had a token of its own before the view ran)."""
    # Flask-WTF keeps the request's signed token in `g`, under the token field's name.
    in_g = current_app.config["WTF_CSRF_FIELD_NAME"]
    if in_g in g:
        return current_app.make_response(view(**kwargs)), None
    # Flask-WTF's generate_csrf returns the request's token from `g` once it has made one, so
    # every token the render asks for (`csrf_token()`, a form's own field) is the placeholder,
    # and the visitor's session is left alone.
    placeholder = secrets.token_urlsafe(24)
    setattr(g, in_g, placeholder)
    try:
        response = current_app.make_response(view(**kwargs))
    finally:
        still_ours = g.pop(in_g, None) == placeholder
    # A stored page is answered with its body and type alone: a page whose view set headers of
    # its own (a policy, a cookie, caching rules) is served as the view made it, never stored.
    own_headers = {name.lower() for name, _ in response.headers} - _BODY_HEADERS
    if response.status_code != 200 or response.is_streamed or not still_ours or own_headers:
        return response, None
    mimetype = response.mimetype or "text/html"
    return response, (placeholder, response.get_data(as_text=True), mimetype)


# Which commits change what the pages show. Listened for on every session: a commit in a CLI
# command or the queue consumer makes the web workers' pages stale too.
@event.listens_for(Session, "after_flush")
def _note_shown_rows(session: Session, _context) -> None:
    # after_flush still sees what the flush wrote in new/dirty/deleted.
    changed = (*session.new, *session.dirty, *session.deleted)
    if any(getattr(type(row), "__tablename__", None) in SHOWN_TABLES for row in changed):
        session.info[_CHANGED] = True


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_statements(state: ORMExecuteState) -> None:
    # update(Widget)… / delete(User)… through the session change rows without loading them.
    if state.is_select or state.bind_mapper is None:
        return
    if getattr(state.bind_mapper.local_table, "name", None) in SHOWN_TABLES:
        state.session.info[_CHANGED] = True


@event.listens_for(Session, "after_commit")
def _new_generation_after_commit(session: Session) -> None:
    if not session.info.pop(_CHANGED, False) or not has_app_context():
        return
    if generations in current_app.extensions.get("cache", {}):
        new_generation()


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_CHANGED, None)
