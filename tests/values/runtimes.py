"""Loading the two `anvil` runtimes' portable-value code in plain CPython for tests.

The sandbox's package (sandbox_runtime/anvil) and the browser's (static/gui-runtime/anvil) are
both named `anvil`; each is loaded here under a name of its own. The browser's `anvil.server`
needs the frame's JavaScript channel: `run_client` gives it a stand-in that answers from a
table of canned answers, in a fresh interpreter.
"""

import importlib
import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SANDBOX_ANVIL = ROOT / "sandbox_runtime" / "anvil"
CLIENT_ANVIL = ROOT / "static" / "gui-runtime" / "anvil"


def load_serialise(anvil_dir: Path, name: str):
    """The `_serialise` module of the `anvil` package in `anvil_dir`, imported as `name`."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, anvil_dir / "__init__.py", submodule_search_locations=[str(anvil_dir)]
        )
        assert spec is not None and spec.loader is not None
        package = importlib.util.module_from_spec(spec)
        sys.modules[name] = package
        spec.loader.exec_module(package)
    return importlib.import_module(name + "._serialise")


_FRAME_STAND_IN = """
import json, sys, types
ANSWERS = json.loads(sys.argv[1])
ASKED = []
frame = types.ModuleType("_pyspace_frame")
def call_blocking(route, body):
    ASKED.append((route, json.loads(body)))
    return json.dumps(ANSWERS[route].pop(0) if isinstance(ANSWERS[route], list) else ANSWERS[route])
frame.callBlocking = call_blocking
frame.viewerUsername = None
sys.modules["_pyspace_frame"] = frame
pyodide = types.ModuleType("pyodide")
ffi = types.ModuleType("pyodide.ffi")
ffi.can_run_sync = lambda: False
ffi.run_sync = None
ffi.to_js = lambda value: value
pyodide.ffi = ffi
sys.modules["pyodide"], sys.modules["pyodide.ffi"] = pyodide, ffi
"""


def run_client(code: str, answers: dict) -> subprocess.CompletedProcess:
    """Run `code` as client code, its calls answered from `answers` ({route: answer or list
    of answers}); `ASKED` holds what it sent."""
    return subprocess.run(
        [sys.executable, "-c", _FRAME_STAND_IN + textwrap.dedent(code), json.dumps(answers)],
        check=False,
        capture_output=True,
        text=True,
        cwd=CLIENT_ANVIL.parent,
        timeout=30,
    )
