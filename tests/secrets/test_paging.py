"""The Secrets panel a page at a time: the first page in creation order, "Show more" (htmx and
plain links), a new secret beyond the first page shown right away, and nothing decrypted."""

import re

import pytest
from flask import url_for
from sqlalchemy import event, insert

from pyspace.config import SETTINGS_BY_NAME
from pyspace.extensions import db
from pyspace.models import Secret
from pyspace.secrets import vault

HX = {"HX-Request": "true"}
# The panel renders SECRETS_PAGE_SIZE rows at a time; the tests run with its default.
PAGE_SIZE = SETTINGS_BY_NAME["SECRETS_PAGE_SIZE"].default
VALUE = "sk-live-paging-4Hk8Wq"


@pytest.fixture
def widget_id(alice):
    return alice.create_widget("Many keys", server_code="print('hi')\n")


def add_secrets(app, widget_id, count, start=0):
    """`count` secrets named api_key_NNNNN (every third one with VALUE); their ids in order."""
    with app.app_context():
        rows = [
            {
                "widget_id": widget_id,
                "name": f"api_key_{number:05d}",
                "ciphertext": vault.encrypt_value(VALUE) if number % 3 == 0 else None,
            }
            for number in range(start, start + count)
        ]
        db.session.execute(insert(Secret), rows)
        db.session.commit()
        return list(
            db.session.scalars(
                db.select(Secret.id).filter_by(widget_id=widget_id).order_by(Secret.id)
            )
        )


def row_ids(html):
    return [int(found) for found in re.findall(r'<li id="secret-(\d+)" class="secret-row', html)]


def more_links(html):
    """The (href, hx-get) of each Show more control, `&amp;` decoded."""
    return [
        (href.replace("&amp;", "&"), hx_get.replace("&amp;", "&"))
        for href, hx_get in re.findall(
            r'<li class="secret-more">\s*<a href="([^"]+)"\s+hx-get="([^"]+)"', html
        )
    ]


def test_panel_shows_the_first_page_in_creation_order_with_the_count(app, alice, widget_id):
    ids = add_secrets(app, widget_id, PAGE_SIZE + 5)
    html = alice.client.get(f"/widgets/{widget_id}/secrets", headers=HX).get_data(as_text=True)
    assert row_ids(html) == ids[:PAGE_SIZE]
    assert (
        html.index(">api_key_00000<")
        < html.index(">api_key_00001<")
        < html.index(f">api_key_{PAGE_SIZE - 1:05d}<")
    )
    assert f">api_key_{PAGE_SIZE:05d}<" not in html
    assert f"{PAGE_SIZE + 5:,} secrets" in html and "Create Secret" in html
    url = f"/widgets/{widget_id}/secrets/more?after={ids[PAGE_SIZE - 1]}"
    assert more_links(html) == [(url, url)]
    assert "5 more secrets" in html and ">Show more</a>" in html


def test_a_panel_that_fits_on_one_page_has_no_show_more(app, alice, widget_id):
    ids = add_secrets(app, widget_id, PAGE_SIZE)
    html = alice.client.get(f"/widgets/{widget_id}/secrets", headers=HX).get_data(as_text=True)
    assert row_ids(html) == ids and more_links(html) == []
    assert f"{PAGE_SIZE} secrets" in html


