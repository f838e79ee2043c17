"""Data panel views (owner only; everyone else gets 404 on every route).

As with the Secrets panel, every view renders the same partials for htmx and for a browser
without JavaScript: htmx swaps the panel (`#tables-panel`), a cell or a row; a plain browser
gets the page (`tables/page.html`, `tables/rows_page.html`) in the state it asked for.
Errors come back as the same partial with a 422 and the message next to the field.
"""

import re
from collections.abc import Callable
from urllib.parse import quote

from flask import (
    Response,
    abort,
    g,
    jsonify,
    make_response,
    render_template,
    request,
    stream_with_context,
    url_for,
)

from ..forms import EmptyForm
from ..htmx import is_htmx, redirect_to, respond, toast, trigger
from ..models import DataColumn, DataTable, Widget
from ..security_headers import no_store
from . import bp, csv_io, imports, schema, zip_io
from .columns import (
    RowRef,
    column_choices,
    format_text,
    json_value,
    media_value,
    parse_text,
    type_label,
)
from .forms import (
    CellForm,
    ClientAccessForm,
    ColumnForm,
    CsvImportForm,
    LinkPickForm,
    MediaUploadForm,
    NameForm,
    SwitchForm,
    ZipImportForm,
    row_values_from,
)
from .queries import QueryError, count_rows, newest_row_ids, panel_filter, row_values
from .rows import (
    RowChangeError,
    add_row,
    delete_rows,
    media_bytes,
    media_max_bytes,
    row_of,
    update_row,
)

PAGE_SIZE = 50
EDITED_ID_RE = re.compile(r"[0-9]{1,18}")


# Table names and rows are the owner's alone.
bp.after_request(no_store)


def _owned_table_or_404(table_id: int) -> tuple[Widget, DataTable]:
    """The owned widget (`g.widget`, loaded by the blueprint) and its table `table_id`, or 404."""
    widget = g.widget
    table = schema.table_of(widget.id, table_id)
    if table is None:
        abort(404)
    return widget, table


def _owned_column_or_404(table_id: int, column_id: int) -> tuple[Widget, DataTable, DataColumn]:
    widget, table = _owned_table_or_404(table_id)
    column = schema.column_of(table, column_id)
    if column is None:
        abort(404)
    return widget, table, column


def _owned_row_or_404(table_id: int, row_id: int) -> tuple[Widget, DataTable, int]:
    widget, table = _owned_table_or_404(table_id)
    if row_of(table, row_id) is None:
        abort(404)
    return widget, table, row_id


# --- The list of tables ----------------------------------------------------------------------


def _panel(
    widget: Widget,
    status: int = 200,
    error: str | None = None,
    error_for: str | None = None,
    events: dict | None = None,
) -> Response:
    """The panel (every table, its columns and row count): a fragment for htmx, else the page."""
    tables = schema.tables_of(widget.id)
    context = {
        "widget": widget,
        "tables": tables,
        "type_labels": {c.id: type_label(c) for table in tables for c in table.columns},
        "error": error,
        "error_for": error_for,
        "typed": _typed_back(error),
    }
    return respond("tables/_panel.html", "tables/page.html", context, status, events)


@bp.get("")
def panel():
    """The Data panel: the widget's tables with their columns and row counts."""
    return _panel(g.widget)


def _switch(
    change: Callable[[Widget, bool], None],
    said: Callable[[bool], str],
):
    """Set one of the widget's Data panel switches from SwitchForm (`on=1` or not): the panel
    again, with a toast saying `said(on)`."""
    widget = g.widget
    on = SwitchForm().on.data == "1"
    change(widget, on)
    if not is_htmx():
        return redirect_to(url_for("tables.panel", widget_id=widget.id))
    return _panel(widget, events=toast(said(on)))


def _on_off(on: bool) -> str:
    return "on" if on else "off"


@bp.post("/auto-columns")
def auto_columns():
    """Switch Anvil's "Add columns automatically when adding a new row" on (`on=1`) or off."""
    return _switch(
        schema.set_auto_columns,
        lambda on: f"Adding columns automatically is {_on_off(on)}.",
    )


