"""Every `anvil.*` module Anvil's editor writes into a module's header imports, in server code
(inside the sandbox) and in client code; what py.space doesn't provide raises ServiceNotAdded,
naming the service, when used — never at import."""

import os
from pathlib import Path

import pytest

from pyspace.sandbox.settings import DEFAULT_PACKAGES_DIR
from tests.gui.client_runtime import GUI_RUNTIME
from tests.sandbox.helpers import SMALL_LIMITS, confinement, run_code

# A server module's header as Anvil's editor writes it with these services enabled, then code
# that uses what py.space provides and touches what it doesn't.
ANVIL_MODULE = """\
import anvil.email
import anvil.files
from anvil.files import data_files
import anvil.google.auth, anvil.google.drive, anvil.google.mail
from anvil.google.drive import app_files
import anvil.google.sheets
import anvil.facebook.auth
import anvil.microsoft.auth
import anvil.saml.auth
import anvil.stripe
import anvil.pdf
import anvil.mpl_util
import anvil.js
import anvil.users
import anvil.tables as tables
import anvil.tables.query as q
from anvil.tables import app_tables
import anvil.secrets
import anvil.server
import anvil.tz
import anvil.app
from datetime import datetime

when = datetime(2026, 1, 2, 12, 0, tzinfo=anvil.tz.tzoffset(hours=2))
print(when.astimezone(anvil.tz.tzutc()).isoformat(), anvil.tz.UTC.utcoffset(None))
print(anvil.tz.tzlocal().utcoffset(None), repr(anvil.tz.tzoffset(minutes=90)))
print("app", anvil.app.id == WIDGET_ID, anvil.app.environment.name, anvil.is_server_side())
for use in (
    lambda: anvil.google.auth.login(),
    lambda: app_files.my_sheet,
    lambda: data_files["notes.txt"],
    lambda: anvil.facebook.auth.get_user_email(),
    lambda: anvil.microsoft.auth.get_user_email(),
    lambda: anvil.saml.auth.get_user_attributes(),
    lambda: anvil.stripe.new_customer("a@example.org"),
    lambda: anvil.pdf.render_form("Form1"),
    lambda: anvil.google.sheets.open_by_key("k"),
    lambda: anvil.server.cookies.local["cart"],
):
    try:
        use()
    except anvil.server.ServiceNotAdded as error:
        print("refused:", error)
try:
    anvil.js.window
except ImportError as error:
    print("js:", error)
"""


@pytest.fixture
def app_config(app_config):
    app_config.update(SMALL_LIMITS, RUN_WALL_SECONDS=10, RUN_CPU_SECONDS=5)
    return app_config


def test_anvil_editor_module_header_imports_and_unprovided_services_refuse_on_use(app):
    confinement(app)
    code = ANVIL_MODULE.replace("WIDGET_ID", "anvil.app.id")
    result = run_code(app, code)
    assert result.ok, result.error
    lines = result.stdout.splitlines()
    assert lines[0] == "2026-01-02T10:00:00+00:00 0:00:00"
    assert lines[1] == "0:00:00 <anvil.tz.tzoffset (1.5 hour offset)>"
    assert lines[2] == "app True published True"
    refusals = [line for line in lines if line.startswith("refused: ")]
    assert len(refusals) == 10
    for service in (
        "Google",
        "Data Files",
        "Facebook",
        "Microsoft",
        "SAML",
        "Stripe",
        "PDF rendering",
        "Google (Sheets)",
        "Google (Drive)",
    ):
        assert any(f"needs the {service} service" in line for line in refusals), service
    # Outside an HTTP endpoint cookies refuse too, pointing to anvil.server.session.
    assert any("cookies.local works in HTTP endpoints" in line for line in refusals)
    assert "refused: anvil.google.auth.login() needs the Google service" in lines[3]
    assert lines[-1] == "js: anvil.js attributes are only available client-side"


def test_email_send_failure_is_anvils_exception_class(app):
    confinement(app)
    result = run_code(
        app,
        "import anvil.email\n"
        "try:\n    anvil.email.send(to='a@example.org', subject='no body')\n"
        "except anvil.email.SendFailure as error:\n    print('failed:', error)\n",
    )
    assert result.ok, result.error
    assert result.stdout.startswith("failed: An e-mail needs a body")


def _matplotlib_installed() -> bool:
    packages = os.environ.get("PYSPACE_SANDBOX_PACKAGES_DIR") or DEFAULT_PACKAGES_DIR
    return (Path(packages) / "matplotlib").is_dir()


@pytest.mark.skipif(
    not _matplotlib_installed(),
    reason="matplotlib is not in .sandbox/site-packages: scripts/install-sandbox-packages.sh",
)
def test_plot_image_returns_the_figure_as_png_media(app_config, app):
    # Importing matplotlib and numpy takes seconds of CPU, more on a loaded machine.
    app.config.update(RUN_WALL_SECONDS=40, RUN_CPU_SECONDS=20, RUN_MEMORY_MB=512)
    confinement(app)
    code = (
        "import matplotlib.pyplot as plt\nimport anvil, anvil.mpl_util\n"
        "plt.plot([1, 2, 3], [2, 4, 1])\n"
        "media = anvil.mpl_util.plot_image()\n"
        "print(isinstance(media, anvil.Media), media.content_type, media.name, "
        "media.get_bytes()[:8] == b'\\x89PNG\\r\\n\\x1a\\n', media.length > 1000)\n"
    )
    result = run_code(app, code)
    assert result.ok, result.error
    assert result.stdout == "True image/png plot.png True True\n"


def test_client_runtime_imports_every_anvil_module_without_pyodide(tmp_path):
    import subprocess
    import sys

    code = (
        "import anvil, anvil.email, anvil.files, anvil.google.auth, anvil.google.drive\n"
        "from anvil.google.drive import app_files\n"
        "import anvil.google.mail, anvil.google.sheets, anvil.facebook.auth\n"
        "import anvil.microsoft.auth, anvil.saml.auth, anvil.stripe, anvil.pdf\n"
        "import anvil.mpl_util, anvil.tz, anvil.js, anvil.app\n"
        "from anvil._unavailable import ServiceNotAdded\n"
        "print(anvil.is_server_side(), anvil.tz.tzutc().utcoffset(None))\n"
        "try:\n    anvil.google.auth.login()\n"
        "except ServiceNotAdded as error:\n    print(error)\n"
        "try:\n    anvil.email.send(to='a@example.org', text='hi')\n"
        "except RuntimeError as error:\n    print(error)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        capture_output=True,
        text=True,
        cwd=GUI_RUNTIME,
        timeout=30,
    )
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert lines[0] == "False 0:00:00"
    assert lines[1].startswith("anvil.google.auth.login() needs the Google service")
    assert lines[2].startswith("anvil.email.send works in server code only")