def test_show_more_appends_the_next_page_and_the_next_control(app, alice, widget_id):
    ids = add_secrets(app, widget_id, 2 * PAGE_SIZE + 3)
    response = alice.client.get(
        f"/widgets/{widget_id}/secrets/more?after={ids[PAGE_SIZE - 1]}", headers=HX
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html and "<ul" not in html
    assert response.headers["Cache-Control"] == "no-store"
    assert row_ids(html) == ids[PAGE_SIZE : 2 * PAGE_SIZE]
    # Keyboard users land on the first row that appeared, where the control was.
    assert re.search(
        rf'id="secret-{ids[PAGE_SIZE]}".*?title="Click to rename" autofocus', html, re.S
    )
    assert html.count("autofocus") == 1
    url = f"/widgets/{widget_id}/secrets/more?after={ids[2 * PAGE_SIZE - 1]}"
    assert more_links(html) == [(url, url)] and "3 more secrets" in html
    last = alice.client.get(url, headers=HX).get_data(as_text=True)
    assert row_ids(last) == ids[2 * PAGE_SIZE :] and more_links(last) == []


def test_show_more_without_javascript_is_the_panel_page_starting_there(app, alice, widget_id):
    ids = add_secrets(app, widget_id, PAGE_SIZE + 5)
    response = alice.client.get(f"/widgets/{widget_id}/secrets/more?after={ids[PAGE_SIZE - 1]}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html
    assert row_ids(html) == ids[PAGE_SIZE:]
    assert "Create Secret" in html and f"{PAGE_SIZE + 5:,} secrets" in html
    assert f'<a href="/widgets/{widget_id}/secrets">← Back to the first secrets</a>' in html
    # Focus starts at the page's first row, not at Create Secret far above.
    assert re.search(rf'id="secret-{ids[PAGE_SIZE]}".*?autofocus', html, re.S)
    assert html.count("autofocus") == 1


def test_a_new_secret_beyond_the_first_page_is_shown_focused_at_once(app, alice, widget_id):
    ids = add_secrets(app, widget_id, PAGE_SIZE + 5)
    html = alice.post(f"/widgets/{widget_id}/secrets", htmx=True).get_data(as_text=True)
    new_id = row_ids(html)[-1]
    assert new_id not in ids and row_ids(html) == [*ids[:PAGE_SIZE], new_id]
    assert re.search(rf'id="secret-{new_id}".*?>new_secret_1</a>', html, re.S)
    assert (
        re.search(rf'id="secret-{new_id}".*?autofocus', html, re.S) and html.count("autofocus") == 1
    )
    assert f"{PAGE_SIZE + 6:,} secrets" in html
    # The rows in between stay one click away, and stop before the new row.
    gap = f"/widgets/{widget_id}/secrets/more?after={ids[PAGE_SIZE - 1]}&before={new_id}"
    assert more_links(html) == [(gap, gap)] and "5 more secrets" in html
    assert html.index("secret-more") < html.index(f'id="secret-{new_id}"')
    between = alice.client.get(gap, headers=HX).get_data(as_text=True)
    assert row_ids(between) == ids[PAGE_SIZE:] and more_links(between) == []


def test_a_new_secret_without_javascript_is_on_the_panel_page_it_returns_to(app, alice, widget_id):
    add_secrets(app, widget_id, PAGE_SIZE + 5)
    response = alice.post(f"/widgets/{widget_id}/secrets")
    new_id = int(response.headers["Location"].rsplit("=", 1)[1])
    html = alice.client.get(response.headers["Location"]).get_data(as_text=True)
    assert new_id in row_ids(html) and ">new_secret_1</a>" in html


def test_a_row_beyond_the_first_page_can_be_edited_without_javascript(app, alice, widget_id):
    ids = add_secrets(app, widget_id, PAGE_SIZE + 5)
    target = ids[PAGE_SIZE + 2]
    html = alice.client.get(f"/widgets/{widget_id}/secrets/{target}/edit/name").get_data(
        as_text=True
    )
    assert "<html" in html and f'id="secret-{target}-name"' in html
    assert f'value="api_key_{PAGE_SIZE + 2:05d}"' in html
    # The row after it is one "Show more" away.
    after = f"/widgets/{widget_id}/secrets/more?after={target}"
    assert (after, after) in more_links(html)


def test_paging_decrypts_nothing_and_never_loads_a_value(app, alice, widget_id, decryptions):
    ids = add_secrets(app, widget_id, PAGE_SIZE + 5)
    statements = []
    with app.app_context():
        engine = db.engine

    def executed(conn, cursor, statement, *args):
        statements.append(statement)

    # Removed afterwards: the engine outlives the test (apps are shared between tests).
    event.listen(engine, "before_cursor_execute", executed)
    before = decryptions.count
    try:
        pages = [
            alice.client.get(f"/widgets/{widget_id}/secrets", headers=HX),
            alice.client.get(f"/widgets/{widget_id}/secrets"),
            alice.client.get(
                f"/widgets/{widget_id}/secrets/more?after={ids[PAGE_SIZE - 1]}", headers=HX
            ),
            alice.client.get(f"/widgets/{widget_id}/secrets/more?after={ids[PAGE_SIZE - 1]}"),
        ]
    finally:
        event.remove(engine, "before_cursor_execute", executed)
    assert decryptions.count == before
    assert all(
        page.status_code == 200 and VALUE not in page.get_data(as_text=True) for page in pages
    )
    listing = [s for s in statements if "FROM secrets" in s]
    assert listing and not any(
        re.search(r"secrets\.(ciphertext|fingerprint)(?! IS NULL)", s) for s in listing
    )


def test_row_links_are_the_routes_url_for_builds(app, alice, widget_id):
    secret_id = add_secrets(app, widget_id, 1)[0]
    html = alice.client.get(f"/widgets/{widget_id}/secrets", headers=HX).get_data(as_text=True)
    row = html[html.index(f'<li id="secret-{secret_id}"') :]
    row = row[: row.index("</li>")]
    with app.test_request_context():
        expected = {
            "Set value": url_for(
                "secrets.edit_row", widget_id=widget_id, secret_id=secret_id, mode="value"
            ),
            "Details": url_for(
                "secrets.edit_row", widget_id=widget_id, secret_id=secret_id, mode="details"
            ),
        }
        rename = url_for("secrets.edit_row", widget_id=widget_id, secret_id=secret_id, mode="name")
        confirm = url_for("secrets.confirm_delete", widget_id=widget_id, secret_id=secret_id)
        delete = url_for("secrets.delete", widget_id=widget_id, secret_id=secret_id)
        reveal = url_for("secrets.reveal", widget_id=widget_id, secret_id=secret_id)
    assert f'href="{rename}" hx-get="{rename}"' in row
    # View value is a POST (it decrypts and audits): a form with its own CSRF token.
    assert re.search(rf'<form method="post" action="{reveal}" hx-post="{reveal}"', row)
    for label, url in expected.items():
        assert re.search(rf'href="{url}" hx-get="{url}"[^>]*>{label}</a>', row), label
    assert f'href="{confirm}" hx-post="{delete}"' in row
    for url in [rename, confirm, delete, reveal, *expected.values()]:
        assert alice.client.get(url, headers=HX).status_code in (200, 405)
