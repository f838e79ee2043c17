"""A loopback fake of OpenWeatherMap's current-weather API, for the weather-logger example's tests.

`GET /data/2.5/weather?q=<city>&appid=<key>&units=metric` answers a reading in OpenWeatherMap's
shape when `appid` is the accepted key, and 401 as the real API does otherwise. Every query it
received is kept, so a test can check which key reached it.
"""

import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

FAKE_TEMP = 17.25
FAKE_DESCRIPTION = "light drizzle over the fake"
EXAMPLE_URL_LINE = (
    'API_URL = "https://api.openweathermap.org/data/2.5/weather?q={city}&appid={key}&units=metric"'
)


@dataclass
class FakeWeatherAPI:
    address: str  # host:port, for the run network's allow list
    accepted_key: str
    queries: list[dict[str, list[str]]] = field(default_factory=list)

    def pointed_at(self, server_code: str) -> str:
        """The example's server code with API_URL pointing at this fake."""
        assert EXAMPLE_URL_LINE in server_code
        return server_code.replace(
            EXAMPLE_URL_LINE,
            EXAMPLE_URL_LINE.replace("https://api.openweathermap.org", f"http://{self.address}"),
        )


@contextmanager
def fake_weather_api(accepted_key: str) -> Iterator[FakeWeatherAPI]:
    """Serve the fake on 127.0.0.1 (a free port) in a thread while the block runs."""
    api = FakeWeatherAPI(address="", accepted_key=accepted_key)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            api.queries.append(query)
            if url.path != "/data/2.5/weather" or query.get("appid") != [api.accepted_key]:
                status, payload = 401, {"cod": 401, "message": "Invalid API key."}
            else:
                status = 200
                payload = {
                    "name": query["q"][0],
                    "main": {"temp": FAKE_TEMP, "humidity": 81},
                    "weather": [{"main": "Drizzle", "description": FAKE_DESCRIPTION}],
                }
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass  # the request line holds the key: keep it out of the test's output

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    api.address = f"127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        thread.join(5)
