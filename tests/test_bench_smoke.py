"""The benchmark command still works (tiny sizes; the real figures come from `python -m bench`).

One test per group, so that the groups (a few seconds to two minutes each on a loaded machine)
run side by side on the suite's workers instead of one after another in one test."""

import http.server
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bench.__main__ import GROUPS

PROJECT = Path(__file__).resolve().parents[1]
# The figures each group must report (a group may report more: its baselines, for instance).
EXPECTED = {
    "pages": ["flask hello (test client)", "public page", "editor page"],
    "panel": ["secrets panel, 10 secrets", "plain Flask rows, 10"],
    "fork": ["fork of 100 secrets"],
    "throughput": ["gunicorn ×2, public page", "gunicorn ×2, bare Flask hello"],
    "runs": [
        "python3 -I -S -c pass in sandbox, cold",
        "run hello world (POST /run, warm pool)",
        "run hello world (POST /run, no pool)",
        "get_secret, one call (many calls in one run)",
        "get_secret, first read of a secret",
    ],
    "keys": ["encrypt_with_key+decrypt_with_key of 1 KiB, per call in a run"],
    "fairness": [
        "bystander GET /, quiet",
        "bystander GET /, during a 4-run flood",
        "bystander hello run, during a 4-run flood",
    ],
    "tasks": [
        "schedule due → run started (SQLite queue, 1 s tick)",
        "task runs, local (one process, in turn)",
    ],
    "fairtasks": ["other account's task: queued → started, one account's cap full"],
    "tables": [
        "bare SQLAlchemy insert + commit, one row",
        "add_row, one call (20 calls in one run)",
        "bare SQLAlchemy: 48 newest of 2,000 rows",
        "search(order_by('when', ascending=False))[:48], 2,000 rows",
    ],
    "writes": [
        "bystander Run press, quiet",
        "bystander Run press during a 2,000-row import",
        "bystander log-in during a 2,000-row import",
        "CSV import of 2,000 rows over HTTP",
    ],
    "http": [
        "hello run over HTTP (./manage.sh serve)",
        "classroom: 4 accounts press Run at once (HTTP)",
        "tasks for a class: 4 accounts launch a task at once, launched → started",
        "site memory at rest, warm pool full (PSS, MB)",
        "home page, 30 clients (HTTP)",
        "editor, 30 clients (HTTP)",
    ],
}

# Exact values some figures must carry, whatever the sizes: (group, figure, field) -> value.
EXACT = {
    ("panel", "secrets panel, 10 secrets", "decryptions"): 0,
    ("fork", "fork of 100 secrets", "decryptions"): 0,
    # Names, schedules, widget, its server modules, secrets, then the empty tables and their
    # columns: constant whatever the size.
    ("fork", "fork of 100 secrets", "statements"): 7,
    ("throughput", "gunicorn ×2, public page", "errors"): 0,
}


def _python_module(*arguments: str, timeout: float) -> subprocess.CompletedProcess:
    """`python -m <arguments>` from the project's root, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", *arguments],
        check=False,
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_every_benchmark_group_has_a_smoke_test():
    assert sorted(EXPECTED) == sorted(GROUPS)
    assert {group for group, _, _ in EXACT} <= set(GROUPS)


@pytest.mark.long
@pytest.mark.parametrize("group", GROUPS)
def test_quick_benchmark_group_prints_its_table_and_writes_json(group, tmp_path):
    completed = _python_module(
        "bench",
        "--quick",
        "--only",
        group,
        "--out",
        str(tmp_path),
        # The longest group (http) takes 40 s idle; several times that on a loaded machine.
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "| figure | median |" in completed.stdout
    [result_file] = tmp_path.glob("bench-*-quick.json")
    document = json.loads(result_file.read_text())
    figures = {figure["name"]: figure for figure in document["figures"]}
    assert set(EXPECTED[group]) <= set(figures)
    assert document["quick"] is True and document["machine"]["cpus"] >= 1
    for figure in figures.values():
        assert figure["n"] >= 1 and figure["min"] <= figure["median"] <= figure["max"]
        if figure["baseline"]:
            assert figure["ratio"] > 0 and figure["baseline"] in figures
    for (of_group, name, field), value in EXACT.items():
        if of_group == group:
            assert figures[name][field] == value, (name, field)
    if group == "http":
        # Each burst's CPU: every core's busy time, and the web server's share per press.
        classroom = figures["classroom: 4 accounts press Run at once (HTTP)"]
        assert len(classroom["burst_busy_ms"]) == len(classroom["burst_p95_ms"]) >= 1
        assert all(busy > 0 for busy in classroom["burst_busy_ms"])
        assert all(web > 0 for web in classroom["burst_web_cpu_ms_per_press"])


@pytest.mark.long
@pytest.mark.parametrize(
    "module, arguments, lines",
    [
        (
            "bench.editor_floor",
            ["--bursts", "1", "--per-burst", "2"],
            [
                "editor as it ships",
                "no page",
                "no page, no boxes",
                "empty view, logged in",
                "empty view, anonymous",
                "bare Flask hello",
            ],
        ),
        (
            "bench.pages_cpu",
            ["--runs", "2", "--first-visits"],
            ["home (anonymous)", "public widget page (anonymous)", "editor (owner)"],
        ),
        (
            "bench.pages_cpu",
            ["--runs", "2", "--first-visits", "--cold-caches", "1"],
            [
                "home (anonymous)",
                "public widget page (anonymous)",
                "editor (owner)",
                "bare Flask hello (baseline)",
            ],
        ),
    ],
)
def test_page_cpu_tools_print_a_figure_for_each_page(module, arguments, lines):
    completed = _python_module(module, *arguments, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    printed = completed.stdout.splitlines()
    # With --cold-caches every figure comes twice: warm, then cold.
    unit = "µs cold" if "--cold-caches" in arguments else "µs"
    for label in lines:
        assert any(line.endswith(f"  {label}") and unit in line for line in printed), label


@pytest.mark.long
def test_editor_floor_measures_every_form_with_warm_and_with_cold_caches():
    arguments = ["--bursts", "1", "--per-burst", "2", "--cold-caches", "1"]
    completed = _python_module("bench.editor_floor", *arguments, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    printed = completed.stdout.splitlines()
    cold = next(i for i, line in enumerate(printed) if line.startswith("Cold caches (1 MB"))
    for label in ("editor as it ships", "no page, no boxes", "empty view, logged in"):
        for part in (printed[:cold], printed[cold:]):
            assert sum(line.endswith(f"  {label}") and "× warm" in line for line in part) == 1


def test_unknown_benchmark_group_is_refused():
    completed = _python_module("bench", "--only", "nonsense", timeout=60)
    assert completed.returncode == 2
    assert "unknown group(s): nonsense" in completed.stderr


def test_the_load_generator_is_the_same_browser_as_the_visitor_whose_cookie_it_sends():
    # Flask-Login ties a session to its browser's User-Agent: another agent makes the site mark
    # the session not fresh and sign a new cookie on every request, which no browser causes.
    from bench.load import drive
    from bench.served import USER_AGENT, Visitor

    agents: list[str | None] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            agents.append(self.headers.get("User-Agent"))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}"
        status, _ = Visitor(url).get("/")
        outcome = drive(url + "/", 3, 2, "session=x")
        server.shutdown()
    assert status == 200 and outcome["ok"] == 3
    assert len(agents) == 4 and len(set(agents)) == 1 and agents[0] != "Python-urllib/3.11"
    assert agents == [USER_AGENT] * 4
