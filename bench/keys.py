"""Encryption keys: `encrypt_with_key` + `decrypt_with_key` of a 1 KiB string, per call, timed
inside one run (each call crosses the run's channel to the host, which holds the key) — against
`cryptography` doing the same Fernet encrypt + decrypt in-process, with no channel at all."""

import json
import time

from cryptography.fernet import Fernet

from pyspace.extensions import db
from pyspace.models import Widget
from pyspace.secrets.changes import create_key

from .measure import Report, time_ms
from .runs import _post_run
from .sample_data import csrf_token, logged_in_client, make_user, make_widget

TEXT = "0123456789abcdef" * 64  # 1 KiB
KEY_LOOP = """import json, time
import anvil.secrets

text = {text!r}
anvil.secrets.decrypt_with_key("bench_key", anvil.secrets.encrypt_with_key("bench_key", text))
samples = []
for _ in range({calls}):
    started = time.perf_counter_ns()
    token = anvil.secrets.encrypt_with_key("bench_key", text)
    if anvil.secrets.decrypt_with_key("bench_key", token) != text:
        raise SystemExit("round trip changed the text")
    samples.append((time.perf_counter_ns() - started) / 1e6)
print(json.dumps(samples))
"""


def _in_process(calls: int) -> list[float]:
    fernet = Fernet(Fernet.generate_key())
    data = TEXT.encode()

    def round_trip():
        assert fernet.decrypt(fernet.encrypt(data)) == data

    return time_ms(round_trip, calls)


def bench_keys(app, report: Report, calls: int) -> None:
    """The per-call cost of a key round trip in a run (the first call, which looks the key up
    and audits its use, is left out) and the in-process baseline."""
    with app.app_context():
        owner = make_user("keyrunner")
        widget_id = make_widget(
            owner, 0, title="Keys", code=KEY_LOOP.format(text=TEXT, calls=calls)
        )
        key = create_key(db.session.get(Widget, widget_id), owner)
        key.name = "bench_key"
        db.session.commit()
    client = logged_in_client(app, owner)
    headers = {
        "Accept": "application/json",
        "X-CSRFToken": csrf_token(client, f"/widgets/{widget_id}/edit"),
    }
    started = time.perf_counter()
    result = _post_run(client, f"/widgets/{widget_id}/run", headers)
    if not result["stdout"]:
        raise RuntimeError(f"the key benchmark's run failed: {result.get('error')}")
    baseline = "cryptography Fernet encrypt+decrypt of 1 KiB, in-process"
    report.add(baseline, _in_process(calls))
    report.add(
        "encrypt_with_key+decrypt_with_key of 1 KiB, per call in a run",
        json.loads(result["stdout"]),
        baseline=baseline,
        calls_in_one_run=calls,
        run_seconds=round(time.perf_counter() - started, 3),
    )