@bp.post("/users-signup")
def users_signup():
    """Switch "widget code may sign people up" (anvil.users.signup_with_email) on or off."""
    return _switch(
        schema.set_users_signup,
        lambda on: f"Signing up from the widget is {_on_off(on)}.",
    )


@bp.post("/users-confirmed")
def users_confirmed():
    """Switch "require e-mail confirmation" (log-ins need a confirmed address) on or off."""
    return _switch(
        schema.set_users_require_confirmed,
        lambda on: f"Requiring a confirmed e-mail address is {_on_off(on)}.",
    )


@bp.post("/users-anonymous-calls")
def users_anonymous_calls():
    """Switch "visitors who never logged in may call functions" on or off."""
    return _switch(
        schema.set_users_anonymous_calls,
        lambda on: f"Visitors who never logged in {'may' if on else 'may not'} call functions.",
    )


@bp.post("")
def create():
    """Create a table (`name`); a bad or taken name comes back next to the field."""
    widget = g.widget
    form = NameForm()
    try:
        table = schema.create_table(widget, form.name.data or "")
    except schema.TableChangeError as error:
        return _panel(widget, 422, str(error), "create")
    if not is_htmx():
        return redirect_to(url_for("tables.rows", widget_id=widget.id, table_id=table.id))
    return _rows_view(widget, table, events=toast(f"Created the table {table.name}."))


@bp.post("/<int:table_id>/rename")
def rename(table_id: int):
    """Rename a table (code that uses the old name stops finding it)."""
    widget, table = _owned_table_or_404(table_id)
    try:
        schema.rename_table(table, NameForm().name.data or "")
    except schema.TableChangeError as error:
        return _rows_view(widget, table, 422, error=str(error), error_for="rename")
    if not is_htmx():
        return redirect_to(url_for("tables.rows", widget_id=widget.id, table_id=table.id))
    return _rows_view(widget, table, events=toast(f"Renamed the table to {table.name}."))


@bp.post("/<int:table_id>/client-access")
def client_access(table_id: int):
    """What client code may do with the table (`access`: none, search, edit)."""
    widget, table = _owned_table_or_404(table_id)
    try:
        schema.set_client_access(table, ClientAccessForm().access.data or "")
    except schema.TableChangeError as error:
        return _rows_view(widget, table, 422, error=str(error), error_for="rename")
    if not is_htmx():
        return redirect_to(url_for("tables.rows", widget_id=widget.id, table_id=table.id))
    return _rows_view(widget, table, events=toast("Saved who may use the table."))


@bp.post("/<int:table_id>/delete")
def delete(table_id: int):
    """Delete a table with its columns and rows."""
    widget, table = _owned_table_or_404(table_id)
    EmptyForm()
    name = table.name
    schema.delete_table(table)
    if not is_htmx():
        return redirect_to(url_for("tables.panel", widget_id=widget.id))
    return _panel(widget, events=toast(f"Deleted the table {name}."))


# --- One table: columns and rows -------------------------------------------------------------


def _page_number() -> int:
    page = request.args.get("page", 1, type=int)
    return max(page or 1, 1)


def _rows_context(widget: Widget, table: DataTable, page: int) -> dict:
    query = request.args.get("q", "").strip()[:200]
    try:
        where = panel_filter(table, query) if query else []
        query_error = None
    except QueryError as error:
        where, query_error = None, str(error)
    total = count_rows(table, where) if where is not None else 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(page, pages)
    ids = (
        newest_row_ids(table, (page - 1) * PAGE_SIZE, PAGE_SIZE, where) if where is not None else []
    )
    values = row_values(table.columns, ids)
    return {
        "widget": widget,
        "table": table,
        "shown": _shown(_link_labels(list(table.columns), values)),
        "columns": list(table.columns),
        "rows": [(row_id, values[row_id]) for row_id in ids],
        "total": total,
        "page_number": page,
        "pages": pages,
        "format_text": format_text,
        "column_types": column_choices(schema.tables_of(widget.id)),
        "query": query,
        "query_error": query_error,
        "type_labels": {column.id: type_label(column) for column in table.columns},
    }


