"""The load generator: run as its own process (`python -m bench.load URL REQUESTS THREADS
[COOKIE]`)
so it never shares an interpreter with the server it measures. Prints one JSON line."""

import http.client
import json
import sys
import threading
import time
from urllib.parse import urlsplit

from bench.served import USER_AGENT


def drive(url: str, requests: int, threads: int, cookie: str = "") -> dict:
    """GET `url` `requests` times from `threads` threads (sending `cookie`, if any): requests
    per second and latencies."""
    parts = urlsplit(url)
    latencies, errors, lock = [], [], threading.Lock()
    per_thread = [
        requests // threads + (1 if n < requests % threads else 0) for n in range(threads)
    ]

    def worker(count: int):
        for _ in range(count):
            started = time.perf_counter()
            try:
                # A new connection per request: gunicorn's sync workers close each one anyway.
                connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
                # The User-Agent of the visitor whose cookie this is (bench/served.py).
                headers = {"User-Agent": USER_AGENT, **({"Cookie": cookie} if cookie else {})}
                connection.request("GET", parts.path or "/", headers=headers)
                response = connection.getresponse()
                response.read()
                connection.close()
                ok = response.status == 200
            except OSError:
                ok = False
            with lock:
                (latencies if ok else errors).append(time.perf_counter() - started)

    workers = [threading.Thread(target=worker, args=(count,)) for count in per_thread]
    started = time.perf_counter()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    elapsed = time.perf_counter() - started
    return {
        "requests_per_second": len(latencies) / elapsed,
        "ok": len(latencies),
        "errors": len(errors),
        "latencies_ms": [latency * 1000 for latency in latencies],
    }


if __name__ == "__main__":
    url, count, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    print(json.dumps(drive(url, count, threads, sys.argv[4] if len(sys.argv) > 4 else "")))
