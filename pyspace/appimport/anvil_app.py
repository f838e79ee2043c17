"""Reading an Anvil app's source — a zip of its git repository, or a single-file .yaml
export — into an `AnvilApp`: what py.space can take (server modules, tables, secret and key
names, scheduled tasks) and what it can't (listed for the report). Nothing is run.

Untrusted input: YAML is parsed with PyYAML's safe loader and refuses aliases (no
"billion laughs"); a zip is refused for symlinks, absolute or `..` paths, too many entries, or
more unpacked bytes than the IMPORT_UNPACKED_BYTES setting (counted as read, not as claimed).
"""

import io
import posixpath
import stat
import zipfile
from dataclasses import dataclass, field

import yaml

from ..models import COLUMN_TYPES, SECRET_NAME_RE, module_name_problem

MAX_ENTRIES = 2_000
MAX_TABLES = 100
MAX_COLUMNS = 1_000  # in all tables together
MAX_SECRETS = 200
MAX_SCHEDULES = 50

# Anvil's column types, and what py.space stores them as (those it has).
ANVIL_COLUMN_TYPES = {
    "string": "text",
    "number": "number",
    "bool": "bool",
    "date": "date",
    "datetime": "datetime",
    "simpleObject": "simple_object",
    "media": "media",
    "link_single": "link_single",
    "link_multiple": "link_multiple",
}
# py.space's types back to Anvil's (export).
EXPORT_COLUMN_TYPES = {ours: anvil for anvil, ours in ANVIL_COLUMN_TYPES.items()}
SCHEDULE_EVERY = {"minute", "hour", "day", "week"}


class ImportRefusedError(Exception):
    """The archive can't be imported; the message says why, for the person who sent it."""


@dataclass
class Column:
    name: str
    type: str
    target: str | None = None  # a link column's table (Anvil's table_id resolved to a name)


@dataclass
class Table:
    name: str
    columns: list[Column] = field(default_factory=list)


@dataclass
class ScheduledTask:
    task_name: str
    every: str
    n: int = 1
    at_hour: int = 0
    at_minute: int = 0
    weekday: int = 0


@dataclass
class AnvilApp:
    name: str
    package_name: str = ""
    modules: list[tuple[str, str]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    secrets: list[tuple[str, str]] = field(default_factory=list)  # (name, "secret" | "key")
    schedules: list[ScheduledTask] = field(default_factory=list)
    # What didn't come over, for the report.
    forms: list[str] = field(default_factory=list)
    client_modules: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)


