"""The import graph keeps its layers: shared code and the sandbox never import an area, areas
don't import each other in a circle, and two areas can't claim the same channel op."""

import ast
from pathlib import Path

import pytest

from pyspace.sandbox.services import ChannelServices

PACKAGE = Path(__file__).resolve().parents[1] / "pyspace"
AREAS = {
    "admin",
    "appimport",
    "auth",
    "classes",
    "endpoints",
    "examples",
    "forks",
    "gui",
    "mail",
    "operations",
    "runs",
    "secrets",
    "tables",
    "tasks",
    "widget_sessions",
    "widgets",
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every pyspace module `path` imports, at its top or inside a function."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            found |= {f"{target}.{alias.name}" for alias in node.names}
    return {name for name in found if name.startswith("pyspace")}


def _component(module: str) -> str:
    # "pyspace.secrets.vault" -> "secrets"; "pyspace.models" -> "models"; "pyspace" -> "pyspace"
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        source = _component(_module_name(path))
        targets = {_component(name) for name in _imports(path)} - {source}
        graph.setdefault(source, set()).update(targets)
    return graph


def test_shared_modules_and_the_sandbox_never_import_an_area():
    # `pyspace/__init__.py` (create_app) is the one place that knows every area.
    offenders = {
        source: sorted(targets & AREAS)
        for source, targets in _graph().items()
        if source not in AREAS and source != "pyspace" and targets & AREAS
    }
    assert offenders == {}


def test_areas_do_not_import_each_other_in_a_circle():
    graph = {area: targets & AREAS for area, targets in _graph().items() if area in AREAS}

    def cycle_from(start: str, node: str, seen: tuple[str, ...]) -> tuple[str, ...] | None:
        for target in sorted(graph.get(node, ())):
            if target == start:
                return (*seen, target)
            if target not in seen:
                found = cycle_from(start, target, (*seen, target))
                if found:
                    return found
        return None

    cycles = [cycle_from(area, area, (area,)) for area in sorted(graph)]
    assert [" -> ".join(cycle) for cycle in cycles if cycle] == []


def test_the_layer_check_sees_a_relative_import_of_an_area(tmp_path, monkeypatch):
    # The check itself must be able to fail: a sandbox module importing `..secrets` is found.
    fake = PACKAGE / "sandbox" / "services.py"
    assert "secrets" not in {_component(name) for name in _imports(fake)}
    planted = tmp_path / "pyspace" / "sandbox" / "planted.py"
    planted.parent.mkdir(parents=True)
    planted.write_text("from ..secrets.vault import decrypt\n")
    monkeypatch.setattr(f"{__name__}.PACKAGE", tmp_path / "pyspace")
    assert {_component(name) for name in _imports(planted)} >= {"secrets"}


def test_two_areas_cannot_claim_the_same_channel_op():
    services = ChannelServices()
    services.add({"get_secret": lambda request, run: {"ok": True}})
    with pytest.raises(ValueError, match="get_secret"):
        services.add({"get_secret": lambda request, run: {"ok": False}})
    assert len(services) == 1


def test_every_area_registers_its_channel_services_once(app):
    from pyspace.sandbox.services import services_for

    ops = set(services_for(app))
    assert {"get_secret", "get_user", "launch_task", "tables_search"} <= ops
