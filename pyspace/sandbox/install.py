"""A copy of the sandbox's files that the sandbox's user can read, wherever the checkout lives.

As root, sandboxes run as uid 65534, which can't read a checkout in a private directory (say
`/root/pyspace`, mode 0700). So the runtime (`sandbox_runtime/`) and the sandbox packages are
served from a root-owned, world-readable copy: `/var/lib/pyspace/sandbox/<content hash>/` for
root, `~/.cache/pyspace/sandbox/<content hash>/` for anyone else (whose sandboxes run as
themselves). A change to either makes a new copy (a new hash); copies unused for a week go.

`flask sandbox check` (run by `./manage.sh serve`) makes the copy and checks that
a real sandbox starts, and stops with the cause and the fix when it doesn't.
"""

import contextlib
import functools
import hashlib
import os
import shutil
import stat
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT_SHARE_DIR = "/var/lib/pyspace/sandbox"
KEEP_UNUSED_SECONDS = 7 * 24 * 3600
COMPLETE_MARKER = ".complete"


class InstallError(Exception):
    """The copy can't be made or read; the message says why and how to fix it."""


@dataclass(frozen=True)
class SharedFiles:
    """Where a sandbox mounts its runtime and its packages from."""

    runtime_dir: str
    packages_dir: str


def default_share_dir() -> str:
    """Where copies go when SANDBOX_SHARE_DIR is not set."""
    if os.geteuid() == 0:
        return ROOT_SHARE_DIR
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "pyspace", "sandbox")


def content_hash(*directories: Path) -> str:
    """A hash of the names and contents of every file under `directories`."""
    digest = hashlib.sha256()
    for index, directory in enumerate(directories):
        digest.update(f"\0root{index}\0".encode())
        if not directory.is_dir():
            continue
        for path in sorted(directory.rglob("*")):
            if "__pycache__" in path.parts or not path.is_file():
                continue
            digest.update(str(path.relative_to(directory)).encode() + b"\0")
            digest.update(path.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()[:20]


@functools.cache
def shared_files(runtime_dir: str, packages_dir: str, share_dir: str) -> SharedFiles:
    """The world-readable copy of `runtime_dir` and `packages_dir` (made when missing)."""
    runtime, packages = Path(runtime_dir), Path(packages_dir)
    if not runtime.is_dir():
        raise InstallError(f"the sandbox runtime {runtime} is missing: is the checkout complete?")
    share = Path(share_dir)
    target = share / content_hash(runtime, packages)
    if not (target / COMPLETE_MARKER).exists():
        _make_copy(runtime, packages, share, target)
    else:
        os.utime(target)  # recently used: keep
    _check_reachable(target)
    _remove_old_copies(share, keep=target)
    return SharedFiles(str(target / "runtime"), str(target / "site-packages"))


def _make_copy(runtime: Path, packages: Path, share: Path, target: Path) -> None:
    try:
        _make_public_dirs(share)
        staging = Path(tempfile.mkdtemp(prefix=".new-", dir=share))
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        shutil.copytree(runtime, staging / "runtime", ignore=ignore)
        if packages.is_dir():
            shutil.copytree(packages, staging / "site-packages", ignore=ignore, symlinks=True)
        (staging / COMPLETE_MARKER).touch()
        _make_public(staging)
        try:
            staging.rename(target)
        except OSError:
            # Another process made the same copy first: use theirs.
            shutil.rmtree(staging, ignore_errors=True)
            if not (target / COMPLETE_MARKER).exists():
                raise
    except OSError as error:
        raise InstallError(
            f"could not copy the sandbox's files to {share}: {error}. Set "
            "PYSPACE_SANDBOX_SHARE_DIR to a directory this user may write and every user may read."
        ) from None


def _make_public_dirs(directory: Path) -> None:
    # The server may run with umask 077 (instance/ must stay private): set modes explicitly.
    missing = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for path in reversed(missing):
        path.mkdir()
        path.chmod(0o755)


def _make_public(top: Path) -> None:
    """Everyone may read, nobody else may write (like `chmod -R a+rX,go-w`)."""
    for path in [top, *top.rglob("*")]:
        if path.is_symlink():
            continue
        mode = path.stat().st_mode
        executable = path.is_dir() or mode & stat.S_IXUSR
        path.chmod(0o755 if executable else 0o644)


def _check_reachable(target: Path) -> None:
    """Every directory above the copy must let other users through (uid 65534 reads it)."""
    if os.geteuid() != 0:
        return  # sandboxes run as this user, who made the copy
    for directory in [target, *target.parents]:
        mode = directory.stat().st_mode
        if not mode & stat.S_IXOTH:
            raise InstallError(
                f"the sandbox user (uid 65534) can't reach {target}: {directory} has mode "
                f"{stat.S_IMODE(mode):o}. Run `chmod o+x {directory}` or set "
                "PYSPACE_SANDBOX_SHARE_DIR to a directory every user can reach "
                f"(the default is {ROOT_SHARE_DIR})."
            )


def _remove_old_copies(share: Path, keep: Path) -> None:
    cutoff = time.time() - KEEP_UNUSED_SECONDS
    for copy in share.iterdir():
        if copy == keep:
            continue
        with contextlib.suppress(OSError):
            if copy.stat().st_mtime < cutoff:
                shutil.rmtree(copy)