class _NoAliasLoader(yaml.SafeLoader):
    """The safe loader, refusing anchors' aliases: a few lines could otherwise expand into
    billions of nodes."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            raise ImportRefusedError("anvil.yaml uses YAML aliases (*name), which aren't accepted.")
        return super().compose_node(parent, index)


def load_yaml(text: str):
    try:
        return yaml.load(text, Loader=_NoAliasLoader)
    except yaml.YAMLError as error:
        raise ImportRefusedError(f"anvil.yaml is not valid YAML: {error}") from None


# --- Archives --------------------------------------------------------------------------------


def read_archive(data: bytes, filename: str, max_unpacked: int) -> AnvilApp:
    """The app in an uploaded file: a zip (of a git repository) or an app export (.yaml)."""
    if filename.lower().endswith((".yaml", ".yml")):
        if len(data) > max_unpacked:
            raise ImportRefusedError("The .yaml file is larger than this site imports.")
        return from_export(_text(data, filename))
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ImportRefusedError("Send a .zip of the app's repository or an app's .yaml export.")
    files = _unzip(data, max_unpacked)
    return from_files(files)


def _text(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ImportRefusedError(f"{name} is not UTF-8 text.") from None


def _unzip(data: bytes, max_unpacked: int) -> dict[str, bytes]:
    """Every regular file in the zip, by its path, after checking each entry is safe."""
    files: dict[str, bytes] = {}
    total = 0
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        entries = archive.infolist()
        if len(entries) > MAX_ENTRIES:
            raise ImportRefusedError(
                f"The zip has {len(entries):,} entries; at most {MAX_ENTRIES:,}."
            )
        for entry in entries:
            name = entry.filename
            mode = entry.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise ImportRefusedError(
                    f"The zip holds a symbolic link ({name}); links aren't accepted."
                )
            parts = name.replace("\\", "/").split("/")
            if name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
                raise ImportRefusedError(f"The zip holds a path outside the app ({name}).")
            if entry.is_dir():
                continue
            if total + entry.file_size > max_unpacked:
                raise _too_big(max_unpacked)
            with archive.open(entry) as stream:
                # Read no more than the budget allows, whatever the header claims.
                content = stream.read(max_unpacked - total + 1)
            total += len(content)
            if total > max_unpacked:
                raise _too_big(max_unpacked)
            files[posixpath.normpath(name.replace("\\", "/"))] = content
    return files


def _too_big(limit: int) -> ImportRefusedError:
    return ImportRefusedError(
        f"The zip unpacks to more than {limit // (1024 * 1024)} MB; this site imports less."
    )


def from_files(files: dict[str, bytes]) -> AnvilApp:
    """The app in a repository's files (anvil.yaml at the top, or in one folder the zip has)."""
    roots = sorted(
        (p for p in files if posixpath.basename(p) == "anvil.yaml"), key=lambda p: p.count("/")
    )
    if not roots:
        raise ImportRefusedError("No anvil.yaml in the zip: is it an Anvil app's repository?")
    base = posixpath.dirname(roots[0])
    prefix = base + "/" if base else ""
    spec = load_yaml(_text(files[roots[0]], "anvil.yaml"))
    if not isinstance(spec, dict):
        raise ImportRefusedError("anvil.yaml does not describe an app.")
    app = _from_spec(spec)
    for path in sorted(files):
        if not path.startswith(prefix):
            continue
        local = path[len(prefix) :]
        if local.startswith("server_code/"):
            _add_server_file(app, local[len("server_code/") :], files[path])
        elif local.startswith("client_code/"):
            _note_client_file(app, local[len("client_code/") :])
    _check_modules(app)
    return app


def from_export(text: str) -> AnvilApp:
    """The app in Anvil's single-file export (server_modules, forms and modules inline)."""
    spec = load_yaml(text)
    if not isinstance(spec, dict):
        raise ImportRefusedError("The .yaml file does not describe an app.")
    app = _from_spec(spec)
    for module in _list(spec.get("server_modules")):
        if isinstance(module, dict) and isinstance(module.get("name"), str):
            app.modules.append((module["name"], str(module.get("code") or "")))
    app.forms = [str(f.get("class_name")) for f in _list(spec.get("forms")) if isinstance(f, dict)]
    app.client_modules = [
        str(m.get("name")) for m in _list(spec.get("modules")) if isinstance(m, dict)
    ]
    _check_modules(app)
    return app


def _add_server_file(app: AnvilApp, local: str, content: bytes) -> None:
    """A file under server_code/: `Utils.py` is module Utils, `billing/__init__.py` module
    billing and `billing/plans.py` module billing.plans (packages keep dotted names)."""
    if not local.endswith(".py"):
        app.skipped.append(f"server_code/{local} (not a Python module)")
        return
    parts = local[: -len(".py")].split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
        if not parts:
            return  # server_code/__init__.py: the package itself, empty in Anvil's layout
    name = ".".join(parts)
    if module_name_problem(name):
        app.skipped.append(f"server_code/{local} (not a Python module name)")
        return
    app.modules.append((name, _text(content, f"server_code/{local}").replace("\r\n", "\n")))


def _note_client_file(app: AnvilApp, local: str) -> None:
    parts = local.split("/")
    if parts[-1] in ("form_template.yaml", "_template.py"):
        form = ".".join(parts[:-1])
        if form and form not in app.forms:
            app.forms.append(form)
    elif len(parts) == 1 and local.endswith(".py"):
        app.client_modules.append(local[: -len(".py")])


def _check_modules(app: AnvilApp) -> None:
    names = [name for name, _code in app.modules]
    if len(set(names)) != len(names):
        raise ImportRefusedError("The app names a server module twice.")


