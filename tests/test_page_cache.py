"""Pages stored for anonymous visitors (pyspace/page_cache.py): served without rendering or
querying, each visitor's own CSRF token in them, and never once the data they show changed —
whoever changed it, in whichever process."""

import os
from pathlib import Path

import pytest
from flask import session
from flask_wtf.csrf import generate_csrf, validate_csrf
from sqlalchemy import event, update

from pyspace import create_app, page_cache
from pyspace.config import ConfigError
from pyspace.extensions import db
from pyspace.models import User, Widget

from .conftest import CSRF_META, csrf_token_from


@pytest.fixture
def public_widget(alice):
    return alice.create_widget(title="Weather", visibility="public", description="Leeds")


@pytest.fixture
def statements(app):
    """How many SQL statements the app ran since the last `reset()`."""

    class Count:
        value = 0

        def reset(self):
            self.value = 0

    count = Count()

    def counted(*_):
        count.value += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", counted)
    yield count
    event.remove(engine, "before_cursor_execute", counted)


def _anonymous(app):
    return app.test_client()


def _token_out(response) -> str:
    """The page without its CSRF token: Flask-WTF signs the token with the second it was made,
    so the same visitor's token differs between two requests a second apart."""
    html = response.get_data(as_text=True)
    token = CSRF_META.search(html)
    return html.replace(token.group(1), "") if token else html


def test_an_anonymous_page_is_rendered_once_then_served_without_a_query(
    app, public_widget, statements
):
    visitor = _anonymous(app)
    for path in ("/", f"/widgets/{public_widget}", "/u/alice"):
        first = visitor.get(path)
        assert first.status_code == 200
        statements.reset()
        again = visitor.get(path)
        assert again.status_code == 200
        assert statements.value == 0, path
        assert _token_out(again) == _token_out(first)
        assert again.headers["Content-Type"] == first.headers["Content-Type"]
        assert again.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]


def test_every_anonymous_visitor_gets_a_token_of_their_own_that_works(app, public_widget):
    first, second = _anonymous(app), _anonymous(app)
    path = f"/widgets/{public_widget}"
    first_token = csrf_token_from(first.get(path).get_data(as_text=True))
    second_page = second.get(path).get_data(as_text=True)
    second_token = csrf_token_from(second_page)
    assert first_token != second_token
    # The Run form and htmx's header carry the same, visitor's own, token.
    assert second_page.count(second_token) == 3
    # Each token is good for its own visitor's form: a wrong password, not a stale form.
    for visitor, token in ((first, first_token), (second, second_token)):
        answer = visitor.post(
            "/login", data={"username": "alice", "password": "wrong", "csrf_token": token}
        )
        assert answer.status_code != 400
        assert b"form was stale" not in answer.data


def test_stored_pages_hold_no_visitors_token(app, public_widget):
    visitor = _anonymous(app)
    token = csrf_token_from(visitor.get(f"/widgets/{public_widget}").get_data(as_text=True))
    with app.app_context():
        stored = [value for _expires, value in page_cache.pages.cache._cache.values()]
    assert stored
    assert not any(token.encode() in value for value in stored)
    # The generation's file, the only thing on disk, is the site user's alone.
    files = [path for path in Path(app.instance_path, "page-cache").iterdir() if path.is_file()]
    assert files
    assert all(path.stat().st_mode & 0o077 == 0 for path in files)


def test_a_widget_made_private_leaves_anonymous_pages_at_once(app, alice, public_widget):
    visitor = _anonymous(app)
    assert b"Weather" in visitor.get("/").data
    assert visitor.get(f"/widgets/{public_widget}").status_code == 200
    alice.save_widget(public_widget, visibility="private")
    assert b"Weather" not in visitor.get("/").data
    assert visitor.get(f"/widgets/{public_widget}").status_code == 404
    assert b"Weather" not in visitor.get("/u/alice").data


def test_a_change_committed_by_another_process_is_seen_at_once(app, app_config, public_widget):
    # Another worker, the consumer or a CLI command: an app of its own on the same instance
    # (started first: a start alone makes the stored pages stale).
    other = create_app(dict(app_config, INSTANCE_PATH=app.instance_path))
    visitor = _anonymous(app)
    assert b"Weather" in visitor.get("/").data
    with other.app_context():
        db.session.get(Widget, public_widget).title = "Forecast"
        db.session.commit()
        db.session.remove()
    page = visitor.get("/").get_data(as_text=True)
    assert "Forecast" in page and "Weather" not in page


