# Client code runs in the viewer's browser: it asks the server for readings and draws them.
# (It can't read the API key or the table itself; only server functions can.)
import anvil.server
from js import document

WIDTH, HEIGHT, MARGIN = 480, 160, 24


def draw_chart(readings):
    """A line chart of the temperatures, oldest on the left, as an SVG polyline."""
    temps = [reading["temp"] for reading in reversed(readings)]
    chart = document.getElementById("chart")
    if len(temps) < 2:
        chart.innerHTML = ""
        return
    low, high = min(temps), max(temps)
    spread = (high - low) or 1  # a flat line still needs a height to divide by
    points = []
    for index, temp in enumerate(temps):
        x = MARGIN + index * (WIDTH - 2 * MARGIN) / (len(temps) - 1)
        y = HEIGHT - MARGIN - (temp - low) * (HEIGHT - 2 * MARGIN) / spread
        points.append(f"{x:.1f},{y:.1f}")
    chart.innerHTML = (
        f'<polyline fill="none" stroke="#1864ab" stroke-width="2" points="{" ".join(points)}"/>'
        f'<text x="2" y="{MARGIN}" font-size="11">{high:.1f}°</text>'
        f'<text x="2" y="{HEIGHT - MARGIN + 11}" font-size="11">{low:.1f}°</text>'
    )


def show_readings(event=None):
    readings = anvil.server.call("get_readings", 48)
    latest = document.getElementById("latest")
    if readings:
        newest = readings[0]
        latest.textContent = (
            f"{newest['city']}: {newest['temp']:.1f} °C, {newest['description']} ({newest['when']})"
        )
    else:
        latest.textContent = "No readings yet: set the api_key secret, then press Fetch now."
    draw_chart(readings)


def fetch_now(event):
    document.getElementById("status").textContent = "Fetching…"
    anvil.server.call("fetch_now")
    document.getElementById("status").textContent = "Started: refresh in a few seconds."


document.getElementById("fetch").addEventListener("click", fetch_now)
document.getElementById("refresh").addEventListener("click", show_readings)
show_readings()
