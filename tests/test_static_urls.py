"""`static_url` (pyspace/static_urls.py): a static file's URL named by its bytes, remembered per
mount point, and cached for good by browsers when it names the file's current bytes."""

import hashlib
import re
from pathlib import Path

from flask import render_template_string, url_for

from pyspace.static_urls import IMMUTABLE

STATIC = Path(__file__).resolve().parents[1] / "static"


def version_of(name: str) -> str:
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:20]


def test_static_url_is_url_for_static_with_the_files_version_under_each_mount_point(app):
    # The same names under two mount points, in turns: neither gets the other's remembered URL.
    for _ in range(2):
        for base_url in ("http://localhost/", "http://localhost/py-space/"):
            with app.test_request_context("/", base_url=base_url):
                for name in ("css/app.css", "js/editor.js", "vendor/pico/pico.min.css"):
                    rendered = render_template_string("{{ static_url(name) }}", name=name)
                    assert rendered == url_for("static", filename=name, v=version_of(name))
    with app.test_request_context("/", base_url="http://localhost/py-space/"):
        assert render_template_string("{{ static_url('css/app.css') }}") == (
            f"/py-space/static/css/app.css?v={version_of('css/app.css')}"
        )


def test_static_url_can_name_a_file_by_its_name_alone(app):
    with app.test_request_context("/"):
        rendered = render_template_string("{{ static_url('js/editor.js', versioned=False) }}")
    assert rendered == "/static/js/editor.js"


def test_a_file_asked_for_by_its_current_version_is_cached_for_good(client):
    url = f"/static/css/app.css?v={version_of('css/app.css')}"
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == IMMUTABLE
    response.close()


def test_a_file_asked_for_by_another_version_or_none_is_revalidated_every_time(client):
    # A page from before an upgrade names the old bytes: the file still comes, but isn't kept.
    for url in ("/static/css/app.css?v=00000000000000000000", "/static/css/app.css"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-cache"
        response.close()


def test_every_stylesheet_and_script_a_page_links_is_cached_for_good(client):
    html = client.get("/").get_data(as_text=True)
    urls = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    assert len(urls) >= 5
    for url in urls:
        response = client.get(url)
        assert response.headers["Cache-Control"] == IMMUTABLE, url
        response.close()


def test_a_static_file_neither_varies_on_the_session_cookie_nor_sets_it(alice):
    # A browser whose cookie changed since it cached a file would otherwise ask for it again.
    page = alice.client.get("/")
    assert "cookie" in page.vary  # pages do depend on who is logged in
    response = alice.client.get(f"/static/css/app.css?v={version_of('css/app.css')}")
    assert "cookie" not in response.vary
    assert "Set-Cookie" not in response.headers
    response.close()
