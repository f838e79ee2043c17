"""A flood of requests to a widget's endpoints: limited per client address and per widget, so
one flooder neither exhausts the site nor, past the widget's share, that widget."""

import pytest


@pytest.fixture
def app_config(app_config):
    app_config.update(
        RATELIMIT_ENABLED=True,
        ENDPOINT_RATE_LIMIT_PER_ADDRESS="3 per minute",
        ENDPOINT_RATE_LIMIT_PER_WIDGET="5 per minute",
    )
    return app_config


def _status(client, url: str, address: str) -> int:
    return client.get(url, environ_base={"REMOTE_ADDR": address}).status_code


def test_a_flood_is_limited_per_address_then_per_widget(app, alice):
    # Unknown paths are answered without a sandbox: the limits count every request all the same.
    first = alice.create_widget("A", server_code="", visibility="public")
    second = alice.create_widget("B", server_code="", visibility="public")
    client = app.test_client()
    flood = [_status(client, f"/_/api/{first}/x", "192.0.2.1") for _ in range(4)]
    assert flood == [404, 404, 404, 429]
    # Another address still gets through, until the widget's share (every request it was sent,
    # refused ones included) is used up.
    others = [_status(client, f"/_/api/{first}/x", "192.0.2.2") for _ in range(2)]
    assert others == [404, 429]
    # Another widget's endpoints are not affected by the first widget's flood.
    assert _status(client, f"/_/api/{second}/x", "192.0.2.3") == 404