def test_a_bulk_statement_on_a_shown_table_makes_pages_stale(app, public_widget):
    visitor = _anonymous(app)
    assert b"Weather" in visitor.get(f"/widgets/{public_widget}").data
    with app.app_context():
        db.session.execute(update(Widget).values(title="Forecast"))
        db.session.commit()
    assert b"Forecast" in visitor.get(f"/widgets/{public_widget}").data
    with app.app_context():
        db.session.execute(update(User).values(username="alicia"))
        db.session.commit()
    assert b"alicia" in visitor.get(f"/widgets/{public_widget}").data


def test_a_rolled_back_change_leaves_stored_pages_served(app, public_widget, statements):
    visitor = _anonymous(app)
    visitor.get("/")
    with app.app_context():
        db.session.get(Widget, public_widget).title = "Never saved"
        db.session.flush()
        db.session.rollback()
    statements.reset()
    assert b"Weather" in visitor.get("/").data
    assert statements.value == 0


def test_a_page_rendered_before_a_commit_is_not_served_after_it(
    app, app_config, public_widget, monkeypatch
):
    """The race: a visitor's page reads the widget, another process commits a change, then the
    page is stored. It is stored under the generation the commit replaced, so never served."""
    from pyspace.widgets import routes

    other = create_app(dict(app_config, INSTANCE_PATH=app.instance_path))
    render = routes.render_template

    def commit_in_between(*args, **kwargs):
        with other.app_context():
            db.session.get(Widget, public_widget).title = "Forecast"
            db.session.commit()
            db.session.remove()
        monkeypatch.setattr(routes, "render_template", render)
        return render(*args, **kwargs)

    monkeypatch.setattr(routes, "render_template", commit_in_between)
    visitor = _anonymous(app)
    assert b"Weather" in visitor.get(f"/widgets/{public_widget}").data  # read before the commit
    assert b"Forecast" in visitor.get(f"/widgets/{public_widget}").data


def test_logged_in_visitors_see_their_own_page_never_a_stored_one(app, alice, public_widget):
    anonymous = _anonymous(app).get("/").get_data(as_text=True)
    assert "Your widgets" not in anonymous
    mine = alice.client.get("/").get_data(as_text=True)
    assert "Your widgets" in mine and "Log out" in mine
    alice.save_widget(public_widget, visibility="private")
    # The owner still sees a private widget's page; a visitor gets 404.
    assert alice.client.get(f"/widgets/{public_widget}").status_code == 200
    assert _anonymous(app).get(f"/widgets/{public_widget}").status_code == 404


def test_a_waiting_message_htmx_and_unknown_arguments_bypass_the_store(
    app, public_widget, statements
):
    visitor = _anonymous(app)
    visitor.get("/")
    with visitor.session_transaction() as session:
        session["_flashes"] = [("info", "Only for this visitor")]
    assert b"Only for this visitor" in visitor.get("/").data
    assert b"Only for this visitor" not in _anonymous(app).get("/").data
    for path, headers in (("/", {"HX-Request": "true"}), ("/?anything=1", {})):
        for _ in range(2):
            statements.reset()
            visitor.get(path, headers=headers)
            assert statements.value > 0, path


def test_page_numbers_are_stored_apart(app, alice, statements):
    app.config["WIDGETS_PER_PAGE"] = 1
    alice.create_widget(title="Older", visibility="public")
    alice.create_widget(title="Newer", visibility="public")
    visitor = _anonymous(app)
    assert b"Newer" in visitor.get("/").data
    assert b"Older" in visitor.get("/?page=2").data
    statements.reset()
    assert b"Older" in visitor.get("/?page=2").data
    assert statements.value == 0


def test_a_token_the_view_makes_itself_is_each_visitors_own(app_config, tmp_path):
    app = create_app(dict(app_config, INSTANCE_PATH=str(tmp_path / "probe-instance")))

    @page_cache.for_anonymous_visitors()
    def made_its_own_token():
        return f"<p>{generate_csrf()}</p>"

    app.add_url_rule("/probe", view_func=made_its_own_token)
    first, second = app.test_client(), app.test_client()
    tokens = [client.get("/probe").get_data(as_text=True)[3:-4] for client in (first, second)]
    assert tokens[0] != tokens[1]
    for client, token in zip((first, second), tokens, strict=True):
        with client.session_transaction() as saved:
            visitors_session = dict(saved)
        with app.test_request_context():
            session.update(visitors_session)
            # Flask-WTF's own check: it raises unless the token is this visitor's.
            assert validate_csrf(token) is None


