"""Figures measured as a user feels them: real HTTP against the site served as `./manage.sh serve`
serves it.

1. Hello run, `POST /widgets/<wid>/run` (JSON), against a cold sandboxed `python3 -I -S -c pass`.
2. A run of `import requests, anvil.secrets`, against a cold sandboxed
   `python3 -c "import requests"` with the same packages.
3. Classroom burst: 30 accounts, each with its own widget that imports requests and reads a secret,
   press Run at the same moment; again 5 s later. p50, p95, max, failures, the host's peak memory.
5. Pages under 30 concurrent clients (home, public widget page, editor) against gunicorn serving a
   bare Flask hello, in the same run; and the home page while 20 slow runs fill the run slots
   and the queue.

Baselines take turns with the figure they are compared with, so both see the same machine.
"""

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from pyspace.sandbox.bwrap import INSIDE_PACKAGES, PYTHON, as_nobody, bwrap_command
from pyspace.sandbox.host import host_for
from pyspace.sandbox.settings import settings_from_config

from .measure import Report
from .sample_data import make_app, make_user, make_widget
from .served import (
    PROJECT,
    Visitor,
    bench_config_of,
    served_site,
    timed,
    tree_cpu_seconds,
    tree_pss_mb,
)

HELLO = "print('Hello, world!')\n"
REQUESTS_RUN = "import requests, anvil.secrets\nprint(requests.__version__)\n"
SLOW_RUN = "import time\ntime.sleep(1)\n"
# Launches a background task and answers at once, as a class launching its tasks does.
TASK_LAUNCH_RUN = """
import anvil.server

@anvil.server.background_task
def work():
    print('started')

anvil.server.launch_background_task('work')
"""
CLASSROOM_RUN = (
    "import requests, anvil.secrets\n"
    "key = anvil.secrets.get_secret('api_key_00000')\n"
    "print(requests.__version__, len(key))\n"
)


def _sandboxed_python(host, limits, packages_dir: str, *arguments: str) -> list[str]:
    # The runner's own sandbox command line (packages mounted when given), running only these,
    # with the host's world-readable copy of the runtime as runs have it (uid 65534 can't
    # read a checkout in a 0700 folder such as /root).
    command = bwrap_command(limits, packages_dir or "/nonexistent", 0, host.runtime_dir)
    return [*command[: command.index(PYTHON)], PYTHON, *arguments]


def _timed_command(command: list[str]) -> float:
    started = time.perf_counter_ns()
    subprocess.run(
        command,
        check=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={},
        **as_nobody(),
    )
    return (time.perf_counter_ns() - started) / 1e6


def _timed_run(visitor: Visitor, widget_id: str) -> float:
    (status, result), elapsed = timed(lambda: visitor.run(widget_id))
    if status != 200 or not result.get("ok"):
        raise RuntimeError(f"run failed over HTTP ({status}): {result.get('error')}")
    return elapsed


def _take_turns(turns: dict, repeat: int, warmup: int, pause: float) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in turns}
    for number in range(warmup + repeat):
        for name, measure in turns.items():
            # A pause lets the warm pool refill, as it does between people pressing Run.
            time.sleep(pause)
            elapsed = measure()
            if number >= warmup:
                samples[name].append(elapsed)
    return samples


