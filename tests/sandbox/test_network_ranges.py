"""The run's filter rejects the host's connected subnets and gateways (read from the kernel's
routing table), NAT64, 6to4 and Teredo addresses — unless allow-listed. Checked on the generated
rules: no test sends traffic to a non-loopback address."""

import ipaddress
import json
import re
import subprocess

import pytest

from pyspace.sandbox.network import (
    connected_networks,
    firewall_rules,
    host_addresses,
    host_networks,
    network_problem,
    parse_allow_list,
)

# What `ip -j route` says on a host at 192.0.2.2/24 behind 192.0.2.1, with IPv6 and a VPN
# that splits the default route in two.
ROUTES = [
    {"dst": "default", "gateway": "192.0.2.1", "dev": "eth0", "flags": []},
    {"dst": "192.0.2.0/24", "dev": "eth0", "protocol": "kernel", "scope": "link"},
    {"dst": "198.51.100.7", "dev": "eth1", "scope": "link"},
    {"dst": "0.0.0.0/1", "dev": "wg0", "scope": "link"},
    {"dst": "127.0.0.0/8", "dev": "lo"},
    {"dst": "10.9.0.0/16", "gateway": "192.0.2.254", "dev": "eth0"},
    {"dst": "2001:db8:1::/64", "dev": "eth0", "protocol": "kernel"},
    {"dst": "default", "gateway": "fe80::1", "dev": "eth0"},
    {"dst": "2001:db8:2::/48", "type": "unreachable", "dev": "lo"},
]


def _rejected(rules: str, address: str) -> bool:
    """Whether `rules` reject packets to `address` (before any accept for it, no port)."""
    target = ipaddress.ip_address(address)
    for family, members in re.findall(r"(ip6?) daddr \{ ([^}]*) \} reject", rules):
        if (family == "ip") == (target.version == 4):
            ranges = [ipaddress.ip_network(m.strip(), strict=False) for m in members.split(",")]
            if any(target in network for network in ranges):
                return True
    return False


def test_connected_subnets_and_gateways_are_read_from_the_routing_table():
    assert connected_networks(ROUTES) == (
        "192.0.2.1",
        "192.0.2.0/24",
        "198.51.100.7/32",
        "192.0.2.254",
        "2001:db8:1::/64",
        "fe80::1",
    )


@pytest.mark.parametrize(
    "address",
    [
        "192.0.2.77",  # a neighbour on the host's subnet
        "192.0.2.1",  # the default gateway
        "192.0.2.254",  # another router
        "198.51.100.7",  # a host route
        "2001:db8:1::5",  # a neighbour on the IPv6 subnet
        "64:ff9b::c000:201",  # NAT64 of the gateway
        "64:ff9b::a9fe:a9fe",  # NAT64 of the metadata service
        "64:ff9b:1::a00:1",  # local-use NAT64 of 10.0.0.1
        "2002:c000:201::1",  # 6to4 of the gateway
        "2001:0:4136:e378::1",  # Teredo
        "::ffff:192.0.2.1",  # IPv4-mapped
    ],
)
def test_the_hosts_subnets_gateways_and_tunnelled_ipv4_are_rejected(address):
    rules = firewall_rules((), ("192.0.2.2", *connected_networks(ROUTES)))
    assert _rejected(rules, address)


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700::1111"])
def test_public_addresses_stay_reachable(address):
    rules = firewall_rules((), ("192.0.2.2", *connected_networks(ROUTES)))
    assert not _rejected(rules, address)


def test_an_allow_listed_service_on_the_hosts_subnet_is_accepted_before_the_subnet_is_rejected():
    rules = firewall_rules(
        parse_allow_list(["192.0.2.1:53", "[2001:db8:1::5]:443"]), connected_networks(ROUTES)
    )
    accept_v4 = rules.index("ip daddr 192.0.2.1 meta l4proto { tcp, udp } th dport 53 accept")
    accept_v6 = rules.index("ip6 daddr 2001:db8:1::5 meta l4proto { tcp, udp } th dport 443 accept")
    reject = rules.index("reject")
    assert accept_v4 < reject and accept_v6 < reject


@pytest.mark.skipif(network_problem() is not None, reason=f"{network_problem()}")
def test_this_hosts_own_routes_are_in_a_filter_nftables_accepts():
    rules = firewall_rules((), host_addresses() + host_networks())
    listing = subprocess.run(
        ["ip", "-j", "route", "show"], check=True, capture_output=True, text=True
    ).stdout
    for route in json.loads(listing):
        if route.get("gateway"):
            assert _rejected(rules, route["gateway"]), route
        elif route.get("dst", "default") != "default" and route.get("scope") == "link":
            network = ipaddress.ip_network(route["dst"], strict=False)
            if network.prefixlen >= 8:
                assert _rejected(rules, str(network[-1])), route
    # Overlapping ranges are merged: nftables accepts the set (checked, never loaded, in a
    # network namespace of the test's own).
    checked = subprocess.run(
        ["unshare", "--net", "nft", "-c", "-f", "-"],
        check=False,
        input=rules,
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr
