"""A network of the run's own: outbound-only, through `pasta` (Debian's `passt` package).

bubblewrap gives every sandbox a fresh network namespace (never the host's). When the network is
on, the host then, before the sandbox is handed to a run:

1. loads a small nftables filter into that namespace (as root, from outside: the code inside
   has no capability over it) that rejects every packet to loopback-like, private, link-local,
   carrier-grade-NAT, multicast, NAT64, 6to4 and Teredo ranges, to the host's own addresses
   and to every subnet the host is connected to and its gateways (read from the kernel's
   routing table) — except the DNS forwarder and the operator's allow list
   (`RUN_NETWORK_ALLOW`);
2. attaches `pasta` to it: a user-mode TCP/IP stack that makes the sandbox's outbound
   connections from the host as ordinary sockets. It runs as `nobody` (started as nobody, in
   the foreground, with a parent-death signal: it dies with the thread that started it, as
   bubblewrap does with `--die-with-parent`, whatever kills this process) with
   `-t none -u none` (nothing listening in the run is reachable from outside),
   `--no-map-gw` (the gateway address is not the host's loopback), `-T/-U` only for the
   allow-listed loopback ports (so `127.0.0.1:8099` in the run is the host's `127.0.0.1:8099`
   and no other host port), and `--dns-forward` so name lookups reach the host's resolver
   without opening the resolver's (often private) address to the run.

The namespace dies with the sandbox, and `RunNetwork.close` kills its pasta. Helpers left by a
process that died before this was so are killed when the site starts (`sweep_leftover_helpers`):
each process's helpers are named in a folder it holds a lock on while it lives.
"""

import atexit
import contextlib
import fcntl
import functools
import glob
import ipaddress
import json
import logging
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass

# Where the run's resolver lives: pasta forwards DNS sent here to the host's resolver.
DNS_FORWARD_ADDRESS = "169.254.1.53"
# Destinations a run may never reach unless allow-listed (IPv4 and IPv6).
BLOCKED_RANGES = (
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",  # carrier-grade NAT (some clouds' metadata services live here)
    "127.0.0.0/8",
    "169.254.0.0/16",  # link-local: cloud metadata at 169.254.169.254
    "172.16.0.0/12",
    "192.168.0.0/16",
    "224.0.0.0/3",  # multicast and reserved
    "::1/128",
    "::/128",
    "::ffff:0:0/96",  # IPv4-mapped
    "fc00::/7",
    "fe80::/10",
    "ff00::/8",
    # IPv6 addresses that carry an IPv4 address a translator or relay forwards to, whatever
    # range it is in: NAT64 (well-known and local-use prefixes), 6to4 and Teredo.
    "64:ff9b::/96",
    "64:ff9b:1::/48",
    "2002::/16",
    "2001::/32",
)
# A route this wide is a default route in disguise (split routes of a VPN): not a subnet.
WIDEST_SUBNET = {4: 8, 6: 16}
NOBODY = 65534
SETPRIV = "/usr/bin/setpriv"
RUNTIME_DIR_PREFIX = "pyspace-net-"
OWNER_LOCK = "owner.lock"
# ioctl(2) on a namespace file: the user namespace that owns it (linux/nsfs.h).
NS_GET_USERNS = 0xB701
SETUP_TIMEOUT = 10.0


log = logging.getLogger(__name__)


class NetworkError(OSError):
    """The run's network could not be set up."""


@dataclass(frozen=True)
class Endpoint:
    """One `host:port` of the allow list."""

    address: str
    port: int

    @property
    def is_loopback(self) -> bool:
        return ipaddress.ip_address(self.address).is_loopback

    @property
    def version(self) -> int:
        return ipaddress.ip_address(self.address).version


def parse_allow_list(entries: list[str] | tuple[str, ...]) -> tuple[Endpoint, ...]:
    """`["127.0.0.1:8099", "[::1]:80", "10.0.0.5:5432"]` as endpoints; ValueError names a bad one.

    Hosts are IP addresses (the filter works on addresses, and a name could change under it);
    loopback entries must be 127.0.0.1 or ::1, the host's loopback that pasta forwards to."""
    endpoints = []
    for entry in entries:
        host, sep, port_text = entry.strip().rpartition(":")
        host = host.strip("[]")
        try:
            address = ipaddress.ip_address(host)
            port = int(port_text)
        except ValueError:
            raise ValueError(
                f"{entry!r} is not address:port (e.g. 127.0.0.1:8099, [::1]:8099, 10.0.0.5:5432)"
            ) from None
        if not sep or not 0 < port < 65536:
            raise ValueError(f"{entry!r} needs a port between 1 and 65535")
        if address.is_loopback and str(address) not in ("127.0.0.1", "::1"):
            raise ValueError(f"{entry!r}: loopback services are reached as 127.0.0.1 or ::1")
        endpoints.append(Endpoint(str(address), port))
    return tuple(endpoints)


