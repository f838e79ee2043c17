"""The sandbox's syscall filter, built once per web process by libseccomp (see `seccomp_filter.py`
for what it denies), and handed to bubblewrap on a memory file each time a sandbox starts."""

import functools
import os
import subprocess
from pathlib import Path

PYTHON = "/usr/bin/python3"
GENERATOR = Path(__file__).with_name("seccomp_filter.py")


class SeccompUnavailableError(Exception):
    """The filter can't be built here; the message says why and how to fix it."""


@functools.cache
def filter_program() -> bytes:
    """The BPF program bubblewrap loads with `--seccomp` (built once, then cached)."""
    try:
        completed = subprocess.run(
            [PYTHON, "-I", str(GENERATOR)], check=False, capture_output=True, timeout=30, env={}
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SeccompUnavailableError(f"could not run {PYTHON} to build it: {error}") from None
    if completed.returncode != 0:
        detail = completed.stderr.decode("utf-8", "replace").strip().splitlines()
        if any("No module named 'seccomp'" in line for line in detail):
            raise SeccompUnavailableError(
                "libseccomp's Python bindings are missing: install Debian's python3-seccomp "
                "(./manage.sh serve does)."
            )
        raise SeccompUnavailableError(f"building it failed: {detail[-1] if detail else '?'}")
    if not completed.stdout or len(completed.stdout) % 8:
        raise SeccompUnavailableError("libseccomp produced no valid BPF program")
    return completed.stdout


def program_fd(program: bytes) -> int:
    """A file descriptor holding `program`, positioned at its start, for `--seccomp FD`.

    The caller passes it to bubblewrap and closes its own copy after starting it."""
    fd = os.memfd_create("pyspace-seccomp", os.MFD_CLOEXEC)
    try:
        os.write(fd, program)
        os.lseek(fd, 0, os.SEEK_SET)
    except OSError:
        os.close(fd)
        raise
    return fd
