"""One rule for secret descriptions: documentation for anyone who can fork the widget.

The editor says so next to the field, a fork and its `.env.example` carry them, and a run error
for a blank required secret shows them to whoever ran it.
"""

from tests.secrets.test_panel import create_secret

DESCRIPTION = "OpenWeather API key, free tier is fine"


def test_the_description_field_says_who_can_see_it(alice):
    widget_id = alice.create_widget("Weather")
    secret_id = create_secret(alice, widget_id, name="weather_key")
    html = alice.client.get(
        f"/widgets/{widget_id}/secrets/{secret_id}/edit/details", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert "visible to anyone who can fork this widget" in html
    assert "only you see it" not in html


def test_a_forker_sees_the_description_in_the_fork_and_its_env_example(app, alice, bob):
    widget_id = alice.create_widget("Weather", visibility="public")
    secret_id = create_secret(alice, widget_id, name="weather_key")
    alice.post(
        f"/widgets/{widget_id}/secrets/{secret_id}/details",
        {"description": DESCRIPTION, "required": "y"},
        htmx=True,
    )
    fork_id = bob.post(f"/widgets/{widget_id}/fork").headers["Location"].split("/")[-2]
    example = bob.client.get(f"/widgets/{fork_id}/secrets/env.example").get_data(as_text=True)
    assert f"# {DESCRIPTION} (required)\nweather_key=" in example
