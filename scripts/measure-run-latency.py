#!/usr/bin/env python3
"""Measure Run: a hello-world POST /run (JSON) against starting Python, in one process.

Prints medians (and quartiles) in milliseconds of:
  bare_python        python3 -I -S -c pass, no sandbox
  cold_sandbox       python3 -I -S -c pass inside the same bubblewrap sandbox runs use
  run_warm           POST /widgets/<id>/run of print('hello') with the warm pool (the default)
  run_cold           the same with the pool off (every run starts its own sandbox)
  get_secret         one anvil.secrets.get_secret round trip, timed inside a run: the first
                     call of a run (database, decryption, audit) and the repeats (median
                     over 10 runs)
and the ratios run_warm / cold_sandbox and run_warm / bare_python.

Usage: .venv/bin/python scripts/measure-run-latency.py [repetitions]
"""
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.fernet import Fernet  # noqa: E402

from pyspace import create_app, vault  # noqa: E402
from pyspace.extensions import db  # noqa: E402
from pyspace.models import Secret, Widget  # noqa: E402
from pyspace.runner import runner_for, shutdown_runner  # noqa: E402
from pyspace.runner.sandbox import PYTHON, as_nobody, bare_python_command  # noqa: E402
from pyspace.runner.settings import Limits  # noqa: E402

GET_SECRET_CALLS = 200


def summary(samples: list[float]) -> dict:
    quartiles = statistics.quantiles(samples, n=4)
    return {"median_ms": round(statistics.median(samples), 3), "q1_ms": round(quartiles[0], 3),
            "q3_ms": round(quartiles[2], 3), "n": len(samples)}


def time_command(command: list[str], repetitions: int, **popen) -> list[float]:
    samples = []
    for _ in range(repetitions):
        started = time.perf_counter()
        subprocess.run(command, check=True, env={}, **popen)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def signed_in_client(app):
    client = app.test_client()
    page = client.get("/register").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    client.post("/register", data={"username": "bench", "password": "correct horse battery",
                                   "csrf_token": token})
    page = client.get("/").get_data(as_text=True)
    return client, re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def time_runs(pool_size: int, repetitions: int, instance: str) -> tuple[list[float], float | None]:
    app = create_app({"INSTANCE_PATH": instance, "SECRET_KEY": "bench", "RUN_POOL_SIZE": pool_size,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance}/bench-{pool_size}.sqlite",
                      "SECRETS_KEY": Fernet.generate_key().decode(), "RATELIMIT_ENABLED": False})
    with app.app_context():
        db.create_all()
    client, token = signed_in_client(app)
    with app.app_context():
        owner_id = db.session.execute(db.text("select id from users")).scalar()
        hello = Widget(owner_id=owner_id, title="hello", server_code="print('hello')\n")
        secretive = Widget(owner_id=owner_id, title="secrets", server_code=(
            "import anvil.secrets, statistics, time\nsamples = []\n"
            "started = time.perf_counter()\nanvil.secrets.get_secret('api_key')\n"
            "first = (time.perf_counter() - started) * 1000\n"
            f"for _ in range({GET_SECRET_CALLS}):\n    started = time.perf_counter()\n"
            "    anvil.secrets.get_secret('api_key')\n"
            "    samples.append((time.perf_counter() - started) * 1000)\n"
            "print(first, statistics.median(samples))\n"))
        db.session.add_all([hello, secretive])
        db.session.flush()
        db.session.add(Secret(widget_id=secretive.id, name="api_key",
                              ciphertext=vault.encrypt_value("bench-value")))
        db.session.commit()
        hello_id, secretive_id = hello.id, secretive.id
    headers = {"Accept": "application/json", "X-CSRFToken": token}
    runner = runner_for(app)
    samples = []
    for _ in range(repetitions):
        if runner.pool is not None:
            # Latency as a person feels it: the pool has refilled since the last click.
            runner.pool.wait_until_full(10)
        started = time.perf_counter()
        answer = client.post(f"/widgets/{hello_id}/run", headers=headers).get_json()
        samples.append((time.perf_counter() - started) * 1000)
        assert answer["ok"] and answer["stdout"] == "hello\n", answer
    get_secret_ms = None
    if pool_size:
        firsts, repeats = [], []
        for _ in range(10):
            runner.pool.wait_until_full(10)
            answer = client.post(f"/widgets/{secretive_id}/run", headers=headers).get_json()
            assert answer["ok"], answer
            first, repeat = (float(figure) for figure in answer["stdout"].split())
            firsts.append(first)
            repeats.append(repeat)
        get_secret_ms = [statistics.median(firsts), statistics.median(repeats)]
    shutdown_runner(app)
    return samples, get_secret_ms


def main() -> None:
    repetitions = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    figures = {
        "bare_python": summary(time_command([PYTHON, "-I", "-S", "-c", "pass"], repetitions)),
        "cold_sandbox": summary(time_command(bare_python_command(Limits()), repetitions,
                                             **as_nobody())),
    }
    with tempfile.TemporaryDirectory() as instance:
        warm, get_secret_ms = time_runs(2, repetitions, instance)
        cold, _ = time_runs(0, repetitions, instance)
    figures["run_warm"] = summary(warm)
    figures["run_cold"] = summary(cold)
    figures["get_secret_first_call_ms"] = round(get_secret_ms[0], 4)
    figures["get_secret_median_ms"] = round(get_secret_ms[1], 4)
    figures["ratio_run_warm_to_cold_sandbox"] = round(
        figures["run_warm"]["median_ms"] / figures["cold_sandbox"]["median_ms"], 3)
    figures["ratio_run_warm_to_bare_python"] = round(
        figures["run_warm"]["median_ms"] / figures["bare_python"]["median_ms"], 3)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
