"""Where the notifier may connect: public addresses only, unless explicitly allowed (SSRF).

A subscription URL is chosen by whoever holds an admin key; without this check the notifier
would POST (signed, with customer context) to loopback services, the private network, or a
cloud's metadata endpoint (169.254.169.254, Alibaba Cloud's 100.100.100.200). So a destination
must resolve only to global unicast addresses, unless its network or host name is on the
allow-list (`KESU_PUSH_ALLOWED_DESTINATIONS`, for on-premise receivers). It is checked when a
subscription is created and again at every connection: DNS may change between the two, so
the connection goes to the very address that was checked (the URL's host is kept for the Host
header and TLS: SNI and certificate checks), never to a second lookup's answer.

Behind an HTTP(S) proxy (HTTPS_PROXY) the proxy connects: the addresses are still checked
here, but the proxy's own lookup cannot be pinned.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

__all__ = [
    "DestinationRefused",
    "EgressPolicy",
    "GuardedTransport",
    "IPAddress",
    "refusal",
    "resolve",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]


class DestinationRefused(httpx.TransportError):
    """The destination resolves to an address the notifier must not call."""


def _public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


@dataclass(frozen=True)
class EgressPolicy:
    """Public addresses, plus the networks and host names explicitly allowed."""

    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    hosts: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, text: str) -> EgressPolicy:
        """From the setting: comma-separated CIDRs (`10.0.0.0/8`), addresses or host names."""
        networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        hosts: set[str] = set()
        for item in (part.strip() for part in text.split(",")):
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                hosts.add(item.lower().rstrip("."))
        return cls(tuple(networks), frozenset(hosts))

    def allows(self, host: str, address: IPAddress) -> bool:
        if host.lower().rstrip(".") in self.hosts:
            return True
        if any(address in network for network in self.networks):
            return True
        return _public(address)


#: A lookup that takes longer fails (an unknown name in a closed network can hang for long).
_RESOLVE_TIMEOUT_S = 10.0


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (an IP literal resolves to itself); OSError if it
    does not resolve within 10 s."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), _RESOLVE_TIMEOUT_S
        )
    except TimeoutError as exc:
        raise OSError(f"{host} did not resolve in time") from exc
    found: list[IPAddress] = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    return found


async def refusal(url: str, policy: EgressPolicy, resolver: Resolver = resolve) -> str | None:
    """Why `url` may not be a destination (Chinese, for the API's answer), or None."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        addresses = await resolver(host, parts.port or (443 if parts.scheme == "https" else 80))
    except OSError:
        return f"无法解析主机 {host}"
    bad = [a for a in addresses if not policy.allows(host, a)]
    if not addresses or bad:
        return (
            f"主机 {host} 指向内网、本机、链路本地或云元数据地址（{', '.join(map(str, bad))}），"
            "不允许推送；本地部署的接收方请加入 KESU_PUSH_ALLOWED_DESTINATIONS"
        )
    return None


def _env_proxies() -> dict[str, str]:
    return {k: v for k, v in urllib.request.getproxies().items() if k in ("http", "https")}


class GuardedTransport(httpx.AsyncBaseTransport):
    """Checks every connection's destination, then connects to the checked address."""

    def __init__(
        self,
        policy: EgressPolicy,
        *,
        limits: httpx.Limits,
        trust_env: bool = True,
        resolver: Resolver = resolve,
    ) -> None:
        self._policy = policy
        self._resolver = resolver
        self._direct = httpx.AsyncHTTPTransport(limits=limits)
        proxies = _env_proxies() if trust_env else {}
        self._proxies = {
            scheme: httpx.AsyncHTTPTransport(proxy=url, limits=limits)
            for scheme, url in proxies.items()
        }

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        port = request.url.port or (443 if request.url.scheme == "https" else 80)
        try:
            addresses = await self._resolver(host, port)
        except OSError as exc:
            raise httpx.ConnectError(f"cannot resolve {host}", request=request) from exc
        refused = [a for a in addresses if not self._policy.allows(host, a)]
        if not addresses or refused:
            raise DestinationRefused(f"{host} resolves to a non-public address", request=request)
        proxy = self._proxies.get(request.url.scheme)
        if proxy is not None and not urllib.request.proxy_bypass(host):
            return await proxy.handle_async_request(request)
        if not _is_literal(host):
            address = addresses[0]
            literal = f"[{address}]" if address.version == 6 else str(address)
            request.url = request.url.copy_with(host=literal.strip("[]"))
            request.extensions = {**request.extensions, "sni_hostname": host}
        return await self._direct.handle_async_request(request)

    async def aclose(self) -> None:
        await self._direct.aclose()
        for proxy in self._proxies.values():
            await proxy.aclose()


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
