"""The runner's configuration, captured once per app from the settings declared in
`pyspace/config.py` (names `RUN_*`, `SANDBOX_*`, `ALLOW_UNSANDBOXED_RUNS`)."""

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..config import ConfigError
from .install import default_share_dir
from .network import parse_allow_list

PROJECT_DIR = Path(__file__).resolve().parents[2]

# The warm pool's default size. A class of 30 pressing Run together is the case it is sized for;
# the proportional set size of one idle pooled sandbox (bubblewrap, Python with the runtime and
# `requests` imported): 19 MB measured on Debian 12 (README, Performance), rounded up.
IDLE_SANDBOX_MB = 20
AUTO_SIZE_MIN, AUTO_SIZE_MAX = 2, 32
# The automatic size spends at most this share of the machine's memory on idle sandboxes.
AUTO_MEMORY_SHARE = 1 / 32
# The most Media one value may carry: base64 of it (4/3 larger) fits in one channel message.
MEDIA_BYTES_CEILING = 5 * 1024 * 1024


def auto_pool_size(memory_bytes: int | None = None) -> int:
    """The pool size RUN_POOL_SIZE defaults to on a machine with `memory_bytes` of memory."""
    if memory_bytes is None:
        memory_bytes = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    affordable = int(memory_bytes * AUTO_MEMORY_SHARE) // (IDLE_SANDBOX_MB * 1024 * 1024)
    return max(AUTO_SIZE_MIN, min(AUTO_SIZE_MAX, affordable))


@dataclass(frozen=True)
class Limits:
    """The limits every sandbox gets, pooled or not."""

    wall_seconds: float = 5.0
    cpu_seconds: int = 3
    memory_mb: int = 256
    max_processes: int = 8
    output_bytes: int = 256 * 1024
    scratch_mb: int = 16
    # Media bytes one portable value may carry (sandbox_runtime/anvil/_serialise.py).
    media_bytes: int = 4 * 1024 * 1024
    network: bool = True
    cpu_cores: float = 1.0
    # host:port entries a run may reach despite the network's rules (see network.py).
    network_allow: tuple[str, ...] = ()

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
    pool_size: int = 2
    max_concurrent: int = 4
    per_user_concurrent: int = 2
    queue_length: int = 32
    queue_seconds: float = 20.0
    packages_dir: str = str(PROJECT_DIR / ".sandbox" / "site-packages")
    allow_unsandboxed: bool = False
    runtime_dir: str = str(PROJECT_DIR / "sandbox_runtime")
    # Where the world-readable copy of the runtime and packages is made (see install.py).
    share_dir: str = field(default_factory=default_share_dir)
    preload_modules: tuple[str, ...] = ("requests",)


def settings_from_config(config) -> RunnerSettings:
    """Read the RUN_* keys (see the table above) from a Flask config."""
    limits = Limits(
        wall_seconds=float(config.get("RUN_WALL_SECONDS", Limits.wall_seconds)),
        cpu_seconds=max(1, int(config.get("RUN_CPU_SECONDS", Limits.cpu_seconds))),
        memory_mb=int(config.get("RUN_MEMORY_MB", Limits.memory_mb)),
        max_processes=int(config.get("RUN_MAX_PROCESSES", Limits.max_processes)),
        output_bytes=int(config.get("RUN_OUTPUT_BYTES", Limits.output_bytes)),
        scratch_mb=int(config.get("RUN_SCRATCH_MB", Limits.scratch_mb)),
        media_bytes=int(config.get("RUN_MEDIA_MAX_BYTES", Limits.media_bytes)),
        network=bool(config.get("RUN_NETWORK", Limits.network)),
        cpu_cores=float(config.get("RUN_CPU_CORES", Limits.cpu_cores)),
        network_allow=tuple(config.get("RUN_NETWORK_ALLOW") or ()),
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
        pool_size=_pool_size(config.get("RUN_POOL_SIZE")),
        max_concurrent=max(1, int(config.get("RUN_MAX_CONCURRENT", RunnerSettings.max_concurrent))),
        per_user_concurrent=max(
            1, int(config.get("RUN_PER_USER_CONCURRENT", RunnerSettings.per_user_concurrent))
        ),
        queue_length=max(0, int(config.get("RUN_QUEUE_LENGTH", RunnerSettings.queue_length))),
        queue_seconds=float(config.get("RUN_QUEUE_SECONDS", RunnerSettings.queue_seconds)),
        packages_dir=str(config.get("SANDBOX_PACKAGES_DIR") or RunnerSettings.packages_dir),
        allow_unsandboxed=bool(config.get("ALLOW_UNSANDBOXED_RUNS", False)),
        share_dir=str(config.get("SANDBOX_SHARE_DIR") or default_share_dir()),
        preload_modules=tuple(config.get("RUN_PRELOAD_MODULES", RunnerSettings.preload_modules)),
    )


def _pool_size(configured) -> int:
    """RUN_POOL_SIZE, or the size that suits this machine's memory when it is not set."""
    if configured is None:
        return auto_pool_size()
    return max(0, int(configured))
