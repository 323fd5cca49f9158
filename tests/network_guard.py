"""Pytest plugin: tests may only talk to loopback.

Installed at `pytest_configure` (so collection-time imports are covered too) and undone at
`pytest_unconfigure`. It patches the `socket` module and class, which every thread shares;
C libraries with their own sockets (libpq) and subprocesses are not covered. The error is a
RuntimeError, not an OSError, so code that retries or swallows network errors cannot hide it.
"""

import ipaddress
import os
import socket
from typing import Any, NoReturn

import pytest

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
# Servers bind to these; looking them up is not reaching out.
UNSPECIFIED = frozenset({"", "0.0.0.0", "::"})
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy")
_PATCH = pytest.StashKey[pytest.MonkeyPatch]()


class NetworkGuardError(RuntimeError):
    """A test tried to reach a host other than loopback."""


def is_loopback(host: str | bytes | None) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not host:
        return False
    name = host.strip("[]").split("%")[0].rstrip(".").lower()
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def _refuse(host: object, port: object) -> NoReturn:
    raise NetworkGuardError(f"test tried to reach {host}:{port}; tests may only use loopback")


def install() -> pytest.MonkeyPatch:
    """Guard the network now; `.undo()` on the result restores what was there."""
    patch = pytest.MonkeyPatch()
    real_getaddrinfo = socket.getaddrinfo
    real_gethostbyname = socket.gethostbyname
    real_gethostbyname_ex = socket.gethostbyname_ex
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_sendto = socket.socket.sendto

    def check(sock: socket.socket, address: Any) -> None:
        # Unix, netlink and other families carry no host; only IP needs checking.
        inet = sock.family in (socket.AF_INET, socket.AF_INET6)
        if inet and isinstance(address, tuple) and not is_loopback(address[0]):
            _refuse(address[0], address[1])

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and host not in UNSPECIFIED and not is_loopback(host):
            _refuse(host, port)
        return real_getaddrinfo(host, port, *args, **kwargs)

    def gethostbyname(host: str) -> str:
        if not is_loopback(host):
            _refuse(host, "dns")
        return real_gethostbyname(host)

    def gethostbyname_ex(host: str) -> tuple[str, list[str], list[str]]:
        if not is_loopback(host):
            _refuse(host, "dns")
        return real_gethostbyname_ex(host)

    def connect(self: socket.socket, address: Any) -> None:
        check(self, address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        check(self, address)
        return real_connect_ex(self, address)

    def sendto(self: socket.socket, data: Any, *args: Any) -> int:
        check(self, args[-1] if args else None)  # sendto(data, [flags,] address)
        return real_sendto(self, data, *args)

    patch.setattr(socket, "getaddrinfo", getaddrinfo)
    patch.setattr(socket, "gethostbyname", gethostbyname)
    patch.setattr(socket, "gethostbyname_ex", gethostbyname_ex)
    patch.setattr(socket.socket, "connect", connect)
    patch.setattr(socket.socket, "connect_ex", connect_ex)
    patch.setattr(socket.socket, "sendto", sendto)
    # A proxy on loopback would carry requests onward, and would swallow the fakes' traffic.
    for name in PROXY_VARIABLES:
        for variant in (name, name.upper()):
            if variant in os.environ:
                patch.delenv(variant)
    return patch


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_PATCH] = install()


def pytest_unconfigure(config: pytest.Config) -> None:
    if _PATCH in config.stash:
        config.stash[_PATCH].undo()
        del config.stash[_PATCH]
