# Weather logger: fetch the current weather every hour and keep each reading in a data table.
#
# 1. Set the secret api_key (Secrets panel, top right). Its description says where to get one.
# 2. Enable the hourly schedule for fetch_weather (Scheduled Tasks), or press "Fetch now".
from datetime import UTC, datetime
from urllib.parse import quote

import anvil.secrets
import anvil.server
import requests
from anvil.tables import app_tables, order_by

# OpenWeatherMap's current-weather endpoint. {city} and {key} are filled in below; the key is
# never written here, so anyone may read (or fork) this code without learning it.
API_URL = "https://api.openweathermap.org/data/2.5/weather?q={city}&appid={key}&units=metric"
CITY = "London"


@anvil.server.background_task
def fetch_weather():
    """Fetch the weather once and add it to the readings table (the schedule runs this)."""
    key = anvil.secrets.get_secret("api_key")  # read from the Secrets panel, at run time
    response = requests.get(API_URL.format(city=quote(CITY), key=quote(key)), timeout=10)
    response.raise_for_status()  # a wrong key (401) stops here with a clear error
    weather = response.json()
    app_tables.readings.add_row(
        when=datetime.now(UTC),
        city=CITY,
        temp=weather["main"]["temp"],
        description=weather["weather"][0]["description"],
    )


@anvil.server.callable
def get_readings(limit=48):
    """The newest `limit` readings, newest first, as plain values the browser can use."""
    newest = app_tables.readings.search(order_by("when", ascending=False))[:limit]
    return [
        {
            "when": row["when"].isoformat(),
            "city": row["city"],
            "temp": row["temp"],
            "description": row["description"],
        }
        for row in newest
    ]


@anvil.server.callable
def fetch_now():
    """The "Fetch now" button: start fetch_weather in the background and return at once."""
    anvil.server.launch_background_task("fetch_weather")