def _rows_view(
    widget: Widget,
    table: DataTable,
    status: int = 200,
    error: str | None = None,
    error_for: str | None = None,
    events: dict | None = None,
    **extra,
) -> Response:
    """A table's columns and one page of rows (newest first): fragment for htmx, else page."""
    context = _rows_context(widget, table, _page_number())
    context.update(error=error, error_for=error_for, edit=None, csv_plan=None, csv_text="")
    context.update(zip_plan=None, zip_upload="")
    context["typed"] = _typed_back(error)
    context.update(extra)
    return respond("tables/_rows.html", "tables/rows_page.html", context, status, events)


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


@bp.get("/<int:table_id>/rows")
def rows(table_id: int):
    """A table's rows, 50 a page, newest first; with `Accept: application/json`,
    `{"columns": [{"name", "type"}], "rows": [{"id", …values}], "total": N}`."""
    widget, table = _owned_table_or_404(table_id)
    if not _wants_json():
        edit = request.args.get("edit", "")
        row_id, _, column_id = edit.partition("-")
        # ASCII digits of a database id only: int('²') fails, as do 5,000 digits.
        editing = (
            (int(row_id), int(column_id))
            if EDITED_ID_RE.fullmatch(row_id) and EDITED_ID_RE.fullmatch(column_id)
            else None
        )
        return _rows_view(widget, table, edit=editing)
    context = _rows_context(widget, table, _page_number())
    columns = context["columns"]
    answer = {
        "columns": [{"name": column.name, "type": column.type} for column in columns],
        "rows": [
            {
                "id": str(row_id),
                **{c.name: json_value(c.type, values[c.name]) for c in columns},
            }
            for row_id, values in context["rows"]
        ],
        "total": context["total"],
        "page": context["page_number"],
        "pages": context["pages"],
    }
    return jsonify(answer)


@bp.post("/<int:table_id>/columns")
def add_column(table_id: int):
    """Add a column (`name`, `type`); existing rows have no value in it."""
    widget, table = _owned_table_or_404(table_id)
    form = ColumnForm()
    # A link column's type comes as "link_single:<table id>" (one choice per target table).
    type_, _, target = (form.type.data or "").partition(":")
    link_table = schema.table_of(widget.id, int(target)) if target.isdigit() else None
    try:
        column = schema.add_column(table, form.name.data or "", type_, link_table)
    except schema.TableChangeError as error:
        return _rows_view(widget, table, 422, error=str(error), error_for="add-column")
    if not is_htmx():
        return redirect_to(url_for("tables.rows", widget_id=widget.id, table_id=table.id))
    return _rows_view(widget, table, events=toast(f"Added the column {column.name}."))


@bp.post("/<int:table_id>/columns/<int:column_id>/rename")
def rename_column(table_id: int, column_id: int):
    widget, table, column = _owned_column_or_404(table_id, column_id)
    try:
        schema.rename_column(table, column, NameForm().name.data or "")
    except schema.TableChangeError as error:
        return _rows_view(widget, table, 422, error=str(error), error_for=f"column-{column.id}")
    if not is_htmx():
        return redirect_to(url_for("tables.rows", widget_id=widget.id, table_id=table.id))
    return _rows_view(widget, table, events=toast(f"Renamed the column to {column.name}."))


@bp.post("/<int:table_id>/columns/<int:column_id>/delete")
def delete_column(table_id: int, column_id: int):
    """Delete a column and every value in it."""
    widget, table, column = _owned_column_or_404(table_id, column_id)
    EmptyForm()
    name = column.name
    try:
        schema.delete_column(table, column)
    except schema.TableChangeError as error:
        return _rows_view(widget, table, 422, error=str(error), error_for=f"column-{column.id}")
    if not is_htmx():
        return redirect_to(url_for("tables.rows", widget_id=widget.id, table_id=table.id))
    return _rows_view(widget, table, events=toast(f"Deleted the column {name}."))


