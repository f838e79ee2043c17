"""GET /metrics: Prometheus's format, scraped over HTTP; loopback or the admin token only."""

import os
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest
from prometheus_client.parser import text_string_to_metric_families
from werkzeug.serving import make_server

from pyspace.extensions import db
from pyspace.models import AuditEvent, Run
from pyspace.sandbox import RunnerState

PROJECT = Path(__file__).resolve().parents[2]


def samples(text: str) -> dict[tuple[str, tuple], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def scrape(url: str) -> dict[tuple[str, tuple], float]:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        return samples(response.read().decode())


@pytest.fixture
def widget_id(app, alice):
    return alice.create_widget(title="Counter")


def test_metrics_scraped_over_http_count_requests_runs_queue_and_alerts(app, widget_id):
    state = RunnerState(sandboxed=True, usable=True, problem=None, idle=3, pool_size=4)
    app.extensions["runner"] = SimpleNamespace(state=lambda: state, shutdown=lambda: None)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        before = scrape(base + "/metrics")
        finished = ("pyspace_runs_finished_total", (("kind", "task"), ("status", "failed")))
        with app.app_context():
            db.session.add(Run(widget_id=widget_id, kind="task", status="queued"))
            running = Run(widget_id=widget_id, kind="task", status="running")
            db.session.add(running)
            db.session.commit()
            running.status, running.duration_ms = "failed", 1500
            db.session.add(AuditEvent(widget_id=widget_id, action="extraction", detail="x"))
            db.session.commit()
        urllib.request.urlopen(base + "/login", timeout=10).read()
        after = scrape(base + "/metrics")
    finally:
        server.shutdown()
    login = (
        "pyspace_http_requests_total",
        (("endpoint", "auth.login"), ("method", "GET"), ("status", "200")),
    )
    assert after[login] >= before.get(login, 0) + 1
    assert after[finished] == before.get(finished, 0) + 1
    assert after[("pyspace_run_seconds_count", (("kind", "task"),))] >= 1
    assert after[("pyspace_queue_runs", (("kind", "task"), ("state", "queued")))] == 1
    assert after[("pyspace_runs_last_hour", (("kind", "task"), ("status", "failed")))] == 1
    alerts = ("pyspace_extraction_alerts_total", ())
    assert after[alerts] == before.get(alerts, 0) + 1
    assert after[("pyspace_warm_pool_ready", ())] == 3
    assert after[("pyspace_instance_disk_free_bytes", ())] > 0
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        assert after[("pyspace_instance_used_bytes", ())] > 0  # the database's file


def test_metrics_do_not_exist_for_other_addresses_without_the_token(app, client):
    far = {"REMOTE_ADDR": "203.0.113.7"}
    assert client.get("/metrics", environ_base=far).status_code == 404
    app.config["METRICS_TOKEN"] = "s3cret-token"
    wrong = {"Authorization": "Bearer nope"}
    assert client.get("/metrics", environ_base=far, headers=wrong).status_code == 404
    right = {"Authorization": "Bearer s3cret-token"}
    response = client.get("/metrics", environ_base=far, headers=right)
    assert response.status_code == 200 and b"pyspace_queue_runs" in response.data


@pytest.mark.long
def test_metrics_add_up_over_processes_in_multiprocess_mode(tmp_path):
    """Two processes count runs into PROMETHEUS_MULTIPROC_DIR; a third's scrape sums them."""
    env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"))
    (tmp_path / "metrics").mkdir()
    count = "from pyspace.operations.metrics import RUNS; RUNS.labels('run', 'completed').inc(2)"
    for _ in range(2):
        subprocess.run([sys.executable, "-c", count], env=env, cwd=PROJECT, check=True)
    scrape_code = (
        "from pyspace import create_app; from pyspace.extensions import db\n"
        f"app = create_app({{'TESTING': True, 'INSTANCE_PATH': {str(tmp_path / 'i')!r}, "
        f"'SQLALCHEMY_DATABASE_URI': 'sqlite:///{tmp_path / 'm.sqlite'}', 'RUN_POOL_SIZE': 0}})\n"
        "with app.app_context():\n    db.create_all()\n"
        "print(app.test_client().get('/metrics').get_data(as_text=True))"
    )
    out = subprocess.run(
        [sys.executable, "-c", scrape_code],
        env=env,
        cwd=PROJECT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    found = samples(out)
    assert found[("pyspace_runs_finished_total", (("kind", "run"), ("status", "completed")))] == 4


def test_metrics_refuse_visitors_proxied_through_a_local_proxy(app, client):
    proxied = {"X-Forwarded-For": "203.0.113.7"}
    assert client.get("/metrics").status_code == 200
    assert client.get("/metrics", headers=proxied).status_code == 404
