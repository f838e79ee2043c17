"""What one row write costs, and how much of it is the storage budget check:
`python -m bench.row_write_cost [calls]`.

An account with 20 widgets (12 KB of code each) and 4,000 runs of history adds `calls` rows
one `add_row` at a time (the write widget code makes per row, each its own committed
transaction), then checks its storage budget `calls` times on its own. Prints the minimum and
median milliseconds of each, and the SQL statements one `add_row` runs.
"""

import statistics
import sys
import tempfile
import time

from sqlalchemy import event

from pyspace import quotas
from pyspace.extensions import db
from pyspace.models import Run, Widget
from pyspace.tables import schema
from pyspace.tables.rows import add_row

from .sample_data import make_app, make_user, make_widget

WIDGETS = 20
RUNS_PER_WIDGET = 200


def _timed(action, calls: int) -> tuple[float, float]:
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return min(samples), statistics.median(samples)


def main(calls: int) -> None:
    """Measure and print (see the module docstring)."""
    with tempfile.TemporaryDirectory(prefix="pyspace-row-cost-") as workdir:
        app = make_app(workdir)
        with app.app_context():
            owner_id = make_user("writer")
            widget_ids = [
                make_widget(owner_id, 0, title=f"w{n}", code="x = 1\n" * 2000)
                for n in range(WIDGETS)
            ]
            for widget_id in widget_ids:
                db.session.add_all(
                    Run(widget_id=widget_id, kind="run", status="completed", stored_bytes=100)
                    for _ in range(RUNS_PER_WIDGET)
                )
            db.session.commit()
            table = schema.create_table(db.session.get(Widget, widget_ids[0]), "readings")
            schema.add_column(table, "city", "text")
            schema.add_column(table, "temp", "number")
            statements = [0]

            def count(*_):
                statements[0] += 1

            def write():
                add_row(table, {"city": "Oslo", "temp": 3.5})

            _timed(write, 5)  # warm-up
            event.listen(db.engine, "before_cursor_execute", count)
            try:
                row_min, row_median = _timed(write, calls)
                per_row = statements[0] / calls
            finally:
                event.remove(db.engine, "before_cursor_execute", count)
            check_min, check_median = _timed(lambda: quotas.storage_error(owner_id, 10), calls)
    print(
        f"add_row: min {row_min:.2f} ms, median {row_median:.2f} ms, {per_row:.0f} statements; "
        f"storage budget check alone: min {check_min:.2f} ms, median {check_median:.2f} ms"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
