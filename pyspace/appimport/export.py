"""A widget as an Anvil app repository (zip): anvil.yaml with the tables' schema, secret and
key names (never a value), scheduled tasks, and server_code/ with every module. Importing it
gives the same widget."""

import io
import zipfile

import yaml

from ..models import DataTable, Schedule, Widget
from .anvil_app import EXPORT_COLUMN_TYPES

INIT_PY = '__path__ = [__path__[0] + "/server_code", __path__[0] + "/client_code"]\n'


def _package_name(widget: Widget) -> str:
    name = "".join(c for c in widget.title.title() if c.isalnum()) or "App"
    return name if name[0].isalpha() else f"App{name}"


def anvil_yaml(widget: Widget, tables: list[DataTable], schedules: list[Schedule]) -> str:
    spec = {
        "name": widget.title,
        "package_name": _package_name(widget),
        "allow_embedding": False,
        "runtime_options": {"version": 2, "client_version": "3", "server_version": "python3-full"},
        "services": [
            {"source": "/runtime/services/tables.yml", "client_config": {}, "server_config": {}}
        ],
        "db_schema": {
            table.name: {
                "title": table.name,
                "client": "none",
                "server": "full",
                "columns": [
                    {
                        "name": c.name,
                        "type": EXPORT_COLUMN_TYPES.get(c.type, c.type),
                        "admin_ui": {"order": i, "width": 200},
                    }
                    | ({"target": c.link_table.name} if c.link_table else {})
                    for i, c in enumerate(table.columns)
                ],
            }
            for table in tables
        },
        # Names only: a value is never exported (Anvil would hold its own encrypted copy).
        "secrets": {s.name: {"type": s.kind, "value": {}} for s in widget.secrets},
        "scheduled_tasks": [
            {
                "task_name": s.task_name,
                "time_spec": {
                    "every": s.every,
                    "n": s.n,
                    "at": {"hour": s.at_hour, "minute": s.at_minute, "day": s.weekday},
                },
                "job_id": f"pyspace{s.id}",
            }
            for s in schedules
        ],
    }
    return yaml.safe_dump(spec, sort_keys=False, allow_unicode=True)


def export_zip(widget: Widget, tables: list[DataTable], schedules: list[Schedule]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("anvil.yaml", anvil_yaml(widget, tables, schedules))
        archive.writestr("__init__.py", INIT_PY)
        for module in widget.modules:
            path = module.name.replace(".", "/")
            if any(other.name.startswith(module.name + ".") for other in widget.modules):
                path += "/__init__"
            archive.writestr(f"server_code/{path}.py", module.code)
    return buffer.getvalue()
