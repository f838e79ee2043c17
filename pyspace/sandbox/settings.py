"""The runner's configuration, captured once per app from the settings declared in
`pyspace/config.py` (names `RUN_*`, `SANDBOX_*`, `ALLOW_UNSANDBOXED_RUNS`). Their defaults are
declared there only: a config without a setting (a test's partial one) gets that default."""

import os
from dataclasses import asdict, dataclass
from pathlib import Path

from ..config import SETTINGS_BY_NAME, ConfigError
from . import cgroups
from .install import default_share_dir
from .network import parse_allow_list

PROJECT_DIR = Path(__file__).resolve().parents[2]
# Where SANDBOX_PACKAGES_DIR points when it is not set.
DEFAULT_PACKAGES_DIR = PROJECT_DIR / ".sandbox" / "site-packages"
RUNTIME_DIR = PROJECT_DIR / "sandbox_runtime"

# The warm pool's default size. A class of 30 pressing Run together, each run launching a
# background task, is the case it is sized for (60 sandboxes taken within a second or two);
# the proportional set size of one idle pooled sandbox with its helpers (bubblewrap, pasta, Python
# with the runtime and `requests` imported): about 49 MB measured on Debian 12 (`python -m bench
# --only http`, the site at rest less its web and consumer processes, per sandbox), rounded up.
IDLE_SANDBOX_MB = 50
AUTO_SIZE_MIN, AUTO_SIZE_MAX = 2, 64
# The automatic size spends at most this share of the machine's memory on the idle sandboxes of
# the one pool a machine keeps (the sandbox service's): what the web server's pool and the
# consumer's together were allowed (1/16 each) before the service kept the only one.
AUTO_MEMORY_SHARE = 1 / 8
# The most Media one value may carry: base64 of it (4/3 larger) fits in one channel message.
MEDIA_BYTES_CEILING = 5 * 1024 * 1024


def auto_pool_size(memory_bytes: int | None = None) -> int:
    """The pool size RUN_POOL_SIZE defaults to on a machine with `memory_bytes` of memory."""
    if memory_bytes is None:
        memory_bytes = usable_memory_bytes()
    affordable = int(memory_bytes * AUTO_MEMORY_SHARE) // (IDLE_SANDBOX_MB * 1024 * 1024)
    return max(AUTO_SIZE_MIN, min(AUTO_SIZE_MAX, affordable))


def usable_memory_bytes() -> int:
    """The machine's memory, or less where this process's cgroup sets a lower ceiling (a
    container or a systemd unit limited to 2 GB on a larger host)."""
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    ceiling = cgroups.memory_ceiling()
    return physical if ceiling is None else min(physical, ceiling)


@dataclass(frozen=True)
class Limits:
    """The limits every sandbox gets, pooled or not."""

    wall_seconds: float
    cpu_seconds: int
    memory_mb: int
    max_processes: int
    output_bytes: int
    scratch_mb: int
    # Media bytes one portable value may carry (sandbox_runtime/anvil/_serialise.py).
    media_bytes: int
    network: bool
    cpu_cores: float
    # host:port entries a run may reach despite the network's rules (see network.py).
    network_allow: tuple[str, ...]

    def for_sandbox(self) -> dict:
        """The limits the sandbox applies to itself (the host enforces wall time and output)."""
        return {
            key: value
            for key, value in asdict(self).items()
            if key in ("cpu_seconds", "memory_mb", "max_processes", "scratch_mb", "media_bytes")
        }


@dataclass(frozen=True)
class RunnerSettings:
    """Everything the runner needs from the config, captured once per app."""

    limits: Limits
    pool_size: int
    max_concurrent: int
    per_user_concurrent: int
    queue_length: int
    queue_seconds: float
    packages_dir: str
    allow_unsandboxed: bool
    # Where the world-readable copy of the runtime and packages is made (see install.py).
    share_dir: str
    runtime_dir: str = str(RUNTIME_DIR)
    # Imported by every warm sandbox before it waits for a run.
    preload_modules: tuple[str, ...] = ("requests",)


def settings_from_config(config) -> RunnerSettings:
    """Read the RUN_*, SANDBOX_* and ALLOW_UNSANDBOXED_RUNS settings from a Flask config."""

    def setting(name: str):
        return config.get(name, SETTINGS_BY_NAME[name].default)

    limits = Limits(
        wall_seconds=float(setting("RUN_WALL_SECONDS")),
        cpu_seconds=max(1, int(setting("RUN_CPU_SECONDS"))),
        memory_mb=int(setting("RUN_MEMORY_MB")),
        max_processes=int(setting("RUN_MAX_PROCESSES")),
        output_bytes=int(setting("RUN_OUTPUT_BYTES")),
        scratch_mb=int(setting("RUN_SCRATCH_MB")),
        media_bytes=int(setting("RUN_MEDIA_MAX_BYTES")),
        network=bool(setting("RUN_NETWORK")),
        cpu_cores=float(setting("RUN_CPU_CORES")),
        network_allow=tuple(setting("RUN_NETWORK_ALLOW") or ()),
    )
    if not 0 < limits.media_bytes <= MEDIA_BYTES_CEILING:
        # Media crosses base64-encoded inside one channel message (bwrap.MAX_FRAME_BYTES).
        raise ConfigError(
            f"PYSPACE_RUN_MEDIA_MAX_BYTES must be between 1 and {MEDIA_BYTES_CEILING} bytes."
        )
    try:
        parse_allow_list(limits.network_allow)
    except ValueError as error:
        raise ConfigError(f"PYSPACE_RUN_NETWORK_ALLOW: {error}") from None
    return RunnerSettings(
        limits=limits,
        pool_size=_pool_size(setting("RUN_POOL_SIZE")),
        max_concurrent=max(1, int(setting("RUN_MAX_CONCURRENT"))),
        per_user_concurrent=max(1, int(setting("RUN_PER_USER_CONCURRENT"))),
        queue_length=max(0, int(setting("RUN_QUEUE_LENGTH"))),
        queue_seconds=float(setting("RUN_QUEUE_SECONDS")),
        packages_dir=str(setting("SANDBOX_PACKAGES_DIR") or DEFAULT_PACKAGES_DIR),
        allow_unsandboxed=bool(setting("ALLOW_UNSANDBOXED_RUNS")),
        share_dir=str(setting("SANDBOX_SHARE_DIR") or default_share_dir()),
    )


def _pool_size(configured) -> int:
    """RUN_POOL_SIZE, or the size that suits this machine's memory when it is not set."""
    if configured is None:
        return auto_pool_size()
    return max(0, int(configured))
