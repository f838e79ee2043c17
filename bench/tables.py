"""Data-table benchmarks: `add_row` called many times from one run, and the weather logger's
`search(order_by('when', ascending=False))[:48]` on a big table against a bare SQLAlchemy
query of a plain typed table holding the same data."""

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import Column, DateTime, Float, Integer, MetaData, Table, Text, insert, select

from pyspace.extensions import db
from pyspace.models import DataCell, DataRow, Widget
from pyspace.sandbox import runner_for
from pyspace.sandbox.services import RunContext
from pyspace.tables import schema
from pyspace.tables.channel import SERVICES

from .measure import Report, time_interleaved
from .sample_data import make_user

ADD_ROW_LOOP = """import json, time
from datetime import datetime, timezone
from anvil.tables import app_tables

readings = app_tables.readings
timings = []
for number in range({calls}):
    started = time.perf_counter_ns()
    readings.add_row(when=datetime.now(timezone.utc), city="Oslo", temp=number / 10,
                     description="light rain")
    timings.append((time.perf_counter_ns() - started) / 1e6)
print(json.dumps(timings))
"""
COLUMNS = (("when", "datetime"), ("city", "text"), ("temp", "number"), ("description", "text"))
BATCH = 5000
bare_metadata = MetaData()
bare_readings = Table(
    "bench_bare_readings",
    bare_metadata,
    Column("id", Integer, primary_key=True),
    Column("when", DateTime, index=True),
    Column("city", Text),
    Column("temp", Float),
    Column("description", Text),
)


def _widget_with_readings(username: str) -> tuple[str, object]:
    owner = make_user(username)
    widget = Widget(owner_id=owner, title="Weather logger")
    db.session.add(widget)
    db.session.commit()
    table = schema.create_table(widget, "readings")
    for name, type_ in COLUMNS:
        schema.add_column(table, name, type_)
    return widget.id, table


def _bare_inserts(calls: int):
    """One committed insert per row into a plain typed table, as `add_row` commits each row."""
    bare_metadata.create_all(db.engine)
    timings = []
    for number in range(calls):
        started = datetime.now()
        with db.engine.begin() as connection:
            connection.execute(
                insert(bare_readings),
                {
                    "when": datetime.now(UTC).replace(tzinfo=None),
                    "city": "Oslo",
                    "temp": number / 10,
                    "description": "light rain",
                },
            )
        timings.append((datetime.now() - started).total_seconds() * 1000)
    return timings


def bench_add_row(app, report: Report, calls: int) -> None:
    """`add_row` timed call by call inside one run, against a bare committed insert."""
    with app.app_context():
        widget_id, _ = _widget_with_readings("tablewriter")
        result = runner_for(app).run(widget_id, ADD_ROW_LOOP.format(calls=calls), None)
        assert result.ok, result.error
        baseline = "bare SQLAlchemy insert + commit, one row"
        report.add(baseline, _bare_inserts(calls))
        bare_metadata.drop_all(db.engine)
    name = f"add_row, one call ({calls} calls in one run)"
    report.add(name, json.loads(result.stdout), baseline=baseline, calls_in_one_run=calls)


def _fill(table, rows: int, start: datetime) -> None:
    """`rows` readings, an hour apart, in the table and in the bare table (bulk inserts)."""
    columns = {column.name: column.id for column in table.columns}
    bare_metadata.create_all(db.engine)
    for first in range(0, rows, BATCH):
        numbers = range(first, min(first + BATCH, rows))
        ids = db.session.scalars(
            insert(DataRow).returning(DataRow.id, sort_by_parameter_order=True),
            [{"table_id": table.id} for _ in numbers],
        ).all()
        cells, bare = [], []
        for row_id, number in zip(ids, numbers, strict=True):
            when = (start + timedelta(hours=number)).replace(tzinfo=None)
            values = {"when": when, "city": f"city{number % 50}", "temp": (number % 400) / 10}
            values["description"] = "light rain"
            bare.append(values)
            cells += [
                {"row_id": row_id, "column_id": columns["when"], "datetime_value": when},
                {"row_id": row_id, "column_id": columns["city"], "text_value": values["city"]},
                {"row_id": row_id, "column_id": columns["temp"], "number_value": values["temp"]},
                {"row_id": row_id, "column_id": columns["description"], "text_value": "light rain"},
            ]
        db.session.execute(insert(DataCell), cells)
        db.session.execute(insert(bare_readings), bare)
    db.session.commit()


def bench_ordered_search(app, report: Report, rows: int, repeat: int) -> None:
    """The newest 48 of `rows` readings through the channel service, against the same query
    on a plain table with an index on `when` (both in the same database, taking turns)."""
    start = datetime(2020, 1, 1, tzinfo=UTC)
    with app.app_context():
        widget_id, table = _widget_with_readings("tablereader")
        _fill(table, rows, start)
        run = RunContext(widget_id=widget_id, actor_id=None)
        request = {
            "op": "tables_search",
            "table": "readings",
            "order": [{"column": "when", "ascending": False}],
            "offset": 0,
            "limit": 48,
        }
        newest = (start + timedelta(hours=rows - 1)).isoformat()

        def search():
            answer = SERVICES["tables_search"](request, run)
            assert answer["rows"][0]["values"]["when"]["$datetime"] == newest, answer
            db.session.remove()

        def bare():
            with db.engine.connect() as connection:
                found = (
                    connection.execute(
                        select(bare_readings).order_by(bare_readings.c.when.desc()).limit(48)
                    )
                    .mappings()
                    .all()
                )
            assert len(found) == 48

        baseline = f"bare SQLAlchemy: 48 newest of {rows:,} rows"
        name = f"search(order_by('when', ascending=False))[:48], {rows:,} rows"
        samples = time_interleaved({baseline: bare, name: search}, repeat)
        bare_metadata.drop_all(db.engine)
    report.add(baseline, samples[baseline])
    report.add(name, samples[name], baseline=baseline)
    report.check(name, "< 20 ms median", report.median(name) < 20)
