"""The sandbox's own packages (scripts/sandbox-requirements.txt): each one listed is installed
in the packages folder every sandbox mounts, at the version pinned, and widget code imports
them."""

import os
import re
from pathlib import Path

import pytest

from pyspace.sandbox.settings import DEFAULT_PACKAGES_DIR, PROJECT_DIR
from tests.sandbox.helpers import SMALL_LIMITS, confinement, run_code

REQUIREMENTS = PROJECT_DIR / "scripts" / "sandbox-requirements.txt"
PIN_RE = re.compile(r"^([A-Za-z0-9._-]+)==(\S+)$")


def _pins() -> dict[str, str]:
    lines = (line.strip() for line in REQUIREMENTS.read_text().splitlines())
    pins = {}
    for line in lines:
        if line and not line.startswith("#"):
            match = PIN_RE.match(line)
            assert match, f"not pinned as name==version: {line!r}"
            pins[_normal(match.group(1))] = match.group(2)
    return pins


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _packages_dir() -> Path:
    return Path(os.environ.get("PYSPACE_SANDBOX_PACKAGES_DIR") or DEFAULT_PACKAGES_DIR)


def test_every_pinned_package_is_installed_at_its_version():
    if not _packages_dir().is_dir():
        pytest.skip("no .sandbox/site-packages: scripts/install-sandbox-packages.sh")
    installed = {}
    for info in _packages_dir().glob("*.dist-info"):
        name, version = info.name.removesuffix(".dist-info").rsplit("-", 1)
        installed[_normal(name)] = version
    pins = _pins()
    assert "marshmallow" in pins
    assert {name: installed.get(name) for name in pins} == pins


def test_widget_code_serialises_with_marshmallow(app):
    if not (_packages_dir() / "marshmallow").is_dir():
        pytest.skip("marshmallow is not in .sandbox/site-packages")
    app.config.update({**SMALL_LIMITS, "RUN_WALL_SECONDS": 20, "RUN_CPU_SECONDS": 5})
    confinement(app)
    code = (
        "import json, marshmallow\n"
        "Person = marshmallow.Schema.from_dict({'name': marshmallow.fields.Str(), "
        "'age': marshmallow.fields.Number()})\n"
        "print(json.dumps(Person().dump([{'name': 'Ann', 'age': 7}], many=True)))\n"
    )
    result = run_code(app, code)
    assert result.ok, result.error
    assert result.stdout == '[{"name": "Ann", "age": 7.0}]\n'  # Number dumps a float
