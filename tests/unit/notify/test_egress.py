"""Where the notifier may connect (SSRF): the address table and the creation-time check."""

from __future__ import annotations

import ipaddress

import pytest

from notify.egress import EgressPolicy, IPAddress, refusal

DEFAULT = EgressPolicy()


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("127.0.0.1", False),  # loopback
        ("::1", False),
        ("10.1.2.3", False),  # private
        ("172.16.0.9", False),
        ("192.168.1.1", False),
        ("fd00::1", False),  # unique local
        ("169.254.169.254", False),  # link-local: AWS, GCP, Azure, Tencent metadata
        ("fe80::1", False),
        ("100.100.100.200", False),  # shared address space: Alibaba Cloud's metadata
        ("::ffff:127.0.0.1", False),  # IPv4-mapped loopback
        ("::ffff:169.254.169.254", False),
        ("0.0.0.0", False),  # noqa: S104 - the value under test
        ("224.0.0.1", False),  # multicast
    ],
)
def test_only_public_addresses_by_default(address: str, allowed: bool) -> None:
    assert DEFAULT.allows("host", ipaddress.ip_address(address)) is allowed


def test_the_allow_list_takes_networks_and_host_names() -> None:
    policy = EgressPolicy.parse(" 10.20.0.0/16, hooks.corp.local. ,127.0.0.1")
    assert policy.allows("x", ipaddress.ip_address("10.20.3.4"))
    assert not policy.allows("x", ipaddress.ip_address("10.21.0.1"))
    assert policy.allows("HOOKS.corp.local", ipaddress.ip_address("192.168.9.9"))
    assert policy.allows("x", ipaddress.ip_address("127.0.0.1"))
    assert not policy.allows("x", ipaddress.ip_address("127.0.0.2"))
    assert EgressPolicy.parse("") == DEFAULT


def _resolver(*addresses: str):  # type: ignore[no-untyped-def]
    async def resolve(host: str, port: int) -> list[IPAddress]:
        if not addresses:
            raise OSError("no such host")
        return [ipaddress.ip_address(a) for a in addresses]

    return resolve


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("answers", "refused"),
    [
        (("8.8.4.4",), False),
        (("203.0.113.7",), True),  # a documentation range is reserved, not global
        (("8.8.4.4", "10.0.0.5"), True),  # one private answer is enough to refuse
        ((), True),  # does not resolve
    ],
)
async def test_a_url_is_refused_if_any_address_is_not_allowed(
    answers: tuple[str, ...], refused: bool
) -> None:
    problem = await refusal("https://oapi.example.com/robot/send", DEFAULT, _resolver(*answers))
    assert (problem is not None) is refused
    if problem:
        assert "oapi.example.com" in problem


@pytest.mark.asyncio
async def test_an_ip_literal_is_checked_without_dns() -> None:
    assert await refusal("http://169.254.169.254/latest/meta-data/", DEFAULT) is not None
    assert await refusal("http://[::1]:8080/x", DEFAULT) is not None
