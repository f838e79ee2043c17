"""A run's network is its own and outbound-only: the internet yes; the host's loopback (the app),
private and link-local ranges, the host's own addresses, and listening to the outside no — except
the services an operator allow-lists. Two runs never share a network namespace."""

import http.server
import os
import socket
import subprocess
import threading
import time

import pytest
from werkzeug.serving import make_server

from pyspace.config import ConfigError
from pyspace.extensions import db
from pyspace.models import Widget
from pyspace.sandbox import runner_for
from pyspace.sandbox.network import (
    DNS_FORWARD_ADDRESS,
    firewall_rules,
    host_addresses,
    network_problem,
    parse_allow_list,
)
from pyspace.sandbox.settings import settings_from_config
from tests.sandbox.helpers import SMALL_LIMITS

needs_own_network = pytest.mark.skipif(
    network_problem() is not None, reason=f"no network of a run's own here: {network_problem()}"
)

# Tries to connect to each (host, port) and prints one line per attempt.
CONNECT_CODE = """
import errno, socket, time
for host, port in {targets!r}:
    started = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=3):
            print(host, port, 'CONNECTED')
    except OSError as error:
        code = errno.errorcode.get(error.errno, type(error).__name__)
        print(host, port, 'refused', code, round(time.monotonic() - started, 1))
"""


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"hello from a local service"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _serve(address: str, port: int = 0) -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer((address, port), _Hello)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def allowed_service(app_config):
    """A loopback service on the allow list."""
    server = _serve("127.0.0.1")
    # 5 s: a fresh namespace's IPv6 address takes a moment to become usable.
    allow = [f"127.0.0.1:{server.server_port}"]
    app_config.update(SMALL_LIMITS, RUN_WALL_SECONDS=5, RUN_NETWORK_ALLOW=allow)
    yield server.server_port
    server.shutdown()


@pytest.fixture
def unlisted_service():
    """A loopback service that is NOT on the allow list."""
    server = _serve("127.0.0.1")
    yield server.server_port
    server.shutdown()


@pytest.fixture
def owner_id(make_user):
    return make_user("mallory")


@pytest.fixture
def run_code(app, owner_id):
    """Run `code` as a new widget's server code (cold sandbox); returns the RunResult."""

    def run(code: str):
        with app.app_context():
            widget = Widget(owner_id=owner_id, title="net", server_code=code)
            db.session.add(widget)
            db.session.commit()
            return runner_for(app).run(widget.id, code, owner_id)

    return run


def _lines(result) -> dict[str, str]:
    assert result.ok, result.error
    return {" ".join(line.split()[:2]): line for line in result.stdout.splitlines()}


@needs_own_network
def test_allow_listed_loopback_service_works_and_other_loopback_ports_do_not(
    allowed_service, unlisted_service, run_code
):
    code = CONNECT_CODE.format(
        targets=[("127.0.0.1", allowed_service), ("127.0.0.1", unlisted_service)]
    )
    lines = _lines(run_code(code))
    assert lines[f"127.0.0.1 {allowed_service}"].endswith("CONNECTED")
    assert "refused ECONNREFUSED" in lines[f"127.0.0.1 {unlisted_service}"]


@needs_own_network
def test_the_app_on_loopback_is_out_of_reach(allowed_service, app, run_code):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        code = (
            "import urllib.request\n"
            "try:\n"
            f"    urllib.request.urlopen('http://127.0.0.1:{server.server_port}/', timeout=2)\n"
            "    print('REACHED THE APP')\n"
            "except OSError as error:\n"
            "    print('refused', error)\n"
        )
        result = run_code(code)
    finally:
        server.shutdown()
    assert result.ok, result.error
    assert result.stdout.startswith("refused") and "Connection refused" in result.stdout


