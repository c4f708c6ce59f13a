"""Cluster DNS for Python processes the fake node runs (tests/fakecluster/controllers/container_runs.py).

A real pod resolves ``<svc>.<ns>.svc.cluster.local`` through CoreDNS to a Service VIP that kube-proxy
forwards to a backend. Here the node passes $FAKECLUSTER_SERVICES ({"host": "http://127.0.0.1:PORT"})
and this module, imported by ``site`` at interpreter start, answers ``socket.getaddrinfo`` for those
hosts (any port) with the local address and port. Every other name resolves normally.
"""

from __future__ import annotations

import json
import os
import socket
from urllib.parse import urlsplit

_SERVICES = {host: urlsplit(url) for host, url in json.loads(os.environ.get("FAKECLUSTER_SERVICES") or "{}").items()}
_real_getaddrinfo = socket.getaddrinfo


def _getaddrinfo(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
    name = host.decode() if isinstance(host, bytes) else host
    target = _SERVICES.get(str(name).rstrip(".")) if name else None
    if target is not None:
        return _real_getaddrinfo(target.hostname, target.port or 80, *args, **kwargs)
    return _real_getaddrinfo(host, port, *args, **kwargs)


if _SERVICES:
    socket.getaddrinfo = _getaddrinfo
