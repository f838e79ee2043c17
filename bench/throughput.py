"""Throughput of the public page under gunicorn (2 workers) vs a bare Flask app under the same
server, both driven from a separate load-generator process over loopback."""

import json
import os
import subprocess
import sys

from .measure import Report
from .sample_data import bench_config, make_user, make_widget, server_environment
from .served import GUNICORN, PROJECT, free_port, stop, wait_until_listening

WORKERS = 2
THREADS = 4


def _serve(app_spec: str, env: dict):
    """Start gunicorn with WORKERS sync workers on a free loopback port: (process, port)."""
    port = free_port()
    process = subprocess.Popen(
        [
            str(GUNICORN),
            "--workers",
            str(WORKERS),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            app_spec,
        ],
        cwd=PROJECT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_until_listening(port, process)
    return process, port


def _round(url: str, requests: int) -> dict:
    """One round of `requests` GETs from the load-generator process."""
    command = [sys.executable, "-m", "bench.load", url, str(requests), str(THREADS)]
    return json.loads(
        subprocess.run(command, cwd=PROJECT, check=True, capture_output=True, text=True).stdout
    )


def bench_throughput(report: Report, workdir: str, rounds: int, requests: int) -> None:
    """Public page and bare Flask hello, each under gunicorn with 2 workers; both servers run
    side by side and the rounds take turns, so both see the same machine."""
    config = bench_config(workdir)
    from pyspace import create_app
    from pyspace.extensions import db

    app = create_app(config)
    with app.app_context():
        db.create_all()
        widget_id = make_widget(make_user("throughput"), 10)
    env = server_environment(config)
    baseline, name = "gunicorn ×2, bare Flask hello", "gunicorn ×2, public page"
    servers = {}
    try:
        for figure, spec, path in (
            (baseline, "bench.baseline_apps:hello", "/"),
            (name, "app:app", f"/widgets/{widget_id}"),
        ):
            process, port = _serve(spec, env)
            servers[figure] = (process, f"http://127.0.0.1:{port}{path}")
        results = {figure: [] for figure in servers}
        for number in range(rounds + 1):
            for figure, (_, url) in servers.items():
                # The first round only warms both workers up (imports, connections, templates).
                outcome = _round(url, requests if number else max(THREADS, requests // 10))
                if number:
                    results[figure].append(outcome)
    finally:
        for process, _ in servers.values():
            stop(process)
    for figure, outcomes in results.items():
        latencies = sorted(latency for outcome in outcomes for latency in outcome["latencies_ms"])
        report.add(
            figure,
            [outcome["requests_per_second"] for outcome in outcomes],
            unit="req/s",
            baseline=None if figure == baseline else baseline,
            errors=sum(outcome["errors"] for outcome in outcomes),
            latency_median_ms=latencies[len(latencies) // 2] if latencies else None,
            requests_per_round=requests,
            load_threads=THREADS,
        )