@functools.cache
def host_addresses() -> tuple[str, ...]:
    """The host's own interface addresses (read once per process): a run must not reach a
    service listening on them, whatever range they are in."""
    try:
        listing = subprocess.run(
            ["ip", "-j", "addr", "show"], capture_output=True, timeout=5, check=True
        ).stdout
        interfaces = json.loads(listing)
    except (OSError, subprocess.SubprocessError, ValueError):
        return ()
    return tuple(
        info["local"]
        for interface in interfaces
        for info in interface.get("addr_info", [])
        if "local" in info and not ipaddress.ip_address(info["local"]).is_loopback
    )


@functools.cache
def host_networks() -> tuple[str, ...]:
    """The host's connected subnets and gateways, IPv4 and IPv6 (read once per process from
    the kernel's main routing table): a run must not reach the host's neighbours or routers,
    whatever range they are in."""
    routes: list[dict] = []
    for family in ("-4", "-6"):
        try:
            listing = subprocess.run(
                ["ip", "-j", family, "route", "show"], capture_output=True, timeout=5, check=True
            ).stdout
            routes += json.loads(listing)
        except (OSError, subprocess.SubprocessError, ValueError):
            continue
    return connected_networks(routes)


def connected_networks(routes: list[dict]) -> tuple[str, ...]:
    """From `ip -j route` entries: every gateway, and every subnet reached without one (a
    connected subnet), except loopback and routes as wide as a default route."""
    networks = []
    for route in routes:
        gateway, destination = route.get("gateway"), route.get("dst", "default")
        try:
            if gateway:
                networks.append(str(ipaddress.ip_address(gateway)))
            elif destination != "default" and route.get("type", "unicast") == "unicast":
                network = ipaddress.ip_network(destination, strict=False)
                wide = network.prefixlen < WIDEST_SUBNET[network.version]
                if not wide and not network.is_loopback:
                    networks.append(str(network))
        except ValueError:
            continue
    return tuple(dict.fromkeys(networks))


def firewall_rules(allow: tuple[Endpoint, ...], own_addresses: tuple[str, ...]) -> str:
    """The nftables ruleset loaded into a run's namespace; `own_addresses` are the host's
    (addresses, subnets and gateways) rejected besides BLOCKED_RANGES."""
    accepts = [
        f"ip daddr {DNS_FORWARD_ADDRESS} meta l4proto {{ tcp, udp }} th dport 53 accept",
    ]
    for endpoint in allow:
        if not endpoint.is_loopback:
            family = "ip" if endpoint.version == 4 else "ip6"
            accepts.append(
                f"{family} daddr {endpoint.address} meta l4proto {{ tcp, udp }} "
                f"th dport {endpoint.port} accept"
            )
    blocked = [ipaddress.ip_network(r, strict=False) for r in (*BLOCKED_RANGES, *own_addresses)]
    # One set per family without overlaps (nftables refuses overlapping intervals).
    v4 = ipaddress.collapse_addresses(n for n in blocked if isinstance(n, ipaddress.IPv4Network))
    v6 = ipaddress.collapse_addresses(n for n in blocked if isinstance(n, ipaddress.IPv6Network))
    reject = "reject with icmpx type admin-prohibited"
    lines = [
        "table inet pyspace {",
        "  chain output {",
        "    type filter hook output priority 0; policy accept;",
        # The run's own loopback (and pasta's forwarded allow-listed ports on it).
        '    oifname "lo" accept',
        *(f"    {rule}" for rule in accepts),
        f"    ip daddr {{ {', '.join(map(str, v4))} }} {reject}",
        f"    ip6 daddr {{ {', '.join(map(str, v6))} }} {reject}",
        "  }",
        "}",
    ]
    return "\n".join(lines) + "\n"


def _port_spec(allow: tuple[Endpoint, ...]) -> str:
    ports = sorted({endpoint.port for endpoint in allow if endpoint.is_loopback})
    return ",".join(str(port) for port in ports) or "none"