def _typed(table: DataTable, texts: dict[str, str]) -> dict:
    columns = {column.name: column for column in table.columns}
    values = {}
    for name, text in texts.items():
        try:
            values[name] = parse_text(columns[name].type, text)
        except ValueError as error:
            raise RowChangeError(f"{name}: {error}") from None
    return values


@bp.post("/<int:table_id>/rows")
def add(table_id: int):
    """Add a row from the Add row form (one field per column; empty is no value)."""
    widget, table = _owned_table_or_404(table_id)
    EmptyForm()
    try:
        add_row(table, _typed(table, row_values_from(request.form, table.columns)))
    except RowChangeError as error:
        return _rows_view(widget, table, 422, error=str(error), error_for="add-row")
    if not is_htmx():
        return redirect_to(url_for("tables.rows", widget_id=widget.id, table_id=table.id))
    return _rows_view(widget, table, events=toast("Added a row."))


def _typed_back(error: str | None) -> dict:
    """What the person typed, to show again next to an error (nothing is silently dropped).

    The Data panel's forms have one field per column, named at run time, so their text is
    read from the submitted fields here rather than through fixed form classes."""
    return request.form.to_dict() if error and request.method == "POST" else {}


def _cell(widget, table, column, row_id, status=200, editing=False, error=None, text=None):
    """One cell (display or edit form) for htmx; the rows page in that state otherwise."""
    if not is_htmx():
        return _rows_view(
            widget,
            table,
            status,
            error=error,
            error_for=f"cell-{row_id}-{column.id}",
            edit=(row_id, column.id) if editing else None,
        )
    values = row_values([column], [row_id])
    value = values[row_id][column.name]
    if text is None:
        # Shown, the cell names its linked rows; as a form, it holds their ids to type over.
        shown = format_text if editing else _shown(_link_labels([column], values))
        text = shown(column.type, value)
    context = {
        "widget": widget,
        "table": table,
        "column": column,
        "row_id": row_id,
        "value": value,
        "text": text,
        "error": error,
        "format_text": format_text,
    }
    template = "tables/_cell_edit.html" if editing else "tables/_cell.html"
    return make_response(render_template(template, **context), status)


@bp.get("/<int:table_id>/rows/<int:row_id>/cells/<int:column_id>/edit")
def edit_cell(table_id: int, row_id: int, column_id: int):
    """A cell as a form (Save, Cancel)."""
    widget, table, column = _owned_column_or_404(table_id, column_id)
    _owned_row_or_404(table_id, row_id)
    return _cell(widget, table, column, row_id, editing=True)


@bp.get("/<int:table_id>/rows/<int:row_id>/cells/<int:column_id>")
def cell(table_id: int, row_id: int, column_id: int):
    """A cell's display (what Cancel goes back to)."""
    widget, table, column = _owned_column_or_404(table_id, column_id)
    _owned_row_or_404(table_id, row_id)
    return _cell(widget, table, column, row_id)


@bp.post("/<int:table_id>/rows/<int:row_id>/cells/<int:column_id>")
def save_cell(table_id: int, row_id: int, column_id: int):
    """Save a cell; a value that doesn't fit the column comes back next to it."""
    widget, table, column = _owned_column_or_404(table_id, column_id)
    _owned_row_or_404(table_id, row_id)
    text = CellForm().value.data or ""
    try:
        update_row(table, row_id, _typed(table, {column.name: text}))
    except RowChangeError as error:
        return _cell(widget, table, column, row_id, 422, editing=True, error=str(error), text=text)
    if not is_htmx():
        return redirect_to(url_for("tables.rows", widget_id=widget.id, table_id=table.id))
    return _cell(widget, table, column, row_id)


# Rows the link picker lists at a time.
PICKER_ROWS = 20


def _link_column_or_404(table_id: int, row_id: int, column_id: int):
    widget, table, column = _owned_column_or_404(table_id, column_id)
    _owned_row_or_404(table_id, row_id)
    if column.type not in ("link_single", "link_multiple") or column.link_table is None:
        abort(404)
    return widget, table, column


