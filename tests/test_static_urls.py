"""`static_url` (pyspace/static_urls.py): url_for's static URLs, remembered per mount point."""

from flask import render_template_string, url_for


def test_static_url_is_url_for_static_under_each_mount_point(app):
    # The same names under two mount points, in turns: neither gets the other's remembered URL.
    for _ in range(2):
        for base_url in ("http://localhost/", "http://localhost/py-space/"):
            with app.test_request_context("/", base_url=base_url):
                for name in ("css/app.css", "js/editor.js", "vendor/pico/pico.min.css"):
                    rendered = render_template_string("{{ static_url(name) }}", name=name)
                    assert rendered == url_for("static", filename=name)
    with app.test_request_context("/", base_url="http://localhost/py-space/"):
        assert render_template_string("{{ static_url('css/app.css') }}") == (
            "/py-space/static/css/app.css"
        )
