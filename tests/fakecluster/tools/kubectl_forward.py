"""The relay half of the fake ``kubectl port-forward``: listeners, per-connection relays, lifetime.

Behaviour copied from kubectl v1.37: ``--address localhost`` (the default) listens on 127.0.0.1 and
[::1] and fails only if both fail; explicit addresses must all bind. A local port given as ``:REMOTE``
is chosen by the first bind and reused for the other addresses. Each accepted connection prints
"Handling connection for LOCAL". If the pod port cannot be reached (no registered target, or the
target refuses) kubectl logs the forwarding error and exits 1 with "error: lost connection to pod";
so does the pod disappearing. SIGINT exits 0; SIGTERM is left to the default action, like Go.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import socket
import sys
import threading
import urllib.parse
from typing import Any

from .common import Api, ApiFailure

POLL_SECONDS = 0.5


def _say(text: str, stream: Any = None) -> None:
    target = stream or sys.stdout
    target.write(text + "\n")
    target.flush()


def _klog_error(message: str) -> None:
    now = dt.datetime.now()
    _say(f"E{now:%m%d %H:%M:%S.%f}   {os.getpid():>5} portforward.go:424] \"Unhandled Error\" err=\"{message}\"",
         sys.stderr)


class Forwarder:
    def __init__(self, api: Api, namespace: str, pod: dict[str, Any], ports: list[tuple[str, int]],
                 addresses: list[str]) -> None:
        self.api = api
        self.namespace = namespace
        self.pod = pod
        self.pod_name = pod["metadata"]["name"]
        self.ports = ports
        self.addresses = addresses
        self.listeners: list[socket.socket] = []
        self.lost = threading.Event()
        self.stopping = threading.Event()

    # -- listeners ----------------------------------------------------------------------------------
    def _families(self) -> list[tuple[str, int, str]]:
        """(host, family, failure mode) per requested address; 'all' entries may fail as long as one binds."""
        out = []
        for address in self.addresses:
            if address == "localhost":
                out += [("127.0.0.1", socket.AF_INET, "all"), ("::1", socket.AF_INET6, "all")]
            else:
                out.append((address, socket.AF_INET6 if ":" in address else socket.AF_INET, "any"))
        return out

    def _listen(self, local: str, remote: int) -> None:
        port = int(local) if local else 0
        errors, ok = [], {"all": 0, "any": 0}
        failed = {"all": 0, "any": 0}
        for host, family, mode in self._families():
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # Go's net.Listen does the same
            try:
                if family == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                sock.bind((host, port))
                sock.listen(64)
            except OSError as exc:
                sock.close()
                net = "tcp6" if family == socket.AF_INET6 else "tcp4"
                shown = f"[{host}]" if family == socket.AF_INET6 else host
                reason = "address already in use" if exc.errno == 98 else (exc.strerror or str(exc)).lower()
                errors.append(f"unable to create listener: Error listen {net} {shown}:{port}: bind: {reason}")
                failed[mode] += 1
                continue
            port = sock.getsockname()[1]
            ok[mode] += 1
            self.listeners.append(sock)
            shown = f"[{host}]" if family == socket.AF_INET6 else host
            _say(f"Forwarding from {shown}:{port} -> {remote}")
            threading.Thread(target=self._accept, args=(sock, port, remote), daemon=True).start()
        if (ok["all"] == 0 and failed["all"] > 0) or failed["any"] > 0:
            _say(f"Unable to listen on port {local or port}: Listeners failed to create with the following "
                 f"errors: [{' '.join(errors)}]", sys.stderr)
            raise OSError(f"{{{local or port} {remote}}}")

    # -- connections --------------------------------------------------------------------------------
    def _accept(self, sock: socket.socket, local: int, remote: int) -> None:
        while not self.stopping.is_set():
            try:
                client, _ = sock.accept()
            except OSError:
                return
            _say(f"Handling connection for {local}")
            threading.Thread(target=self._relay, args=(client, local, remote), daemon=True).start()

    def _target(self, remote: int) -> tuple[str, int]:
        answer = self.api.get(f"/_fake/pods/{self.namespace}/{self.pod_name}/ports/{remote}")
        parsed = urllib.parse.urlsplit(answer["target"])
        return parsed.hostname or "127.0.0.1", parsed.port or 80

    def _relay(self, client: socket.socket, local: int, remote: int) -> None:
        try:
            host, port = self._target(remote)
            upstream = socket.create_connection((host, port), timeout=5)
            upstream.settimeout(None)
            for conn in (client, upstream):  # Go's net package (kubectl) sets TCP_NODELAY on every TCP conn
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except (ApiFailure, OSError):
            uid = self.pod["metadata"].get("uid", "")
            _klog_error(f"an error occurred forwarding {local} -> {remote}: error forwarding port {remote} to pod "
                        f"{uid}, uid : failed to execute portforward in network namespace: failed to connect to "
                        f"localhost:{remote} inside namespace, IPv4: dial tcp4 127.0.0.1:{remote}: connect: "
                        f"connection refused IPv6 dial tcp6 [::1]:{remote}: connect: connection refused ")
            client.close()
            self.lost.set()
            return
        pump = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
        pump.start()
        _pump(client, upstream)
        pump.join()
        for s in (client, upstream):
            s.close()

    # -- lifetime -----------------------------------------------------------------------------------
    def _pod_gone(self) -> bool:
        try:
            return self.api.find(f"/api/v1/namespaces/{self.namespace}/pods/{self.pod_name}") is None
        except ApiFailure as exc:
            return exc.status == 0  # API server unreachable: the tunnel is gone too

    def run(self) -> int:
        try:
            for local, remote in self.ports:
                self._listen(local, remote)
        except OSError as exc:
            self.close()
            _say(f"error: unable to listen on any of the requested ports: [{exc}]", sys.stderr)
            return 1
        interrupted = threading.Event()
        signal.signal(signal.SIGINT, lambda *_: interrupted.set())
        while not interrupted.is_set():
            if self.lost.wait(POLL_SECONDS) or self._pod_gone():
                self.close()
                _say("error: lost connection to pod", sys.stderr)
                return 1
        self.close()
        return 0

    def close(self) -> None:
        self.stopping.set()
        for sock in self.listeners:
            with contextlib.suppress(OSError):
                sock.close()


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)