def bench_runs_over_http(report: Report, workdir: str, repeat: int, **site: str) -> None:
    """Figures 1 and 2: single runs over HTTP against cold sandboxed Python, taking turns."""
    app = make_app(workdir, RUN_WALL_SECONDS=30)
    settings = settings_from_config(app.config)
    with app.app_context():
        owner = make_user("httprunner")
        hello = make_widget(owner, 1, title="Hello", code=HELLO)
        with_requests = make_widget(owner, 1, title="Requests", code=REQUESTS_RUN)
    host = host_for(settings)
    bare = _sandboxed_python(host, settings.limits, "", "-I", "-S", "-c", "pass")
    import_requests = _sandboxed_python(
        host,
        settings.limits,
        host.packages_dir,
        "-c",
        f"import sys; sys.path.append({INSIDE_PACKAGES!r}); import requests",
    )
    names = {
        "bare": "cold sandboxed python3 -I -S -c pass (HTTP turns)",
        "hello": "hello run over HTTP (./manage.sh serve)",
        "bare_requests": "cold sandboxed python3 -c 'import requests' (HTTP turns)",
        "requests": "run importing requests over HTTP (./manage.sh serve)",
    }
    # One account presses Run ~70 times here: lift its per-account rate limit (60 a minute) for
    # this measurement only; everything else is as `./manage.sh serve` runs it.
    with served_site(
        bench_config_of(app), RUN_USER_RATE_LIMIT="100000 per minute", **site
    ) as base_url:
        visitor = Visitor(base_url)
        visitor.log_in("httprunner")
        turns = {
            names["bare"]: lambda: _timed_command(bare),
            names["hello"]: lambda: _timed_run(visitor, hello),
            names["bare_requests"]: lambda: _timed_command(import_requests),
            names["requests"]: lambda: _timed_run(visitor, with_requests),
        }
        samples = _take_turns(turns, repeat, warmup=2, pause=0.3)
    report.add(names["bare"], samples[names["bare"]])
    report.add(names["hello"], samples[names["hello"]], baseline=names["bare"])
    report.check(
        names["hello"],
        "≤ 0.5× cold sandboxed python3 -I -S -c pass",
        report.figures[names["hello"]].ratio <= 0.5,
    )
    report.add(names["bare_requests"], samples[names["bare_requests"]])
    report.add(names["requests"], samples[names["requests"]], baseline=names["bare_requests"])
    report.check(
        names["requests"],
        "≤ 0.25× cold sandboxed import requests",
        report.figures[names["requests"]].ratio <= 0.25,
    )


class _SiteMemoryWatch:
    """The peak memory of the site's processes and their sandboxes (summed PSS, sampled every
    `interval` seconds: reading every process's smaps costs CPU the burst also wants)."""

    def __init__(self, processes: list, interval: float = 0.25):
        self.pids = [process.pid for process in processes]
        self.interval = interval
        self.peak_mb = tree_pss_mb(self.pids)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak_mb = max(self.peak_mb, tree_pss_mb(self.pids))

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


