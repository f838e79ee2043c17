"""The runner's configuration, read from the app config with safe defaults.

| key | default | meaning |
|---|---|---|
| RUN_WALL_SECONDS | 5 | a run is stopped after this many seconds |
| RUN_CPU_SECONDS | 3 | CPU time a run may use (RLIMIT_CPU) |
| RUN_MEMORY_MB | 256 | address space of each process in the sandbox (RLIMIT_AS) |
| RUN_MAX_PROCESSES | 8 | processes and threads in one sandbox, its init included (RLIMIT_NPROC) |
| RUN_OUTPUT_BYTES | 262144 | stdout + stderr kept; more stops the run, with a notice |
| RUN_SCRATCH_MB | 16 | size of each of the sandbox's discarded scratch mounts, /tmp and /dev/shm |
| RUN_NETWORK | True | widget code may use the network (off: loopback of its own only) |
| RUN_POOL_SIZE | 2 | warm sandboxes kept ready per web process (0 turns the pool off) |
| RUN_POOL_WARM_ON_START | False | fill the pool at start, not at the first Run (`serve` sets it) |
| RUN_MAX_CONCURRENT | 4 | runs at once per web process; more wait up to RUN_WALL_SECONDS |
| RUN_ANONYMOUS_RATE_LIMIT | "10 per minute" | runs per client address when not logged in |
| SANDBOX_PACKAGES_DIR | .sandbox/site-packages | widget code's packages (see scripts/) |
| ALLOW_UNSANDBOXED_RUNS | False | UNSAFE: where bubblewrap can't run, run code as a plain process |

Memory is limited per process, so one run can hold at most RUN_MEMORY_MB x RUN_MAX_PROCESSES
plus its two scratch mounts. For a hard ceiling on the whole site, run it in a cgroup (for
example a systemd service with MemoryMax=).
"""

from dataclasses import asdict, dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Limits:
    """The limits every sandbox gets, pooled or not."""

    wall_seconds: float = 5.0
    cpu_seconds: int = 3
    memory_mb: int = 256
    max_processes: int = 8
    output_bytes: int = 256 * 1024
    scratch_mb: int = 16
    network: bool = True

    def for_sandbox(self) -> dict:
        """The limits the sandbox applies to itself (the host enforces wall time and output)."""
        return {
            key: value
            for key, value in asdict(self).items()
            if key in ("cpu_seconds", "memory_mb", "max_processes", "scratch_mb")
        }


@dataclass(frozen=True)
class RunnerSettings:
    """Everything the runner needs from the config, captured once per app."""

    limits: Limits
    pool_size: int = 2
    max_concurrent: int = 4
    packages_dir: str = str(PROJECT_DIR / ".sandbox" / "site-packages")
    allow_unsandboxed: bool = False


def settings_from_config(config) -> RunnerSettings:
    """Read the RUN_* keys (see the table above) from a Flask config."""
    limits = Limits(
        wall_seconds=float(config.get("RUN_WALL_SECONDS", Limits.wall_seconds)),
        cpu_seconds=max(1, int(config.get("RUN_CPU_SECONDS", Limits.cpu_seconds))),
        memory_mb=int(config.get("RUN_MEMORY_MB", Limits.memory_mb)),
        max_processes=int(config.get("RUN_MAX_PROCESSES", Limits.max_processes)),
        output_bytes=int(config.get("RUN_OUTPUT_BYTES", Limits.output_bytes)),
        scratch_mb=int(config.get("RUN_SCRATCH_MB", Limits.scratch_mb)),
        network=bool(config.get("RUN_NETWORK", Limits.network)),
    )
    return RunnerSettings(
        limits=limits,
        pool_size=int(config.get("RUN_POOL_SIZE", RunnerSettings.pool_size)),
        max_concurrent=max(1, int(config.get("RUN_MAX_CONCURRENT", RunnerSettings.max_concurrent))),
        packages_dir=str(config.get("SANDBOX_PACKAGES_DIR") or RunnerSettings.packages_dir),
        allow_unsandboxed=bool(config.get("ALLOW_UNSANDBOXED_RUNS", False)),
    )