# --- anvil.yaml --------------------------------------------------------------------------


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _from_spec(spec: dict) -> AnvilApp:
    name = str(spec.get("name") or spec.get("package_name") or "Imported Anvil app")[:100]
    app = AnvilApp(name=name.strip() or "Imported Anvil app")
    app.package_name = str(spec.get("package_name") or "")
    app.tables = _tables(spec.get("db_schema"))
    app.secrets = _secrets(spec.get("secrets"))
    app.schedules = _schedules(spec.get("scheduled_tasks"), app)
    for service in _list(spec.get("services")):
        if isinstance(service, dict) and isinstance(service.get("source"), str):
            app.services.append(service["source"].rsplit("/", 1)[-1].removesuffix(".yml"))
    return app


def _tables(schema) -> list[Table]:
    """db_schema in either of Anvil's layouts: a list of tables whose columns are a dict keyed
    by column id (older apps), or a dict by table name whose columns are a list (newer)."""
    raw: list[tuple[str, object, object]] = []  # (name, id, columns)
    if isinstance(schema, dict):
        for name, table in schema.items():
            if isinstance(table, dict):
                raw.append((str(name), table.get("id"), table.get("columns")))
    else:
        for table in _list(schema):
            if isinstance(table, dict):
                name = table.get("python_name") or table.get("name")
                raw.append((str(name), table.get("id"), table.get("columns")))
    if len(raw) > MAX_TABLES:
        raise ImportRefusedError(f"The schema names {len(raw):,} tables; at most {MAX_TABLES}.")
    by_id = {str(table_id): name for name, table_id, _columns in raw if table_id is not None}
    tables, count = [], 0
    for name, _id, columns in raw:
        listed = list(columns.values()) if isinstance(columns, dict) else _list(columns)
        count += len(listed)
        if count > MAX_COLUMNS:
            raise ImportRefusedError(
                f"The schema names more than {MAX_COLUMNS:,} columns; this site imports fewer."
            )
        table = Table(name=name)
        for column in listed:
            if not isinstance(column, dict) or not column.get("name"):
                continue
            target = column.get("target") or (
                column.get("table_id") and by_id.get(str(column.get("table_id")))
            )
            table.columns.append(
                Column(
                    name=str(column["name"]), type=str(column.get("type")), target=target or None
                )
            )
        tables.append(table)
    return tables


def _secrets(secrets) -> list[tuple[str, str]]:
    if not isinstance(secrets, dict):
        return []
    if len(secrets) > MAX_SECRETS:
        raise ImportRefusedError(f"The app names {len(secrets):,} secrets; at most {MAX_SECRETS}.")
    found = []
    for name, spec in secrets.items():
        kind = spec.get("type") if isinstance(spec, dict) else None
        found.append((str(name), "key" if kind == "key" else "secret"))
    return found


def _schedules(tasks, app: AnvilApp) -> list[ScheduledTask]:
    """scheduled_tasks: `time_spec: {every: minute|hour|day|week|month, n, at: {minute, hour,
    day}}`. Monthly tasks have no py.space equivalent: listed as skipped."""
    tasks = _list(tasks)
    if len(tasks) > MAX_SCHEDULES:
        raise ImportRefusedError(
            f"The app has {len(tasks)} scheduled tasks; at most {MAX_SCHEDULES}."
        )
    found = []
    for task in tasks:
        if not isinstance(task, dict) or not isinstance(task.get("task_name"), str):
            continue
        spec = _dict(task.get("time_spec"))
        at = _dict(spec.get("at"))
        every = str(spec.get("every"))
        if every not in SCHEDULE_EVERY:
            app.skipped.append(f"scheduled task {task['task_name']} (every {every})")
            continue
        try:
            found.append(
                ScheduledTask(
                    task_name=task["task_name"],
                    every=every,
                    n=max(1, int(spec.get("n") or 1)),
                    at_hour=int(at.get("hour") or 0) % 24,
                    at_minute=int(at.get("minute") or 0) % 60,
                    weekday=int(at.get("day") or 0) % 7,
                )
            )
        except (TypeError, ValueError):
            app.skipped.append(f"scheduled task {task['task_name']} (timing not understood)")
    return found


def column_type(anvil_type: str) -> str | None:
    """py.space's type for an Anvil column type, or None when py.space lacks it."""
    ours = ANVIL_COLUMN_TYPES.get(anvil_type)
    return ours if ours in COLUMN_TYPES else None


def secret_name_ok(name: str) -> bool:
    return bool(SECRET_NAME_RE.fullmatch(name))