class _MemoryWatch:
    """The host's peak memory in use while it runs (MemTotal - MemAvailable, sampled), above
    what was in use when it started."""

    def __init__(self, interval: float = 0.02):
        self.interval = interval
        self.peak_mb = 0.0
        self.start_mb = self._in_use_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    @staticmethod
    def _in_use_mb() -> float:
        fields = {}
        for line in Path("/proc/meminfo").read_text().splitlines():
            name, value = line.split(":", 1)
            fields[name] = int(value.split()[0])
        return (fields["MemTotal"] - fields["MemAvailable"]) / 1024

    def _watch(self) -> None:
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, self._in_use_mb())
            time.sleep(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def _logged_in(base_url: str, prefix: str, widgets: list[str]) -> list[tuple[Visitor, str]]:
    """A logged-in visitor for each widget, as its owner `<prefix>00`, `<prefix>01`, …"""
    visitors = []
    for number, widget_id in enumerate(widgets):
        visitor = Visitor(base_url)
        visitor.log_in(f"{prefix}{number:02d}")
        visitors.append((visitor, widget_id))
    return visitors


def _burst(visitors: list[tuple[Visitor, str]]) -> list[tuple[float, str | None]]:
    """Every visitor presses Run at the same moment: (ms, None or why it failed) each."""
    barrier = threading.Barrier(len(visitors))
    outcomes: list[tuple[float, str | None]] = [(0.0, "not run")] * len(visitors)

    def press(number: int, visitor: Visitor, widget_id: str) -> None:
        barrier.wait()
        (status, result), elapsed = timed(lambda: visitor.run(widget_id))
        failure = None
        if status != 200 or not result.get("ok"):
            failure = f"{status} {(result.get('error') or {}).get('type', '')}".strip()
        outcomes[number] = (elapsed, failure)

    threads = [
        threading.Thread(target=press, args=(number, visitor, widget_id))
        for number, (visitor, widget_id) in enumerate(visitors)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def bench_classroom(
    report: Report, workdir: str, pupils: int, bursts: int = 2, **site: str
) -> None:
    """Figure 3: `pupils` accounts press Run at once, `bursts` times, 5 s apart."""
    app = make_app(workdir, RUN_WALL_SECONDS=30)
    with app.app_context():
        owners = [make_user(f"pupil{number:02d}") for number in range(pupils)]
        widgets = [make_widget(owner, 1, title="Weather", code=CLASSROOM_RUN) for owner in owners]
    name = f"classroom: {pupils} accounts press Run at once (HTTP)"
    samples: list[float] = []
    failures: list[str] = []
    processes: list = []
    # The site's whole footprint counts: the server and its full warm pool, then the bursts.
    with (
        _MemoryWatch() as memory,
        served_site(bench_config_of(app), processes, **site) as base_url,
    ):
        visitors = _logged_in(base_url, "pupil", widgets)
        at_rest_mb = tree_pss_mb([process.pid for process in processes])
        # Whose CPU a burst takes: the web server's (gunicorn: master and workers), and the
        # whole machine's (the sandbox service, the sandboxes, the kernel, the load generator).
        web_server = [process.pid for process in processes if "gunicorn" in str(process.args)]
        spent: list[tuple[float, float]] = []
        with _SiteMemoryWatch(processes) as site_memory:
            for number in range(bursts):
                if number:
                    time.sleep(5)
                web_before, busy_before = tree_cpu_seconds(web_server), _machine_busy_seconds()
                outcomes = _burst(visitors)
                spent.append(
                    (
                        _machine_busy_seconds() - busy_before,
                        tree_cpu_seconds(web_server) - web_before,
                    )
                )
                samples += [elapsed for elapsed, _ in outcomes]
                failures += [failure for _, failure in outcomes if failure]
    report.add("site memory at rest, warm pool full (PSS, MB)", [at_rest_mb], unit="MB")
    report.add(
        "site memory, peak during the classroom bursts (PSS, MB)", [site_memory.peak_mb], unit="MB"
    )
    report.add(
        name,
        samples,
        failures=len(failures),
        failure_kinds=sorted(set(failures)),
        p95_ms=round(_p95(samples), 1),
        # Each burst on its own: a slower second burst means the pool had not refilled in the
        # 5 s between them.
        burst_p95_ms=[
            round(_p95(samples[start : start + pupils]), 1)
            for start in range(0, len(samples), pupils)
        ],
        peak_memory_mb=round(memory.peak_mb - memory.start_mb, 1),
        # Every core's busy time during each burst, and the web server's share of it, per Run
        # press: with every press at once the last answers come when the machine has done all
        # the burst's work, about (busy time) / (cores) after the presses.
        burst_busy_ms=[round(busy * 1000) for busy, _ in spent],
        burst_web_cpu_ms_per_press=[round(web * 1000 / pupils, 1) for _, web in spent],
        cores=os.cpu_count(),
    )
    report.check(name, "0 failures, p95 ≤ 500 ms", not failures and _p95(samples) <= 500)


def _machine_busy_seconds() -> float:
    """Time every core of the machine has spent not idle since it started (/proc/stat)."""
    with open("/proc/stat") as stat:
        ticks = [int(field) for field in stat.readline().split()[1:]]
    idle, iowait = ticks[3], ticks[4]
    # user, nice, system, idle, iowait, irq, softirq, steal (guest time is counted in user).
    # Steal, the time the host gave a core with work waiting to someone else, counts: it holds
    # the burst back as much as work does.
    return (sum(ticks[:8]) - idle - iowait) / os.sysconf("SC_CLK_TCK")


def bench_class_tasks(report: Report, workdir: str, pupils: int, **site: str) -> None:
    """Figure 4: `pupils` accounts each press Run on a widget that launches a background task,
    at the same moment; each task's wait from launched (queued) to started, by the consumer
    `./manage.sh serve` runs beside the web server."""
    from sqlalchemy import select

    from pyspace.extensions import db
    from pyspace.models import Run

    app = make_app(workdir, RUN_WALL_SECONDS=30)
    with app.app_context():
        owners = [make_user(f"tasker{number:02d}") for number in range(pupils)]
        widgets = [make_widget(owner, 0, title="Task", code=TASK_LAUNCH_RUN) for owner in owners]
    name = f"tasks for a class: {pupils} accounts launch a task at once, launched → started"
    with served_site(bench_config_of(app), **site) as base_url:
        visitors = _logged_in(base_url, "tasker", widgets)
        outcomes = _burst(visitors)
        failures = [failure for _, failure in outcomes if failure]
        deadline = time.monotonic() + 120
        with app.app_context():
            while True:
                db.session.expire_all()
                tasks = db.session.scalars(select(Run).where(Run.kind == "task")).all()
                if len(tasks) >= pupils - len(failures) and all(task.started_at for task in tasks):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("the class's tasks did not all start within 2 minutes")
                time.sleep(0.2)
            waits = [(task.started_at - task.created_at).total_seconds() * 1000 for task in tasks]
    report.add(name, waits, failures=len(failures), p95_ms=round(_p95(waits), 1))
    report.check(name, "all launched, p95 ≤ 2 s", not failures and _p95(waits) <= 2000)


def bench_page_while_runs_wait(report: Report, workdir: str, runs: int, **site: str) -> None:
    """A page load while `runs` one-second runs hold every run slot and wait in the queue: a
    visitor's page must not wait for them (it waited up to the whole burst when the runs held
    every database connection)."""
    app = make_app(workdir, RUN_WALL_SECONDS=30)
    with app.app_context():
        widgets = [
            make_widget(make_user(f"sleeper{number:02d}"), 0, title="Slow", code=SLOW_RUN)
            for number in range(runs)
        ]
    name = f"home page while {runs} one-second runs run and wait (HTTP)"
    with served_site(bench_config_of(app), **site) as base_url:
        visitors = _logged_in(base_url, "sleeper", widgets)
        pressing = threading.Thread(target=_burst, args=(visitors,))
        pressing.start()
        time.sleep(0.3)  # every run has arrived: some run, the rest wait for a slot
        anonymous = Visitor(base_url)
        samples = []
        for _ in range(10):
            (status, _), elapsed = timed(lambda: anonymous.get("/"))
            if status != 200:
                raise RuntimeError(f"the home page answered {status} while runs waited")
            samples.append(elapsed)
            time.sleep(0.05)
        pressing.join()
    report.add(name, samples)
    report.check(name, "< 100 ms (pages never wait behind runs)", max(samples) < 100)


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def bench_pages_over_http(
    report: Report, workdir: str, requests: int, clients: int = 30, **site: str
) -> None:
    """Figure 5: home, public page and editor under `clients` concurrent clients, against
    gunicorn serving a bare Flask hello with the same settings, rounds taking turns."""
    app = make_app(workdir)
    with app.app_context():
        owner = make_user("pages")
        widget_id = make_widget(owner, 10, title="Weather")
    processes: list = []
    with (
        served_site(bench_config_of(app), processes, **site) as base_url,
        _ServedHello() as hello,
    ):
        visitor = Visitor(base_url)
        visitor.log_in("pages")
        cookie = "; ".join(f"{c.name}={c.value}" for c in visitor.cookies)
        # Whose CPU a round counts: the gunicorn serving it (master and workers).
        site_server, hello_server = [processes[0].pid], [hello.process.pid]
        targets = {
            "bare Flask hello, 30 clients (HTTP)": (hello.url + "/", "", hello_server),
            "home page, 30 clients (HTTP)": (base_url + "/", "", site_server),
            "public widget page, 30 clients (HTTP)": (
                f"{base_url}/widgets/{widget_id}",
                "",
                site_server,
            ),
            "editor, 30 clients (HTTP)": (
                f"{base_url}/widgets/{widget_id}/edit",
                cookie,
                site_server,
            ),
        }
        results: dict[str, list[dict]] = {name: [] for name in targets}
        for number in range(3):
            for name, (url, cookie_header, server) in targets.items():
                count = requests if number else clients
                outcome = _load(url, count, clients, cookie_header, server)
                if number:
                    results[name].append(outcome)
    baseline = "bare Flask hello, 30 clients (HTTP)"
    p95s: dict[str, float] = {}
    for name, outcomes in results.items():
        latencies = sorted(ms for outcome in outcomes for ms in outcome["latencies_ms"])
        p95 = latencies[max(0, round(0.95 * len(latencies)) - 1)] if latencies else 0.0
        p95s[name] = p95
        report.add(
            name,
            [outcome["requests_per_second"] for outcome in outcomes],
            unit="req/s",
            baseline=None if name == baseline else baseline,
            p95_ms=round(p95, 1),
            median_ms=round(statistics.median(latencies), 1) if latencies else None,
            errors=sum(outcome["errors"] for outcome in outcomes),
            p95_vs_baseline=round(p95 / p95s[baseline], 2) if p95s[baseline] else None,
            # Where a round's time goes: the server's CPU and the load generator's, per request
            # (two cores serve at most 2 s / (both together) requests a second).
            server_cpu_ms=round(statistics.median(o["server_cpu_ms"] for o in outcomes), 2),
            client_cpu_ms=round(statistics.median(o["client_cpu_ms"] for o in outcomes), 2),
        )
        if name != baseline:
            floor = 0.3 if name.startswith("editor") else 0.5
            figure = report.figures[name]
            report.check(
                name,
                f"≥ {floor}× the hello's req/s, p95 ≤ 2× its p95",
                (figure.ratio or 0) >= floor and p95 <= 2 * p95s[baseline],
            )


def _load(url: str, requests: int, clients: int, cookie: str, server: list[int]) -> dict:
    """One round of `bench.load` against `url`, with the CPU the `server` processes and the
    load generator spent on it, per request."""
    # The load generator is a process of its own: it must not share this interpreter's GIL.
    command = [sys.executable, "-m", "bench.load", url, str(requests), str(clients), cookie]
    client_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before = tree_cpu_seconds(server)
    completed = subprocess.run(command, cwd=PROJECT, check=True, capture_output=True, text=True)
    server_seconds = tree_cpu_seconds(server) - server_before
    client_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    client_seconds = (client_after.ru_utime - client_before.ru_utime) + (
        client_after.ru_stime - client_before.ru_stime
    )
    outcome = json.loads(completed.stdout)
    answered = max(1, outcome["ok"] + outcome["errors"])
    outcome["server_cpu_ms"] = server_seconds * 1000 / answered
    outcome["client_cpu_ms"] = client_seconds * 1000 / answered
    return outcome


class _ServedHello:
    """gunicorn with the site's settings file serving a bare Flask hello (the pages' baseline)."""

    def __enter__(self) -> "_ServedHello":
        from .served import GUNICORN, free_port, wait_until_listening

        self.port = free_port()
        self.process = subprocess.Popen(
            [str(GUNICORN), "-c", "python:pyspace.gunicorn_config", "bench.baseline_apps:hello"],
            cwd=PROJECT,
            env={
                "PYSPACE_BIND": f"127.0.0.1:{self.port}",
                # The site's worker count, which follows its sandbox service (the hello never
                # connects to it).
                "PYSPACE_SANDBOX_SERVICE": "/nonexistent/sandbox.sock",
                "PATH": "/usr/bin:/bin",
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until_listening(self.port, self.process)
        self.url = f"http://127.0.0.1:{self.port}"
        return self

    def __exit__(self, *exc) -> None:
        from .served import stop

        stop(self.process)


def bench_over_http(report: Report, quick: bool) -> None:
    """All HTTP figures, each on its own throw-away database."""
    # The site as it ships (the warm pool sized to this machine), but for the smoke run, which
    # only checks that the figures can be taken: a pool of 4 fills in a second.
    site = {"RUN_POOL_SIZE": "4"} if quick else {}
    with tempfile.TemporaryDirectory(prefix="pyspace-http-") as workdir:
        bench_runs_over_http(report, str(Path(workdir) / "runs"), 3 if quick else 30, **site)
        bench_classroom(
            report, str(Path(workdir) / "class"), 4 if quick else 30, 1 if quick else 2, **site
        )
        bench_class_tasks(report, str(Path(workdir) / "tasks"), 4 if quick else 30, **site)
        bench_page_while_runs_wait(report, str(Path(workdir) / "busy"), 6 if quick else 20, **site)
        bench_pages_over_http(report, str(Path(workdir) / "pages"), 60 if quick else 1500, **site)