def pasta_command(allow: tuple[Endpoint, ...], userns: str, netns: str, pid_file: str) -> list[str]:
    """pasta attached to an existing namespace, forwarding nothing in and only the allow list's
    loopback ports out to the host's loopback; started as nobody, and killed when the thread
    that starts it ends (a parent-death signal set after the change of user, so it holds)."""
    loopback_ports = _port_spec(allow)
    as_nobody = [SETPRIV, "--reuid", str(NOBODY), "--regid", str(NOBODY), "--clear-groups"]
    return [
        *(as_nobody if os.geteuid() == 0 else [SETPRIV]),
        "--pdeathsig",
        "KILL",
        "--",
        shutil.which("pasta") or "pasta",
        "--quiet",
        "--foreground",
        "--userns",
        userns,
        "--netns",
        netns,
        "--config-net",
        "--tcp-ports",
        "none",
        "--udp-ports",
        "none",
        "--tcp-ns",
        loopback_ports,
        "--udp-ns",
        loopback_ports,
        "--no-map-gw",
        "--dns-forward",
        DNS_FORWARD_ADDRESS,
        "--pid",
        pid_file,
    ]


@functools.cache
def _runtime_dir() -> str:
    """A private folder of this process for resolv.conf and pasta's PID files (mode 0711:
    bubblewrap and pasta, running as nobody, reach files in it by name only). The process
    holds a lock on its `owner.lock` while it lives: a sweep that gets the lock knows the
    folder's pasta helpers have lost their owner."""
    path = tempfile.mkdtemp(prefix=RUNTIME_DIR_PREFIX)
    os.chmod(path, 0o711)
    # Locked under another name, then renamed: another process's sweep (a web server and its
    # queue consumer start together) never finds an owner.lock that isn't locked yet, which
    # it would take for a dead owner's and remove the folder with it.
    unlocked = os.path.join(path, OWNER_LOCK + ".new")
    lock = os.open(unlocked, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    fcntl.flock(lock, fcntl.LOCK_EX)
    os.rename(unlocked, os.path.join(path, OWNER_LOCK))
    _held_locks.append(lock)
    atexit.register(_remove_runtime_dir, path, os.getpid())
    return path


_held_locks: list[int] = []


def _owner_alive(folder: str, pid_file: str = "") -> bool:
    """Whether the process that made runtime folder `folder` still lives. A folder without a
    lock (made before folders had one) is judged by the owner's pid in a helper's `pid_file`
    name (`pasta-<sandbox>-<owner>.pid`)."""
    try:
        lock = os.open(os.path.join(folder, OWNER_LOCK), os.O_WRONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        owner = os.path.basename(pid_file).removesuffix(".pid").rpartition("-")[2]
        return not owner.isdigit() or os.path.exists(f"/proc/{owner}")
    except OSError:
        return True
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(lock)
    return False


def _helper_pid_file(pid: str, base: str) -> str | None:
    """The PID file named on process `pid`'s command line when it is one of our pasta helpers
    (`pasta ... --pid <base>/pyspace-net-…/pasta-….pid`), else None."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            argv = file.read().decode(errors="replace").split("\0")
    except OSError:
        return None
    if not argv or os.path.basename(argv[0]) != "pasta" or "--pid" not in argv[:-1]:
        return None
    pid_file = argv[argv.index("--pid") + 1]
    folder = os.path.dirname(pid_file)
    if os.path.dirname(folder) != base or not os.path.basename(folder).startswith(
        RUNTIME_DIR_PREFIX
    ):
        return None
    return pid_file


def sweep_leftover_helpers(base: str | None = None) -> int:
    """Kill the pasta helpers whose owning process is gone (killed before its helpers were tied
    to it), and remove dead owners' runtime folders under `base` (default: where this
    process makes its own); returns how many helpers were killed."""
    base = base or tempfile.gettempdir()
    killed = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        pid_file = _helper_pid_file(pid, base)
        if pid_file is None or _owner_alive(os.path.dirname(pid_file), pid_file):
            continue
        with contextlib.suppress(OSError):
            os.kill(int(pid), signal.SIGKILL)
            killed += 1
    for folder in glob.glob(os.path.join(base, RUNTIME_DIR_PREFIX + "*")):
        if os.path.exists(os.path.join(folder, OWNER_LOCK)) and not _owner_alive(folder):
            shutil.rmtree(folder, ignore_errors=True)
    if killed:
        log.warning("killed %d network helper(s) (pasta) left by a process that died", killed)
    return killed


def _remove_runtime_dir(path: str, owner_pid: int) -> None:
    # A forked child inherits the registration; only the process that made the folder removes it.
    if os.getpid() == owner_pid:
        shutil.rmtree(path, ignore_errors=True)


@functools.cache
def resolv_conf() -> str:
    """The resolv.conf a run sees: the DNS forwarder only."""
    path = os.path.join(_runtime_dir(), "resolv.conf")
    with open(path, "w") as file:
        file.write(f"nameserver {DNS_FORWARD_ADDRESS}\noptions timeout:2 attempts:2\n")
    os.chmod(path, 0o644)
    return path


@functools.cache
def network_problem() -> str | None:
    """Why runs can't get a network of their own here, or None when they can (checked once)."""
    for tool, package in (("pasta", "passt"), ("nft", "nftables"), ("nsenter", "util-linux")):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (Debian package '{package}')."
    if os.geteuid() != 0:
        return "a run's own network needs the server to start as root (to load its filter)."
    if not os.access("/dev/net/tun", os.R_OK | os.W_OK):
        return "/dev/net/tun is missing."
    mode = os.stat("/dev/net/tun").st_mode & 0o777
    if mode & 0o006 != 0o006:
        return (
            f"/dev/net/tun is mode {mode:o}: pasta (running as nobody) can't open it. "
            "Debian's default is 0666 (`chmod 0666 /dev/net/tun`)."
        )
    return None


class RunNetwork:
    """The pasta process serving one run's namespace (a child of this process)."""

    def __init__(self, process: subprocess.Popen):
        self.process = process

    def close(self) -> None:
        """Stop pasta (its namespace goes with the sandbox) and reap it."""
        if self.process.returncode is not None:
            return
        with contextlib.suppress(OSError):
            self.process.kill()
        self.process.wait()


def read_child_pid(info_fd: int, timeout: float = SETUP_TIMEOUT) -> int:
    """The sandbox's PID 1, from bubblewrap's `--info-fd` JSON (then closes `info_fd`)."""
    data = b""
    try:
        while True:
            ready, _, _ = select.select([info_fd], [], [], timeout)
            if not ready:
                raise NetworkError("bubblewrap did not report its sandbox in time")
            chunk = os.read(info_fd, 4096)
            if not chunk:
                break
            data += chunk
    finally:
        os.close(info_fd)
    try:
        return int(json.loads(data)["child-pid"])
    except (ValueError, KeyError, TypeError):
        raise NetworkError("bubblewrap exited before its sandbox started") from None


def _wait_for_pid_file(pid_file: str, pasta: subprocess.Popen) -> bool:
    """Wait until pasta wrote its PID (it has configured the namespace: True), or exited or
    took longer than SETUP_TIMEOUT (False)."""
    deadline = time.monotonic() + SETUP_TIMEOUT
    pause = 0.001
    while time.monotonic() < deadline and pasta.poll() is None:
        if os.path.getsize(pid_file) > 0:
            return True
        time.sleep(pause)
        pause = min(0.02, pause * 2)
    return False


def attach_network(sandbox_pid: int, allow: tuple[Endpoint, ...]) -> RunNetwork:
    """Load the filter into the namespace of `sandbox_pid` and attach pasta to it."""
    netns = os.open(f"/proc/{sandbox_pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    userns = -1
    pid_file = os.path.join(_runtime_dir(), f"pasta-{sandbox_pid}-{os.getpid()}.pid")
    try:
        # bubblewrap nests a second user namespace for the run's uid: pasta must join the one
        # that owns the network namespace, which the namespace itself tells us.
        userns = fcntl.ioctl(netns, NS_GET_USERNS)
        firewall = subprocess.run(
            ["nsenter", f"--net=/proc/self/fd/{netns}", "nft", "-f", "-"],
            input=firewall_rules(allow, host_addresses() + host_networks()).encode(),
            check=False,
            capture_output=True,
            pass_fds=(netns,),
            timeout=SETUP_TIMEOUT,
        )
        if firewall.returncode != 0:
            raise NetworkError(f"nft: {firewall.stderr.decode(errors='replace').strip()[:300]}")
        # pasta writes its PID after dropping to nobody: the file must already be nobody's.
        os.close(os.open(pid_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
        os.chown(pid_file, NOBODY, NOBODY)
        with tempfile.TemporaryFile() as errors:
            pasta = subprocess.Popen(
                pasta_command(allow, f"/proc/self/fd/{userns}", f"/proc/self/fd/{netns}", pid_file),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=errors,
                pass_fds=(netns, userns),
                env={"PATH": "/usr/bin:/bin"},
                start_new_session=True,
            )
            network = RunNetwork(pasta)
            if not _wait_for_pid_file(pid_file, pasta):
                network.close()
                errors.seek(0)
                detail = errors.read().decode(errors="replace").strip().splitlines()
                raise NetworkError(f"pasta: {detail[-1] if detail else pasta.returncode}")
        return network
    except (subprocess.SubprocessError, ValueError) as error:
        raise NetworkError(f"the run's network could not be set up: {error}") from error
    finally:
        os.close(netns)
        if userns >= 0:
            os.close(userns)
        with contextlib.suppress(OSError):
            os.unlink(pid_file)
