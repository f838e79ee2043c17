"""The site as `./manage.sh serve` starts it, on a loopback port, and people using it over HTTP.

`served_site()` runs the sandbox service, gunicorn (with the same settings file as `./manage.sh
serve`, `pyspace/gunicorn_config.py`) and the queue consumer in the same environment, on a
throw-away database. `Visitor` is one person's browser: its own cookies, the CSRF token from
the page, real HTTP requests over loopback.
"""

import contextlib
import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

PROJECT = Path(__file__).resolve().parents[1]
GUNICORN = Path(sys.executable).with_name("gunicorn")
FLASK = Path(sys.executable).with_name("flask")
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
PASSWORD = "benchmark password"
# What every visitor and the load generator (bench/load.py) send: see Visitor.
USER_AGENT = "py.space-bench"
# What the warm pool logs once it holds its full size (pyspace/sandbox/pool.py).
POOL_FULL = "warm pool full:"
T = TypeVar("T")


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_listening(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    """Return once `port` accepts connections; raise if `process` died first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the server did not start listening")


def bench_config_of(app) -> dict:
    """The settings a benchmark app was made with, for serving the same database (and its
    instance folder: the queue's SQLite file and the metrics files live there)."""
    return {
        **{
            key: app.config[key] for key in ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "SECRETS_KEY")
        },
        "INSTANCE_PATH": app.instance_path,
    }


def site_environment(config: dict) -> dict:
    """The environment `./manage.sh serve` would give the site, for a benchmark's database."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("PYSPACE_")},
        "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
        "PYSPACE_SECRET_KEY": config["SECRET_KEY"],
        "PYSPACE_SECRETS_KEY": config["SECRETS_KEY"],
        "PYSPACE_INSTANCE_PATH": config["INSTANCE_PATH"],
        # `./manage.sh serve` counts the metrics of the web server and the consumer in files.
        "PROMETHEUS_MULTIPROC_DIR": os.path.join(config["INSTANCE_PATH"], "metrics"),
    }


@contextlib.contextmanager
def served_site(config: dict, processes: list | None = None, **settings: str) -> Iterator[str]:
    """Serve the site as `./manage.sh serve` does (the sandbox service `flask sandbox serve`,
    gunicorn, and the queue consumer `flask tasks consumer`, same environment); yields its base
    URL once the warm pool is full (as on a server that has been up a while). `settings` are
    extra `PYSPACE_<NAME>` values (e.g. RUN_WALL_SECONDS for long runs); `processes`, when
    given, receives the server's, the consumer's and the service's processes (to measure their
    memory)."""
    port = free_port()
    env = site_environment(config)
    env.update({f"PYSPACE_{name}": value for name, value in settings.items()})
    env["PYSPACE_BIND"] = f"127.0.0.1:{port}"
    env.setdefault("PYSPACE_SANDBOX_SERVICE", os.path.join(config["INSTANCE_PATH"], "sandbox.sock"))
    os.makedirs(env["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)
    with (
        tempfile.TemporaryFile("w+", encoding="utf-8") as log,
        tempfile.TemporaryFile("w+", encoding="utf-8") as service_log,
    ):
        service = subprocess.Popen(
            [str(FLASK), "--app", "app", "sandbox", "serve"],
            cwd=PROJECT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=service_log,
        )
        started = [service]
        try:
            wait_for_log_line(service_log, "sandbox service listening", service)
            started.append(
                subprocess.Popen(
                    [str(FLASK), "--app", "app", "tasks", "consumer"],
                    cwd=PROJECT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            process = subprocess.Popen(
                [str(GUNICORN), "-c", "python:pyspace.gunicorn_config", "app:app"],
                cwd=PROJECT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
            started.insert(0, process)
            if processes is not None:
                processes += started
            wait_until_listening(port, process)
            if env.get("PYSPACE_RUN_POOL_SIZE", "").strip() != "0":
                # The default pool is sized to the machine (32 sandboxes with 1 GB free): on a
                # busy 2-core machine filling it takes minutes.
                wait_for_log_line(service_log, POOL_FULL, service, timeout=900)
            yield f"http://127.0.0.1:{port}"
        finally:
            for started_process in started:
                stop(started_process)


def process_tree(roots: list[int]) -> list[int]:
    """These processes and all their descendants (sandboxes included), as they are now."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry))
    found, todo = [], list(roots)
    while todo:
        pid = todo.pop()
        if pid in found:
            continue
        found.append(pid)
        todo += children.get(pid, [])
    return found