def test_a_page_whose_view_sets_its_own_headers_is_never_stored(app_config, tmp_path):
    app = create_app(dict(app_config, INSTANCE_PATH=str(tmp_path / "probe-instance")))
    rendered = []

    @page_cache.for_anonymous_visitors()
    def own_policy():
        rendered.append(1)
        return "<p>framed</p>", {"Content-Security-Policy": "default-src 'none'"}

    app.add_url_rule("/probe", view_func=own_policy)
    visitor = app.test_client()
    answers = [visitor.get("/probe") for _ in range(2)]
    assert len(rendered) == 2
    assert [a.headers["Content-Security-Policy"] for a in answers] == ["default-src 'none'"] * 2


def test_the_store_can_be_turned_off(app_config, tmp_path):
    (tmp_path / "instance").mkdir(exist_ok=True)  # where the test database's file goes
    app = create_app(
        dict(app_config, PAGE_CACHE_URL="off", INSTANCE_PATH=str(tmp_path / "off-instance"))
    )
    queries = []
    with app.app_context():
        db.create_all()
        event.listen(db.engine, "before_cursor_execute", lambda *_: queries.append(1))
    visitor = app.test_client()
    for _ in range(2):
        queries.clear()
        assert visitor.get("/").status_code == 200
        assert queries
    assert not os.path.exists(os.path.join(app.instance_path, "page-cache"))


def test_an_unknown_store_is_refused_with_what_it_accepts(app_config):
    with pytest.raises(ConfigError, match="redis://… or off"):
        create_app(dict(app_config, PAGE_CACHE_URL="memcached://localhost"))


def test_a_lost_generation_makes_every_stored_page_stale(app, public_widget, statements):
    """The store may lose it (a Redis restart or eviction, the file removed)."""
    visitor = _anonymous(app)
    visitor.get("/")
    with app.app_context():
        page_cache.generations.delete(page_cache.GENERATION_KEY)
    statements.reset()
    assert b"Weather" in visitor.get("/").data
    assert statements.value > 0
    statements.reset()
    visitor.get("/")
    assert statements.value == 0


def test_a_store_that_cannot_write_serves_nothing_it_stored(app, public_widget, monkeypatch):
    visitor = _anonymous(app)
    assert b"Weather" in visitor.get("/").data
    with app.app_context():
        backend = page_cache.generations.cache
    monkeypatch.setattr(backend, "set", lambda *args, **kwargs: False)  # a full disk
    with app.app_context():
        db.session.get(Widget, public_widget).title = "Forecast"
        db.session.commit()
    assert b"Forecast" in visitor.get("/").data


def test_stored_pages_have_no_rate_limit_the_limiter_would_pass_over(app):
    """The limiter skips stored pages' requests (page_cache._stored_page_request): right only
    while none of them has a limit, of its own or for the whole site."""
    stored = [
        (endpoint, view)
        for endpoint, view in app.view_functions.items()
        if getattr(view, "serves_stored_pages", False)
    ]
    assert {endpoint for endpoint, _ in stored} == {
        "widgets.home",
        "widgets.show",
        "widgets.user_page",
    }
    for endpoint, view in stored:
        assert getattr(view, "__wrapper-limiter-instance", None) is None, endpoint
    assert not app.config.get("RATELIMIT_DEFAULT")
    assert not app.config.get("RATELIMIT_APPLICATION")


def test_a_page_an_anonymous_visitor_only_reads_sets_no_cookie(app, alice, public_widget):
    for path in ("/", "/u/alice"):
        answer = _anonymous(app).get(path)
        assert "Set-Cookie" not in answer.headers, path
        assert "csrf-token" not in answer.get_data(as_text=True), path
    # The public script widget's page has its Run form: a token, and the cookie that holds it.
    answer = _anonymous(app).get(f"/widgets/{public_widget}")
    assert "Set-Cookie" in answer.headers
    # Logged in, every page carries the token for htmx.
    assert 'hx-headers=\'{"X-CSRFToken"' in alice.client.get("/").get_data(as_text=True)


def test_a_flood_of_page_numbers_keeps_the_store_small_and_cheap(app, alice, public_widget):
    visitor, bystander = _anonymous(app), _anonymous(app)
    for number in range(1, page_cache.MOST_PAGES + 300):
        assert visitor.get(f"/?page={number}").status_code == 200
        if number % 200 == 0:
            # Another visitor meanwhile sees the site as it is, a change included.
            alice.save_widget(public_widget, title=f"Weather {number}")
            assert f"Weather {number}".encode() in bystander.get("/").data
    with app.app_context():
        # (the store prunes before it adds: one over at most)
        assert len(page_cache.pages.cache._cache) <= page_cache.MOST_PAGES + 1
    # Only the generation is on disk, however many pages were asked for.
    assert len(list(Path(app.instance_path, "page-cache").iterdir())) == 1
