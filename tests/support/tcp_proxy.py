"""A TCP proxy on 127.0.0.1 that a test can take down and bring back: a database or an S3 endpoint
"unreachable for a few seconds" without touching the real service.

    proxy = TcpProxy(("127.0.0.1", 5432)).start()
    ... point the server at 127.0.0.1:proxy.port ...
    proxy.down()              # connections refused, open ones cut (the service's host went away)
    proxy.down("blackhole")   # connections accepted and never answered (a network that drops packets)
    proxy.up()                # forwarding again, on the same port
    proxy.close()

Both ways down cut the connections that were open (a reset, as when the far side restarts), so
clients that keep connections (Django's CONN_MAX_AGE, botocore's pool) find them dead. One thread
accepts; each connection gets one thread that copies bytes both ways.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
from typing import Literal

Mode = Literal["refuse", "blackhole"]


def _reset(sock: socket.socket) -> None:
    """Close with a TCP reset (SO_LINGER 0), as a peer that went away does."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


class TcpProxy:
    def __init__(self, target: tuple[str, int], *, port: int = 0) -> None:
        self.target = target
        self.port = port
        self.state: Literal["up", "refuse", "blackhole", "closed"] = "up"
        self.connections = 0  # accepted while up (and forwarded)
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()  # every socket of a forwarded or held connection
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None

    # --- Control ------------------------------------------------------------------------------------
    def start(self) -> TcpProxy:
        self._listen()
        self._thread = threading.Thread(target=self._accept_loop, name="tcp-proxy", daemon=True)
        self._thread.start()
        return self

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def down(self, mode: Mode = "refuse") -> None:
        with self._lock:
            self.state = mode
            if mode == "refuse" and self._listener is not None:
                # Closed, not just ignored: a connect() gets ECONNREFUSED at once.
                self._listener.close()
                self._listener = None
            self._cut_all()

    def up(self) -> None:
        with self._lock:
            if self._listener is None:
                self._listen()
            self._cut_all()  # connections held by a blackhole never get through
            self.state = "up"

    def close(self) -> None:
        with self._lock:
            self.state = "closed"
            if self._listener is not None:
                self._listener.close()
                self._listener = None
            self._cut_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # --- Inside -------------------------------------------------------------------------------------
    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self.port = listener.getsockname()[1]  # the same port again after a "refuse"
        self._listener = listener

    def _cut_all(self) -> None:
        for sock in list(self._open):
            _reset(sock)
        self._open.clear()

    def _accept_loop(self) -> None:
        while self.state != "closed":
            listener = self._listener
            if listener is None:  # refusing: nothing listens until up()
                threading.Event().wait(0.05)
                continue
            try:
                readable, _, _ = select.select([listener], [], [], 0.05)
                if not readable:
                    continue
                client, _ = listener.accept()
            except (OSError, ValueError):  # the listener was closed under us by down()/close()
                continue
            with self._lock:
                if self.state == "blackhole":
                    self._open.add(client)  # accepted, never answered, cut by up()
                    continue
                if self.state != "up":
                    _reset(client)
                    continue
                self.connections += 1
            threading.Thread(target=self._forward, args=(client,), daemon=True).start()

    def _forward(self, client: socket.socket) -> None:
        try:
            server = socket.create_connection(self.target, timeout=5)
        except OSError:
            _reset(client)
            return
        server.settimeout(None)
        with self._lock:
            if self.state != "up":  # went down while we connected
                _reset(client)
                _reset(server)
                return
            self._open.update((client, server))
        peers = {client: server, server: client}
        try:
            while True:
                readable, _, _ = select.select(list(peers), [], [], 0.5)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    peers[sock].sendall(data)
        except (OSError, ValueError):  # cut by down(), or the other side reset
            return
        finally:
            with self._lock:
                self._open.discard(client)
                self._open.discard(server)
            for sock in (client, server):
                with contextlib.suppress(OSError):
                    sock.close()
