"""Who is calling: X-Forwarded-For believed only from a trusted proxy."""

from __future__ import annotations

import pytest

from app.net import client_address, parse_networks

PROXIES = parse_networks("10.0.0.1, 10.1.0.0/16")


def test_without_trusted_proxies_the_peer_is_the_client_whatever_the_header_says():
    assert client_address("127.0.0.1", "203.0.113.5", []) == "127.0.0.1"


def test_a_header_from_an_untrusted_peer_is_ignored():
    assert client_address("198.51.100.7", "203.0.113.5", PROXIES) == "198.51.100.7"


def test_behind_a_trusted_proxy_the_nearest_untrusted_hop_is_the_client():
    # The client may send its own X-Forwarded-For; only what our proxies appended is believed.
    assert client_address("10.0.0.1", "1.1.1.1, 203.0.113.5", PROXIES) == "203.0.113.5"
    assert client_address("10.0.0.1", "203.0.113.5, 10.1.2.3", PROXIES) == "203.0.113.5"


def test_a_garbled_header_behind_a_trusted_proxy_falls_back_to_the_proxy():
    assert client_address("10.0.0.1", "not-an-ip", PROXIES) == "10.0.0.1"


def test_no_peer_is_unknown():
    assert client_address(None, None, PROXIES) == "unknown"


def test_a_proxy_setting_that_is_not_an_address_is_refused_naming_it():
    with pytest.raises(ValueError, match="nope"):
        parse_networks("10.0.0.1, nope")


def test_hops_written_with_a_port_are_understood():
    assert client_address("10.0.0.1", "203.0.113.5:41234", PROXIES) == "203.0.113.5"
    assert client_address("10.0.0.1", "[2001:db8::7]:443", PROXIES) == "2001:db8::7"
    assert client_address("10.0.0.1", "2001:db8::8", PROXIES) == "2001:db8::8"
