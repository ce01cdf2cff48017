"""Test hosts on a real network: Linux network namespaces joined by veth pairs to a bridge.

Each :class:`Host` is a network namespace with one interface (``eth0``) whose peer is a
port of a bridge in the root namespace; the bridge holds an address too, so the test
process (in the root namespace) reaches every host, and every host reaches every other,
over real TCP through the kernel, not loopback. :meth:`Host.cut` takes the bridge-side
port down: from then on both directions drop every packet silently, while each end's
sockets stay open (half-open TCP), as when a cable or a switch between machines fails.

Names carry the creating process's id, so concurrent runs never collide, and
:func:`sweep` removes what a run killed outright (SIGKILL, no finalizer) left behind.
Needs root and iproute2; :func:`unavailable` says why not where it cannot run.
"""

from __future__ import annotations

import ipaddress
import os
import random
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

PREFIX = "qhn"  # namespaces: qhn<pid>-<host>; bridge qhb<pid>; bridge-side ports qhv<pid>-<n>


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check, timeout=30)


def unavailable() -> str | None:
    """Why network namespaces cannot be made here, or None if they can (tried for real)."""
    if shutil.which("ip") is None:
        return "iproute2 (`ip`) is not installed"
    if os.geteuid() != 0:
        return "creating network namespaces needs root"
    probe = f"{PREFIX}{os.getpid()}-probe"
    made = _ip("netns", "add", probe, check=False)
    if made.returncode != 0:
        return f"`ip netns add` fails here: {made.stderr.strip()}"
    _ip("netns", "del", probe, check=False)
    return None


#: Set in CI (``.ci/run``): where namespaces cannot be made, tests that need them fail, not skip.
REQUIRED = "QHARBOR_REQUIRE_NETNS"


def require(also: str | None = None) -> None:
    """Skip the calling test, saying why, where namespaces cannot be made (or ``also``, another
    missing need, is given); fail it instead where :data:`REQUIRED` is set."""
    import pytest

    reason = unavailable() or also
    if reason:
        if os.environ.get(REQUIRED):
            pytest.fail(f"network namespaces are required here ({REQUIRED}) but cannot be used: {reason}")
        pytest.skip(f"needs network namespaces: {reason}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kill_inside(namespace: str) -> None:
    """SIGKILL every process in ``namespace`` (deleting its name alone would leave them running)."""
    pids = _ip("netns", "pids", namespace, check=False).stdout.split()
    for pid in pids:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


def _left(pid: int) -> bool:
    """Whether what process ``pid`` named is left over: it is gone, or it is this process
    (one network at a time per process; an earlier one's process id may have come back)."""
    return pid == os.getpid() or not _alive(pid)


def sweep() -> None:
    """Remove namespaces, bridges and ports left by runs whose process is gone."""
    for line in _ip("netns", "list", check=False).stdout.splitlines():
        found = re.match(rf"{PREFIX}(\d+)-\S+", line)
        if found and _left(int(found.group(1))):
            _kill_inside(found.group(0))
            _ip("netns", "del", found.group(0), check=False)
    for line in _ip("-o", "link", "show", check=False).stdout.splitlines():
        found = re.search(r"^\d+: (qh[bv](\d+)(?:-\d+)?)[@:]", line)
        if found and _left(int(found.group(2))):
            _ip("link", "del", found.group(1), check=False)


def _free_subnet() -> ipaddress.IPv4Network:
    """A /24 in 10.0.0.0/8 that no route here overlaps."""
    taken = [ipaddress.ip_network(word, strict=False)
             for word in _ip("-4", "route", "show", "table", "all", check=False).stdout.split()
             if re.fullmatch(r"\d+\.\d+\.\d+\.\d+(/\d+)?", word)]
    for _ in range(200):
        net = ipaddress.ip_network(f"10.{random.randint(64, 250)}.{random.randint(0, 255)}.0/24")
        if not any(net.overlaps(t) for t in taken):
            return net
    raise RuntimeError("no free 10.x.y.0/24 subnet for the test network")


class Host:
    """A network namespace with one address on the bridge; commands run inside it."""

    def __init__(self, network: Network, name: str, index: int) -> None:
        self.name = name
        self.namespace = f"{PREFIX}{os.getpid()}-{name}"
        self.port = f"qhv{os.getpid()}-{index}"  # the bridge-side end of its veth pair
        self.ip = str(network.subnet.network_address + index + 1)
        _ip("netns", "add", self.namespace)
        _ip("link", "add", self.port, "type", "veth", "peer", "name", "eth0", "netns", self.namespace)
        _ip("link", "set", self.port, "master", network.bridge, "up")
        _ip("-n", self.namespace, "addr", "add", f"{self.ip}/{network.subnet.prefixlen}", "dev", "eth0")
        _ip("-n", self.namespace, "link", "set", "eth0", "up")
        _ip("-n", self.namespace, "link", "set", "lo", "up")

    def command(self, argv: list[str]) -> list[str]:
        """``argv`` as run inside this host (``ip netns exec`` execs it: same process id)."""
        return ["ip", "netns", "exec", self.namespace, *argv]

    def run(self, argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("timeout", 120)
        return subprocess.run(self.command(argv), text=True, **kwargs)

    def popen(self, argv: list[str], log: Path | None = None, env: dict[str, str] | None = None,
              **kwargs: Any) -> subprocess.Popen[bytes]:
        """Start ``argv`` inside this host in its own session, output appended to ``log``, with
        ``env`` as its environment (default: this process's)."""
        out = subprocess.DEVNULL if log is None else log.open("ab")
        try:
            return subprocess.Popen(self.command(argv), stdout=out, stderr=subprocess.STDOUT,
                                    env=env, start_new_session=True, **kwargs)
        finally:
            if log is not None:
                out.close()  # type: ignore[union-attr]

    def cut(self) -> None:
        """Cut this host off: every packet either way is dropped, open connections stay open."""
        _ip("link", "set", self.port, "down")

    def restore(self) -> None:
        _ip("link", "set", self.port, "up")

    def remove(self) -> None:
        _kill_inside(self.namespace)
        _ip("netns", "del", self.namespace, check=False)
        _ip("link", "del", self.port, check=False)


class Network:
    """A bridge with an address in the root namespace, and the hosts attached to it."""

    def __init__(self) -> None:
        sweep()  # what runs killed outright left, and this process's earlier networks
        self.subnet = _free_subnet()
        self.bridge = f"qhb{os.getpid()}"
        self.gateway = str(self.subnet.network_address + 1)  # the root namespace's address
        self.hosts: list[Host] = []
        _ip("link", "add", self.bridge, "type", "bridge")
        try:
            _ip("addr", "add", f"{self.gateway}/{self.subnet.prefixlen}", "dev", self.bridge)
            _ip("link", "set", self.bridge, "up")
        except subprocess.CalledProcessError:
            self.close()
            raise

    def host(self, name: str) -> Host:
        """A new host on this network (its address: the next in the subnet)."""
        made = Host(self, name, len(self.hosts) + 1)
        self.hosts.append(made)
        return made

    def close(self) -> None:
        """Remove every host (killing what runs there) and the bridge; safe to call twice."""
        for host in self.hosts:
            host.remove()
        self.hosts.clear()
        _ip("link", "del", self.bridge, check=False)


def wait_port(ip: str, port: int, timeout: float = 60) -> None:
    """Until something accepts TCP connections at ``ip:port``."""
    import socket

    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection((ip, port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
