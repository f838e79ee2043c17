"""What a new widget starts with, so the editor never opens on an empty page."""

# The header Anvil server modules start with, so code moves between Anvil and py.space
# unchanged. The anvil.tables lines join it once py.space has data tables.
ANVIL_HEADER = """\
import anvil.secrets
import anvil.users
import anvil.tables as tables
import anvil.tables.query as q
from anvil.tables import app_tables
import anvil.server
"""

SCRIPT_SERVER_CODE = (
    ANVIL_HEADER
    + """
# Server code runs on py.space's server, in a sandbox.
# Keep API keys out of your code: add them under Secrets (top right), then:
#
#   key = anvil.secrets.get_secret('api_key')

print("Hello from py.space!")
"""
)

GUI_SERVER_CODE = (
    ANVIL_HEADER
    + """

@anvil.server.callable
def greet(name):
    return f"Hello, {name}!"
"""
)

GUI_CLIENT_CODE = """\
# Client code runs in the viewer's browser. Secrets are only available in server code.
import anvil.server
from js import document

def on_click(event):
    name = document.getElementById("name").value
    document.getElementById("out").textContent = anvil.server.call("greet", name)

document.getElementById("go").addEventListener("click", on_click)
"""

GUI_HTML = """\
<input id="name" placeholder="Your name">
<button id="go">Greet me</button>
<p id="out"></p>
"""


def starter_code(kind: str) -> dict:
    """The code fields a new widget of `kind` is created with."""
    if kind == "gui":
        return {"server_code": GUI_SERVER_CODE, "client_code": GUI_CLIENT_CODE, "html": GUI_HTML}
    return {"server_code": SCRIPT_SERVER_CODE, "client_code": "", "html": ""}
