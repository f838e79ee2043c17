"""systemd units for a site that starts on boot: the sandbox service, the web server and the
queue consumer, run by a dedicated system user, the instance in /var/lib/pyspace.
`./manage.sh install-service` writes them with `flask site service-units` and enables them.

`Delegate=yes` hands each service its cgroup subtree, so every run gets a cgroup of its own
(its memory, process and CPU limits); `Restart=on-failure` brings a crashed server back. The web
server and the consumer lease their sandboxes from the sandbox service, so they start after it
is listening and restart with it."""

from dataclasses import dataclass
from pathlib import Path

SANDBOX_UNIT = "pyspace-sandbox.service"
WEB_UNIT = "pyspace-web.service"
WORKER_UNIT = "pyspace-worker.service"


@dataclass(frozen=True)
class ServicePlan:
    checkout: Path
    venv: Path
    user: str = "pyspace"
    instance: Path = Path("/var/lib/pyspace")
    bind: str = "127.0.0.1:5000"
    env_file: Path = Path("/etc/pyspace.env")


def _common(plan: ServicePlan) -> str:
    return f"""User={plan.user}
Group={plan.user}
WorkingDirectory={plan.checkout}
Environment=PYSPACE_INSTANCE_PATH={plan.instance}
Environment=PROMETHEUS_MULTIPROC_DIR={plan.instance}/metrics
Environment=PYSPACE_SANDBOX_SERVICE={plan.instance}/sandbox.sock
# Settings (PYSPACE_*, DATABASE_URL) go in this file; a typo stops the start with its name.
EnvironmentFile=-{plan.env_file}
UMask=0077
Delegate=yes
Restart=on-failure
RestartSec=5
"""


def sandbox_unit(plan: ServicePlan) -> str:
    flask = plan.venv / "bin" / "flask"
    return f"""[Unit]
Description=py.space sandbox service (the warm pool and the fair queues)
Documentation=file://{plan.checkout}/README.md
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
{_common(plan)}ExecStartPre=/bin/mkdir -p {plan.instance}/metrics
ExecStartPre={flask} --app app sandbox check
ExecStart={flask} --app app sandbox serve
# The units that lease sandboxes start once the socket is there.
ExecStartPost=/bin/sh -c 'until [ -S "$PYSPACE_SANDBOX_SERVICE" ]; do sleep 0.1; done'
KillMode=mixed
TimeoutStopSec=30

[Install]
WantedBy=multi-user.target
"""


def web_unit(plan: ServicePlan) -> str:
    flask = plan.venv / "bin" / "flask"
    return f"""[Unit]
Description=py.space web server
Documentation=file://{plan.checkout}/README.md
After=network-online.target {SANDBOX_UNIT}
Wants=network-online.target
BindsTo={SANDBOX_UNIT}

[Service]
Type=simple
{_common(plan)}Environment=PYSPACE_BIND={plan.bind}
ExecStartPre=/bin/mkdir -p {plan.instance}/metrics
ExecStartPre={flask} --app app db upgrade
ExecStart={plan.venv}/bin/gunicorn -c python:pyspace.gunicorn_config app:app
KillMode=mixed
TimeoutStopSec=30

[Install]
WantedBy=multi-user.target
"""


def worker_unit(plan: ServicePlan) -> str:
    return f"""[Unit]
Description=py.space queue consumer (background and scheduled tasks)
After=network-online.target {WEB_UNIT} {SANDBOX_UNIT}
Wants=network-online.target
BindsTo={SANDBOX_UNIT}

[Service]
Type=simple
{_common(plan)}ExecStart={plan.venv}/bin/flask --app app tasks consumer
KillMode=mixed
TimeoutStopSec=30

[Install]
WantedBy=multi-user.target
"""


def write_units(plan: ServicePlan, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    units = (
        (SANDBOX_UNIT, sandbox_unit(plan)),
        (WEB_UNIT, web_unit(plan)),
        (WORKER_UNIT, worker_unit(plan)),
    )
    for name, text in units:
        path = folder / name
        path.write_text(text)
        path.chmod(0o644)
        written.append(path)
    return written