@needs_own_network
def test_private_link_local_and_metadata_addresses_are_rejected_at_once(allowed_service, run_code):
    targets = [
        ("10.0.0.1", 80),
        ("172.16.0.1", 80),
        ("192.168.1.1", 80),
        ("169.254.169.254", 80),
        ("100.100.100.200", 80),
        ("fd00::1", 80),
        ("fe80::1%eth0", 80),
    ]
    lines = _lines(run_code(CONNECT_CODE.format(targets=targets)))
    for host, port in targets:
        line = lines[f"{host} {port}"]
        assert "CONNECTED" not in line
        # Refused by the run's filter ("administratively prohibited"), well before the 3 s
        # timeout: never handed on to pasta and out to the host's network.
        if host.startswith("fe80"):
            # The kernel can't route the reject's ICMPv6 back for a link-local address, so
            # the filter's verdict shows up as a drop.
            continue
        assert line.split()[3] in ("EACCES", "EHOSTUNREACH"), line
        assert float(line.split()[-1]) < 2, line


@needs_own_network
def test_a_service_on_the_hosts_own_address_is_out_of_reach(allowed_service, run_code):
    addresses = [a for a in host_addresses() if ":" not in a]
    if not addresses:
        pytest.skip("this host has no IPv4 address besides loopback")
    server = _serve("0.0.0.0")
    try:
        targets = [(address, server.server_port) for address in addresses]
        lines = _lines(run_code(CONNECT_CODE.format(targets=targets)))
    finally:
        server.shutdown()
    for address in addresses:
        assert "refused" in lines[f"{address} {server.server_port}"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@needs_own_network
def test_a_socket_listening_in_the_run_is_not_reachable_from_the_host(allowed_service, run_code):
    port = _free_port()
    code = f"""
import socket, time
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(('0.0.0.0', {port}))
server.listen()
server.settimeout(1.5)
try:
    server.accept()
    print('SOMEONE CAME IN')
except TimeoutError:
    print('listened, nobody came')
"""
    attempts: list[str] = []

    def knock() -> None:
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            for address in ("127.0.0.1", *host_addresses()):
                try:
                    with socket.create_connection((address, port), timeout=0.2):
                        attempts.append(f"connected to {address}")
                except OSError:
                    pass
            time.sleep(0.05)

    knocker = threading.Thread(target=knock)
    knocker.start()
    result = run_code(code)
    knocker.join()
    assert result.ok, result.error
    assert result.stdout == "listened, nobody came\n"
    assert attempts == []


@needs_own_network
def test_two_concurrent_runs_cannot_meet_on_an_abstract_socket(allowed_service, app, run_code):
    name = f"pyspace-meet-{os.getpid()}"
    listener = f"""
import socket
server = socket.socket(socket.AF_UNIX)
server.bind('\\0{name}')
server.listen()
server.settimeout(1.5)
try:
    server.accept()
    print('MET')
except TimeoutError:
    print('alone')
"""
    caller = f"""
import socket, time
time.sleep(0.4)
client = socket.socket(socket.AF_UNIX)
try:
    client.connect('\\0{name}')
    print('MET')
except OSError as error:
    print('nobody there', type(error).__name__)
"""
    results = {}
    first = threading.Thread(target=lambda: results.update(listener=run_code(listener)))
    first.start()
    time.sleep(0.2)
    results["caller"] = run_code(caller)
    first.join()
    assert results["listener"].stdout == "alone\n", results["listener"].error
    assert results["caller"].stdout == "nobody there ConnectionRefusedError\n"


@needs_own_network
def test_names_resolve_through_the_forwarder_only(allowed_service, run_code):
    try:
        socket.getaddrinfo("deb.debian.org", 80)
    except OSError:
        pytest.skip("the host itself can't resolve names here")
    code = (
        "import socket\n"
        "print(open('/etc/resolv.conf').read().split()[:2])\n"
        "print(bool(socket.getaddrinfo('deb.debian.org', 80)))\n"
    )
    result = run_code(code)
    assert result.ok, result.error
    assert result.stdout == f"['nameserver', '{DNS_FORWARD_ADDRESS}']\nTrue\n"


HTTP_SERVER = ["python3", "-m", "http.server", "--bind", "198.51.100.1", "8080"]


@pytest.fixture
def public_test_host():
    """A web server on 198.51.100.1 (TEST-NET-2) in a network namespace of this test's own,
    routed from the host: what "the internet" looks like on a machine without one."""
    if os.geteuid() != 0:
        pytest.skip("creating a test network namespace needs root")
    tag = f"{os.getpid() % 100000}"
    namespace, outside, inside = f"pyspace-inet-{tag}", f"psi{tag}h", f"psi{tag}n"
    steps = [
        ["ip", "netns", "add", namespace],
        ["ip", "link", "add", outside, "type", "veth", "peer", "name", inside],
        ["ip", "link", "set", inside, "netns", namespace],
        ["ip", "addr", "add", "198.51.100.2/30", "dev", outside],
        ["ip", "link", "set", outside, "up"],
        ["ip", "-n", namespace, "addr", "add", "198.51.100.1/30", "dev", inside],
        ["ip", "-n", namespace, "link", "set", inside, "up"],
        ["ip", "-n", namespace, "link", "set", "lo", "up"],
    ]
    server = None
    try:
        for step in steps:
            subprocess.run(step, check=True, capture_output=True, timeout=10)
        server = subprocess.Popen(
            ["ip", "netns", "exec", namespace, *HTTP_SERVER],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("198.51.100.1", 8080), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield "http://198.51.100.1:8080/"
    except subprocess.CalledProcessError as error:
        pytest.skip(f"could not create a test network namespace: {error.stderr.decode()}")
    finally:
        if server is not None:
            server.kill()
            server.wait()
        for cleanup in (["ip", "link", "del", outside], ["ip", "netns", "del", namespace]):
            subprocess.run(cleanup, check=False, capture_output=True, timeout=10)


FETCH_CODE = """
import urllib.request
try:
    print(urllib.request.urlopen({url!r}, timeout=3).status)
except OSError as error:
    print('no network:', type(error).__name__)
"""


@needs_own_network
def test_a_public_address_is_reached(allowed_service, public_test_host, run_code):
    result = run_code(FETCH_CODE.format(url=public_test_host))
    assert result.ok, result.error
    assert result.stdout == "200\n"


@pytest.fixture
def network_off(app_config):
    app_config["RUN_NETWORK"] = False


def test_network_switched_off_reaches_nothing_not_even_allow_listed(
    allowed_service, public_test_host, network_off, run_code
):
    for url in (public_test_host, f"http://127.0.0.1:{allowed_service}/"):
        result = run_code(FETCH_CODE.format(url=url))
        assert result.stdout.startswith("no network:"), result.stdout


def test_allow_list_entries_are_parsed_strictly():
    assert [(e.address, e.port) for e in parse_allow_list(["127.0.0.1:8099", "[::1]:80"])] == [
        ("127.0.0.1", 8099),
        ("::1", 80),
    ]
    for bad in ("localhost:8099", "10.0.0.5", "10.0.0.5:0", "127.0.0.2:80", "db.internal:5432"):
        with pytest.raises(ValueError):
            parse_allow_list([bad])
    with pytest.raises(ConfigError, match="PYSPACE_RUN_NETWORK_ALLOW"):
        settings_from_config({"RUN_NETWORK_ALLOW": ["example.com:80"]})


def test_filter_accepts_allow_listed_private_services_before_rejecting_their_range():
    rules = firewall_rules(parse_allow_list(["10.0.0.5:5432"]), ("192.0.2.2",))
    accept = rules.index("ip daddr 10.0.0.5 meta l4proto { tcp, udp } th dport 5432 accept")
    reject = rules.index("10.0.0.0/8")
    assert accept < reject
    assert "192.0.2.2" in rules[reject:]