def _row_label(columns: list, values: dict) -> str:
    """A row as the picker names it: its first few plain values."""
    shown = [
        format_text(column.type, values[column.name])
        for column in columns
        if column.type not in ("link_single", "link_multiple", "media")
    ]
    return ", ".join(text[:40] for text in shown if text)[:120]


def _link_labels(columns: list[DataColumn], values: dict[int, dict]) -> dict[int, str]:
    """{row id: label} of every row the link cells in `values` point at (one query per linked
    table), so a link shows as "#2 Ann" rather than a bare id."""
    wanted: dict[int, tuple[DataTable, set[int]]] = {}
    for column in columns:
        if column.type not in ("link_single", "link_multiple") or column.link_table is None:
            continue
        target = column.link_table
        ids = wanted.setdefault(target.id, (target, set()))[1]
        for row in values.values():
            value = row.get(column.name)
            refs = [value] if isinstance(value, RowRef) else list(value or [])
            ids.update(ref.id for ref in refs)
    labels: dict[int, str] = {}
    for target, ids in wanted.values():
        target_columns = list(target.columns)
        found = row_values(target_columns, sorted(ids))
        labels.update({row: _row_label(target_columns, found[row]) for row in found})
    return labels


def _shown(labels: dict[int, str]):
    """format_text for display: link cells name their rows ("#2 Ann, #5 Bo")."""

    def shown(type_: str, value) -> str:
        if type_ in ("link_single", "link_multiple") and value is not None:
            refs = [value] if isinstance(value, RowRef) else list(value)
            return ", ".join(
                f"#{ref.id} {labels[ref.id]}" if labels.get(ref.id) else f"#{ref.id}"
                for ref in refs
            )
        return format_text(type_, value)

    return shown


@bp.get("/<int:table_id>/rows/<int:row_id>/cells/<int:column_id>/pick")
def pick_links(table_id: int, row_id: int, column_id: int):
    """The link picker of a link cell: the rows it links to (ticked), then up to 20 rows of
    the linked table matching the search box (`q`, as the Data panel's query box reads it)."""
    widget, table, column = _link_column_or_404(table_id, row_id, column_id)
    target = column.link_table
    assert target is not None
    current = row_values([column], [row_id])[row_id][column.name]
    chosen = [current] if isinstance(current, RowRef) else list(current or [])
    query = request.args.get("q", "").strip()[:200]
    try:
        where = panel_filter(target, query) if query else []
        query_error = None
    except QueryError as error:
        where, query_error = [], str(error)
    found = newest_row_ids(target, 0, PICKER_ROWS, where)
    chosen_ids = [ref.id for ref in chosen]
    ids = chosen_ids + [row for row in found if row not in chosen_ids]
    values = row_values(list(target.columns), ids)
    context = {
        "widget": widget,
        "table": table,
        "column": column,
        "target": target,
        "row_id": row_id,
        "query": query,
        "query_error": query_error,
        "choices": [
            (row, _row_label(list(target.columns), values[row]), row in chosen_ids)
            for row in ids
            if row in values
        ],
        "multiple": column.type == "link_multiple",
    }
    return respond("tables/_link_picker.html", None, context)


@bp.post("/<int:table_id>/rows/<int:row_id>/cells/<int:column_id>/links")
def save_links(table_id: int, row_id: int, column_id: int):
    """Save the rows picked for a link cell (none: no value)."""
    widget, table, column = _link_column_or_404(table_id, row_id, column_id)
    picked = [text for text in (LinkPickForm().target.data or []) if EDITED_ID_RE.fullmatch(text)]
    refs = [RowRef(None, int(text)) for text in dict.fromkeys(picked)]
    value: RowRef | list[RowRef] | None = refs or None
    if column.type == "link_single" and refs:
        if len(refs) > 1:
            return _cell(widget, table, column, row_id, 422, editing=True, error="Pick one row.")
        value = refs[0]
    try:
        update_row(table, row_id, {column.name: value})
    except RowChangeError as error:
        return _cell(widget, table, column, row_id, 422, editing=True, error=str(error))
    if not is_htmx():
        return redirect_to(url_for("tables.rows", widget_id=widget.id, table_id=table.id))
    return _cell(widget, table, column, row_id)


def _media_column_or_404(table_id: int, row_id: int, column_id: int):
    widget, table, column = _owned_column_or_404(table_id, column_id)
    _owned_row_or_404(table_id, row_id)
    if column.type != "media":
        abort(404)
    return widget, table, column


@bp.post("/<int:table_id>/rows/<int:row_id>/cells/<int:column_id>/upload")
def upload_media(table_id: int, row_id: int, column_id: int):
    """Put an uploaded file into a media cell (its name and content type as the browser gave
    them); a file too big or missing comes back next to the cell."""
    widget, table, column = _media_column_or_404(table_id, row_id, column_id)
    upload = MediaUploadForm().file.data
    error = None
    if upload is None or not upload.filename:
        error = "Choose a file to upload."
    else:
        most = media_max_bytes()
        data = upload.read(most + 1)
        if len(data) > most:
            error = f"A media value can be at most {most:,} bytes."
        else:
            media = media_value(upload.mimetype, upload.filename, data)
            try:
                update_row(table, row_id, {column.name: media})
            except RowChangeError as refused:
                error = str(refused)
    if error:
        return _cell(widget, table, column, row_id, 422, editing=True, error=error, text="")
    if not is_htmx():
        return redirect_to(url_for("tables.rows", widget_id=widget.id, table_id=table.id))
    return _cell(widget, table, column, row_id)


@bp.get("/<int:table_id>/rows/<int:row_id>/cells/<int:column_id>/download")
def download_media(table_id: int, row_id: int, column_id: int):
    """A media cell's bytes as a download: always an attachment, never sniffed, so an
    uploaded HTML or SVG file can't run on the site's origin."""
    _, table, column = _media_column_or_404(table_id, row_id, column_id)
    data = media_bytes(table, row_id, column)
    if data is None:
        abort(404)
    meta = row_values([column], [row_id])[row_id][column.name]
    response = Response(data, mimetype="application/octet-stream")
    response.headers["Content-Disposition"] = _attachment(meta.name or f"{column.name}-{row_id}")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _attachment(name: str) -> str:
    """A Content-Disposition header for downloading `name`: an ASCII fallback and the exact
    name (RFC 6266's filename*), quotes and control characters kept out."""
    ascii_name = re.sub(r"[^A-Za-z0-9._ -]", "_", name)[:100] or "download"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name[:200], safe='')}"


@bp.post("/<int:table_id>/rows/<int:row_id>/delete")
def delete_row(table_id: int, row_id: int):
    """Delete a row; htmx removes it from the page (an empty 200)."""
    widget, table, row_id = _owned_row_or_404(table_id, row_id)
    EmptyForm()
    delete_rows(table, [row_id])
    if not is_htmx():
        return redirect_to(url_for("tables.rows", widget_id=widget.id, table_id=table.id))
    return trigger(make_response(""), **toast("Deleted a row."))


# --- CSV -------------------------------------------------------------------------------------


