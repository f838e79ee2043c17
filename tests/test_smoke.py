def test_home_renders_for_anonymous_visitor(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Public widgets" in response.data


def test_register_create_and_view_widget(alice):
    widget_id = alice.create_widget("Hello", server_code="print('hi')\n", visibility="public")
    page = alice.client.get(f"/widgets/{widget_id}")
    assert page.status_code == 200
    assert b"print(&#39;hi&#39;)" in page.data
