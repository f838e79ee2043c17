"""The benchmark command still works (tiny sizes; the real figures come from `python -m bench`)."""

import json
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
EXPECTED = [
    "flask hello (test client)",
    "secrets panel, 10 secrets",
    "plain Flask rows, 10",
    "public page",
    "editor page",
    "fork of 100 secrets",
    "gunicorn ×2, public page",
    "gunicorn ×2, bare Flask hello",
    "python3 -I -S -c pass in sandbox, cold",
    "run hello world (POST /run, warm pool)",
    "run hello world (POST /run, no pool)",
    "get_secret, one call (many calls in one run)",
    "get_secret, first read of a secret",
    "encrypt_with_key+decrypt_with_key of 1 KiB, per call in a run",
    "bystander GET /, quiet",
    "bystander GET /, during a 4-run flood",
    "bystander hello run, during a 4-run flood",
    "schedule due → run started (SQLite queue, 1 s tick)",
    "task runs, local (one process, in turn)",
    "bare SQLAlchemy insert + commit, one row",
    "add_row, one call (20 calls in one run)",
    "bare SQLAlchemy: 48 newest of 2,000 rows",
    "search(order_by('when', ascending=False))[:48], 2,000 rows",
    "bystander Run press, quiet",
    "bystander Run press during a 2,000-row import",
    "bystander log-in during a 2,000-row import",
    "CSV import of 2,000 rows over HTTP",
    "hello run over HTTP (./manage.sh serve)",
    "classroom: 4 accounts press Run at once (HTTP)",
    "tasks for a class: 4 accounts launch a task at once, launched → started",
    "site memory at rest, warm pool full (PSS, MB)",
    "home page, 30 clients (HTTP)",
    "editor, 30 clients (HTTP)",
]


def test_quick_benchmark_prints_the_table_and_writes_json(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(tmp_path)],
        check=False,
        cwd=PROJECT,
        capture_output=True,
        text=True,
        # Two minutes idle; several times that on a loaded 2-core machine.
        timeout=900,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "| figure | median |" in completed.stdout
    [result_file] = tmp_path.glob("bench-*-quick.json")
    document = json.loads(result_file.read_text())
    figures = {figure["name"]: figure for figure in document["figures"]}
    assert set(EXPECTED) <= set(figures)
    assert document["quick"] is True and document["machine"]["cpus"] >= 1
    for figure in figures.values():
        assert figure["n"] >= 1 and figure["min"] <= figure["median"] <= figure["max"]
        if figure["baseline"]:
            assert figure["ratio"] > 0 and figure["baseline"] in figures
    assert figures["secrets panel, 10 secrets"]["decryptions"] == 0
    assert figures["fork of 100 secrets"]["decryptions"] == 0
    # Names, schedules, widget, its server modules, secrets, then the empty tables and their
    # columns: constant whatever the size.
    assert figures["fork of 100 secrets"]["statements"] == 7
    assert figures["gunicorn ×2, public page"]["errors"] == 0


def test_unknown_benchmark_group_is_refused():
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--only", "nonsense"],
        check=False,
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 2
    assert "unknown group(s): nonsense" in completed.stderr