@bp.get("/<int:table_id>/export.csv")
def export_csv(table_id: int):
    """The whole table as CSV (oldest row first), streamed."""
    _, table = _owned_table_or_404(table_id)
    response = Response(stream_with_context(csv_io.export_lines(table)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{table.name}.csv"'
    return response


@bp.get("/<int:table_id>/export.zip")
def export_zip(table_id: int):
    """The whole table as a zip, streamed: its CSV with every column, and each media value
    as a file (the CSV's media cells name them)."""
    _, table = _owned_table_or_404(table_id)
    response = Response(stream_with_context(csv_io.export_zip(table)), mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{table.name}.zip"'
    return response


@bp.post("/<int:table_id>/import")
def import_csv(table_id: int):
    """Preview (`step=preview`) or apply a CSV import: one bad row and nothing is imported."""
    widget, table = _owned_table_or_404(table_id)
    form = CsvImportForm()
    text = form.csv.data or ""
    upload = request.files.get("csv_file")
    if upload and upload.filename:
        try:
            text = upload.read().decode("utf-8")
        except UnicodeDecodeError:
            return _rows_view(
                widget,
                table,
                422,
                error=f"{upload.filename} is not UTF-8 text: save it as UTF-8 and try again.",
                error_for="import",
            )
    plan = csv_io.plan_import(table, text)
    if plan.errors:
        return _rows_view(
            widget,
            table,
            422,
            error="Nothing was imported: fix the rows below and preview again.",
            error_for="import",
            csv_plan=plan,
            csv_text=text,
        )
    if form.step.data != "apply":
        return _rows_view(widget, table, csv_plan=plan, csv_text=text)
    try:
        added = csv_io.apply_import(table, plan)
    except RowChangeError as error:
        # Refused (the quota), stopped part-way, or another import into this widget still runs:
        # the message says which, next to the form (a 422, which htmx swaps in).
        return _rows_view(
            widget, table, 422, error=str(error), error_for="import", csv_plan=plan, csv_text=text
        )
    if not is_htmx():
        return redirect_to(url_for("tables.rows", widget_id=widget.id, table_id=table.id))
    return _rows_view(widget, table, events=toast(f"Imported {added} row(s)."))


@bp.post("/<int:table_id>/import.zip")
def import_zip(table_id: int):
    """Preview an uploaded zip export (kept server-side under a random token), then apply it
    (`step=apply` with that token): a hostile zip or one bad row and nothing is imported."""
    widget, table = _owned_table_or_404(table_id)
    form = ZipImportForm()
    applying = form.step.data == "apply"
    token, path, refusal = _zip_upload(form, table, applying)
    plan = None
    if path is not None:
        try:
            plan = zip_io.plan_zip(table, path)
        except zip_io.ZipRefusedError as refused:
            refusal = f"Nothing was imported: {refused}"
    if plan is None or plan.errors:
        zip_io.forget_upload(table, token)
        if plan is not None:
            refusal = "Nothing was imported: fix the rows below and upload the zip again."
        return _rows_view(widget, table, 422, error=refusal, error_for="import_zip", zip_plan=plan)
    if not applying:
        return _rows_view(widget, table, zip_plan=plan, zip_upload=token)
    try:
        added = csv_io.apply_import(table, plan)
    except RowChangeError as error:
        # The quota, or another import still running: the kept zip stays for another try.
        return _rows_view(
            widget,
            table,
            422,
            error=str(error),
            error_for="import_zip",
            zip_plan=plan,
            zip_upload=token,
        )
    zip_io.forget_upload(table, token)
    if not is_htmx():
        return redirect_to(url_for("tables.rows", widget_id=widget.id, table_id=table.id))
    return _rows_view(widget, table, events=toast(f"Imported {added} row(s)."))


def _zip_upload(form: ZipImportForm, table: DataTable, applying: bool):
    """(token, path of the kept zip, None), or ("", None, why there is none): at preview the
    uploaded file is kept now; at apply the token names the zip kept at preview."""
    if applying:
        token = form.upload.data or ""
        path = zip_io.kept_upload(table, token)
        if path is None:
            return (
                "",
                None,
                "That upload is no longer kept (an hour at most): upload the zip again.",
            )
        return token, path, None
    upload = form.zip_file.data
    if upload is None or not upload.filename:
        return "", None, "Choose a zip file (a Download <table>.zip) to import."
    token = zip_io.keep_upload(table, upload.stream)
    return token, zip_io.kept_upload(table, token), None


@bp.get("/<int:table_id>/import/status")
def import_status(table_id: int):
    """How far the import running into this table has got: a small fragment the import form
    polls while its request is in flight (empty when no import runs)."""
    _, table = _owned_table_or_404(table_id)
    running = imports.running_import(table)
    context = {
        "rows_done": running.rows_done if running else None,
        "rows_total": running.rows_total if running else None,
        "status_url": request.path,
    }
    return respond("tables/_import_status.html", None, context)
