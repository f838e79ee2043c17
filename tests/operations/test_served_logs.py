"""A served site and a queue consumer log a line when they start and stop, as JSON lines with
PYSPACE_LOG_FORMAT=json; /healthz answers over HTTP from gunicorn."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from pyspace.log_format import JsonFormatter

PROJECT = Path(__file__).resolve().parents[2]
VENV_BIN = PROJECT / ".venv" / "bin"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(tmp_path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYSPACE_")}
    env.update(
        PYSPACE_INSTANCE_PATH=str(tmp_path / "instance"),
        PYSPACE_LOG_FORMAT="json",
        PYSPACE_RUN_POOL_SIZE="0",
        **extra,
    )
    return env


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def wait_for(predicate, timeout: float = 120) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_json_formatter_writes_one_object_per_record():
    import logging

    record = logging.LogRecord(
        "pyspace.x", logging.WARNING, __file__, 1, "hello %s", ("you",), None
    )
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "hello you" and entry["level"] == "WARNING"
    assert entry["logger"] == "pyspace.x" and entry["time"].endswith("+00:00")


def test_gunicorn_logs_start_and_stop_as_json_and_serves_healthz(tmp_path):
    port = free_port()
    env = environment(
        tmp_path, PYSPACE_BIND=f"127.0.0.1:{port}", PYSPACE_HEALTH_CONSUMER_SECONDS="0"
    )
    with open(tmp_path / "stderr.log", "w") as log:
        server = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "-c", "python:pyspace.gunicorn_config", "app:app"],
            cwd=PROJECT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    try:
        started = wait_for(lambda: "web server started" in (tmp_path / "stderr.log").read_text())
        assert started, (tmp_path / "stderr.log").read_text()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=60) as answer:
                body = json.load(answer)
        except urllib.error.HTTPError as failing:  # 503: this machine can't start sandboxes
            body = json.load(failing)
        assert body["checks"]["database"]["ok"] and body["checks"]["disk"]["ok"]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)
    lines = json_lines((tmp_path / "stderr.log").read_text())
    messages = [line["message"] for line in lines]
    assert any("web server started" in m for m in messages)
    assert any("web server stopped" in m for m in messages)


def test_the_consumer_logs_start_and_stop_as_json(tmp_path):
    env = environment(tmp_path)
    with open(tmp_path / "stderr.log", "w") as log:
        consumer = subprocess.Popen(
            [str(VENV_BIN / "flask"), "--app", "app", "tasks", "consumer", "--no-scheduler"],
            cwd=PROJECT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    heartbeat = tmp_path / "instance" / "consumer.heartbeat"
    try:
        # SIGTERM stops the consumer gracefully once Huey has set its signal handlers, which it
        # does after logging that it started: wait until the process catches SIGTERM.
        started = wait_for(lambda: _catches_sigterm(consumer.pid))
        assert started and heartbeat.exists(), (tmp_path / "stderr.log").read_text()
    finally:
        consumer.send_signal(signal.SIGTERM)
        consumer.wait(60)
    messages = [line["message"] for line in json_lines((tmp_path / "stderr.log").read_text())]
    assert any(m.startswith("queue consumer started") for m in messages)
    assert "queue consumer stopped" in messages


pytestmark = pytest.mark.skipif(not (VENV_BIN / "gunicorn").exists(), reason="needs the venv")


def _catches_sigterm(pid: int) -> bool:
    """Whether the process has a handler for SIGTERM (its SigCgt mask in /proc)."""
    status = Path(f"/proc/{pid}/status").read_text()
    [caught] = [line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:")]
    return bool(int(caught, 16) & (1 << (signal.SIGTERM - 1)))
