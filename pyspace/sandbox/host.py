"""What this machine gives every sandbox, found once per web process: the readable copy of the
runtime and packages (`install.py`), the seccomp filter (`seccomp.py`), the cgroup hierarchy
(`cgroups.py`) — and whether a real sandbox starts with all of them, or the cause and the fix
when it doesn't."""

import functools
import logging
import os
import re
import shutil
from dataclasses import dataclass

from . import cgroups, install, seccomp
from .cgroups import CgroupManager
from .settings import RunnerSettings

log = logging.getLogger(__name__)

CGROUPS_WARNING = (
    "no writable cgroup hierarchy (cgroup v2 with delegation, or v1 memory and pids "
    "controllers): runs have per-process limits only. A run's memory files (memfd), its "
    "processes together and its CPU share are not capped. Run py.space as root or give its "
    "service a delegated cgroup (systemd: Delegate=yes)."
)


@dataclass(frozen=True)
class SandboxHost:
    """Everything a sandbox on this machine is started with, besides its limits."""

    runtime_dir: str
    packages_dir: str
    seccomp_program: bytes
    cgroups: CgroupManager | None
    cgroups_warning: str = CGROUPS_WARNING

    def describe(self) -> str:
        confinement = self.cgroups.describe() if self.cgroups else "NO cgroup (see warning)"
        return (
            f"bubblewrap with seccomp and no user namespaces, {confinement}, "
            f"runtime from {os.path.dirname(self.runtime_dir)}"
        )


@functools.cache
def prepare_host(runtime_dir: str, packages_dir: str, share_dir: str) -> SandboxHost:
    """The host side of sandboxes here; raises HostProblemError with the cause and the fix."""
    if not os.path.exists(seccomp.PYTHON):
        raise HostProblemError(f"{seccomp.PYTHON} is missing: install Debian's python3.")
    if shutil.which("bwrap") is None:
        raise HostProblemError("bubblewrap is not installed: install Debian's bubblewrap.")
    try:
        files = install.shared_files(runtime_dir, packages_dir, share_dir)
    except install.InstallError as error:
        raise HostProblemError(str(error)) from None
    try:
        program = seccomp.filter_program()
    except seccomp.SeccompUnavailableError as error:
        raise HostProblemError(f"the sandbox's syscall filter can't be built: {error}") from None
    manager = cgroups.detect()
    if manager is None:
        log.warning("py.space sandboxes: %s", CGROUPS_WARNING)
    return SandboxHost(files.runtime_dir, files.packages_dir, program, manager)


def host_for(settings: RunnerSettings) -> SandboxHost:
    """`prepare_host` for an app's settings."""
    return prepare_host(
        settings.runtime_dir, settings.packages_dir, os.path.abspath(settings.share_dir)
    )


class HostProblemError(Exception):
    """Sandboxes can't be started here; the message gives the cause and the fix."""


# What bubblewrap says, and what it means here.
_DIAGNOSES = (
    (
        re.compile(r"unrecognized option '--(disable-userns|seccomp)'|Unknown option"),
        "this bubblewrap is too old for --disable-userns (it needs 0.8.0 or newer, "
        "Debian 12's version): upgrade the bubblewrap package.",
    ),
    (
        re.compile(
            r"No permissions to creat|Creating new namespace failed|setting up uid map|"
            r"unprivileged user namespaces|user namespace"
        ),
        "the kernel refuses to create the sandbox's user namespace. Allow unprivileged "
        "user namespaces: `sysctl -w kernel.unprivileged_userns_clone=1` (Debian), "
        "`sysctl -w user.max_user_namespaces=15000`, or on Ubuntu 24.04+ "
        "`sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`; inside a container, "
        "run it with user namespaces allowed.",
    ),
    (
        re.compile(r"(?P<path>/\S+): (?:Permission denied|No such file or directory)"),
        "the sandbox's user (uid 65534) can't read {path}, which it mounts. Set "
        "PYSPACE_SANDBOX_SHARE_DIR to a directory every user can read and restart.",
    ),
    (
        re.compile(r"seccomp", re.IGNORECASE),
        "bubblewrap could not load the seccomp filter: is seccomp enabled in this kernel "
        "(CONFIG_SECCOMP_FILTER)?",
    ),
)


def diagnose(stderr: str, returncode: int | None) -> str:
    """The cause and fix for a sandbox that didn't start, from what bubblewrap printed."""
    detail = stderr.strip()[:300] or f"exit status {returncode}"
    for pattern, advice in _DIAGNOSES:
        match = pattern.search(stderr)
        if match:
            return f"{advice.format(**match.groupdict())} (bubblewrap said: {detail})"
    return f"bubblewrap could not start a sandbox here: {detail}"