def tree_pss_mb(roots: list[int]) -> float:
    """The memory of these processes and all their descendants: the sum of their proportional
    set sizes (`/proc/<pid>/smaps_rollup`), in MB."""
    total_kb = 0
    for pid in process_tree(roots):
        try:
            with open(f"/proc/{pid}/smaps_rollup") as rollup:
                for line in rollup:
                    if line.startswith("Pss:"):
                        total_kb += int(line.split()[1])
                        break
        except OSError:
            continue
    return total_kb / 1024


def tree_cpu_seconds(roots: list[int]) -> float:
    """The CPU time (user + system) these processes and their living descendants have used."""
    ticks = 0
    for pid in process_tree(roots):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # utime and stime: fields 14 and 15 of stat(5), counted from the state (field 3).
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def wait_for_log_line(log, marker: str, process: subprocess.Popen, timeout: float = 120) -> None:
    """Return once the server's log (a file it writes) has a line containing `marker`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log.seek(0)
        if marker in log.read():
            return
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        time.sleep(0.1)
    log.seek(0)
    raise RuntimeError(f"the server never logged {marker!r}; its log ends:\n{log.read()[-2000:]}")


def stop(process: subprocess.Popen) -> None:
    """Stop a server the way an operator's Ctrl-C does, and wait for it."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def timed(action: Callable[[], T]) -> tuple[T, float]:
    """`action()`'s result and how long it took, in milliseconds."""
    started = time.perf_counter_ns()
    result = action()
    return result, (time.perf_counter_ns() - started) / 1e6


class Visitor:
    """One person's browser on the served site: cookies, CSRF token, HTTP over loopback."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))
        # One browser, one User-Agent: the load generator (bench/load.py) sends the same one
        # with this visitor's cookie. Flask-Login ties a session to its browser, so another
        # agent would make the site mark the session not fresh and sign a new cookie on every
        # request, work no browser that keeps its cookies causes.
        self.opener.addheaders = [("User-Agent", USER_AGENT)]
        self.csrf = ""

    def get(self, path: str) -> tuple[int, str]:
        """GET `path`: (status, body); remembers the page's CSRF token."""
        status, body = self._open(urllib.request.Request(self.base_url + path))
        found = CSRF_META.search(body)
        if found:
            self.csrf = found.group(1)
        return status, body

    def log_in(self, username: str) -> None:
        """Log in through the form, as a person would."""
        self.get("/login")
        data = urllib.parse.urlencode(
            {"username": username, "password": PASSWORD, "csrf_token": self.csrf}
        ).encode()
        status, _ = self._open(urllib.request.Request(self.base_url + "/login", data=data))
        if status != 200 or not any(cookie.name == "session" for cookie in self.cookies):
            raise RuntimeError(f"could not log in as {username} ({status})")
        self.get("/")

    def run(self, widget_id: str) -> tuple[int, dict]:
        """Press Run as the editor's JSON client does: (status, the run's JSON)."""
        request = urllib.request.Request(
            f"{self.base_url}/widgets/{widget_id}/run",
            data=b"",
            headers={"Accept": "application/json", "X-CSRFToken": self.csrf},
        )
        status, body = self._open(request)
        try:
            return status, json.loads(body)
        except ValueError:
            return status, {"ok": False, "error": {"type": "NotJSON", "message": body[:200]}}

    def _open(self, request: urllib.request.Request) -> tuple[int, str]:
        try:
            with self.opener.open(request, timeout=120) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace")
