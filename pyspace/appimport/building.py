"""Making a widget from an imported Anvil app (one transaction: all of it, or nothing), and
the report of what came over. Nothing of the app is run."""

from dataclasses import asdict, dataclass, field

from ..extensions import db
from ..models import (
    KEY_KIND,
    LINK_TYPES,
    SECRET_KIND,
    DataColumn,
    DataTable,
    Schedule,
    Secret,
    ServerModule,
    Widget,
    utcnow,
)
from ..quotas import new_widget_error
from ..tasks.schedules import min_minutes
from ..widgets.starter_code import starter_code
from .anvil_app import AnvilApp, ImportRefusedError, column_type

SECRET_NOTE = "Imported from Anvil: set the value here (Anvil's encrypted value can't be read)."
# Anvil's Users service maps onto py.space's own accounts (anvil.users works in widgets).
SERVICES_PROVIDED = {"tables", "users", "secrets", "email"}


@dataclass
class Report:
    """What didn't come over (what did is read back from the widget)."""

    app_name: str
    forms: list[str] = field(default_factory=list)
    client_modules: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    unsupported_columns: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self, cap: int = 40) -> dict:
        # Kept in the session cookie until the report is shown: lists are capped.
        return {k: (v[:cap] if isinstance(v, list) else v) for k, v in asdict(self).items()}


def create_widget(app: AnvilApp, owner_id: int, limits: dict) -> tuple[Widget, Report]:
    """A private GUI widget holding `app`, committed; ImportRefusedError leaves nothing."""
    if not app.modules:
        app.modules = [("ServerModule1", "import anvil.server\n")]
    if len(app.modules) > limits["MODULES_PER_WIDGET"]:
        raise ImportRefusedError(
            f"The app has {len(app.modules)} server modules; a widget here can have at most "
            f"{limits['MODULES_PER_WIDGET']}."
        )
    code_bytes = sum(len(code.encode()) for _name, code in app.modules)
    if code_bytes > limits["MODULES_TOTAL_BYTES"]:
        raise ImportRefusedError(
            f"The server modules hold {code_bytes:,} bytes; a widget here holds at most "
            f"{limits['MODULES_TOTAL_BYTES']:,}."
        )
    page = starter_code("gui")
    if error := new_widget_error(owner_id, code_bytes + len(page["client_code"] + page["html"])):
        raise ImportRefusedError(error)
    report = Report(app_name=app.name, forms=app.forms, client_modules=app.client_modules)
    report.skipped = list(app.skipped)
    report.services = [s for s in app.services if s not in SERVICES_PROVIDED]
    widget = Widget(
        owner_id=owner_id,
        title=app.name,
        description=f"Imported from the Anvil app “{app.name}”.",
        kind="gui",
        visibility="private",
        client_code=page["client_code"],
        html=page["html"],
    )
    widget.modules = [
        ServerModule(name=name, code=code, position=i) for i, (name, code) in enumerate(app.modules)
    ]
    try:
        db.session.add(widget)
        db.session.flush()
        _add_secrets(widget, app, report)
        _add_tables(widget, app, report)
        _add_schedules(widget, app, report)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return widget, report


def _add_secrets(widget: Widget, app: AnvilApp, report: Report) -> None:
    seen = set()
    for name, kind in app.secrets:
        if Secret.name_error(name) or name in seen:
            report.skipped.append(f"secret {name} (not a name py.space accepts, or twice)")
            continue
        seen.add(name)
        db.session.add(
            Secret(
                widget_id=widget.id,
                name=name,
                kind=KEY_KIND if kind == "key" else SECRET_KIND,
                description=SECRET_NOTE,
                required=True,
            )
        )


def _add_tables(widget: Widget, app: AnvilApp, report: Report) -> None:
    seen = set()
    created: dict[str, DataTable] = {}
    links: list[tuple[DataColumn, str, str]] = []  # a link column, its table, its target
    for table in app.tables:
        if DataTable.name_error(table.name) or table.name in seen:
            report.skipped.append(f"table {table.name} (not a name py.space accepts, or twice)")
            continue
        seen.add(table.name)
        row = DataTable(widget_id=widget.id, name=table.name, created_at=utcnow())
        db.session.add(row)
        db.session.flush()
        created[table.name] = row
        names = set()
        for column in table.columns:
            ours = column_type(column.type)
            if ours is None:
                report.unsupported_columns.append(f"{table.name}.{column.name} ({column.type})")
                continue
            if column.name in names or column.name == "id" or _bad_column_name(column.name):
                report.skipped.append(f"column {table.name}.{column.name} (name not accepted)")
                continue
            names.add(column.name)
            added = DataColumn(table_id=row.id, name=column.name, type=ours)
            db.session.add(added)
            if ours in LINK_TYPES:
                links.append((added, table.name, column.target or ""))
    # A link column may name a table declared after its own: resolved once all exist.
    for link, table_name, target in links:
        if target in created:
            link.link_table_id = created[target].id
        else:
            db.session.expunge(link)  # never written: pending in this transaction
            report.skipped.append(
                f"column {table_name}.{link.name} (links to {target or 'no table'}, "
                "which wasn't imported)"
            )


def _add_schedules(widget: Widget, app: AnvilApp, report: Report) -> None:
    shortest = min_minutes()
    for task in app.schedules:
        n = task.n
        minutes = n * {"minute": 1, "hour": 60}.get(task.every, 10_000)
        if minutes < shortest:
            n = -(-shortest // (60 if task.every == "hour" else 1))
            report.notes.append(
                f"Schedule {task.task_name} runs every {n} {task.every}s here "
                f"(every {task.n} in Anvil; this site's shortest is {shortest} minutes)."
            )
        db.session.add(
            Schedule(
                widget_id=widget.id,
                task_name=task.task_name[:100],
                every=task.every,
                n=n,
                at_hour=task.at_hour,
                at_minute=task.at_minute,
                weekday=task.weekday,
                enabled=False,
                next_run_at=None,
            )
        )


def _bad_column_name(name: str) -> bool:
    return DataTable.name_error(name, "column") is not None
