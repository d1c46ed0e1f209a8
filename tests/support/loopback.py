"""A real HTTP server on 127.0.0.1 (a free port) on a thread of its own, for the stubs that stand in
for outside services in tests (tests/support/wechat_stub.py, tests/notifications/support_wechat_stub.py).
A stub subclasses ``LoopbackServer`` and gives ``_handler_class()``."""

from __future__ import annotations

import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class LoopbackServer:
    name = "loopback-stub"

    def _listen(self) -> None:
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._serve, name=self.name, daemon=True)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def _serve(self) -> None:
        self._server.serve_forever(poll_interval=0.05)

    def start(self):
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def bypass_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """An HTTP(S)_PROXY in the environment must not swallow requests meant for a loopback stub."""
    no_proxy = os.environ.get("no_proxy") or os.environ.get("NO_PROXY") or ""
    monkeypatch.setenv("no_proxy", ",".join(filter(None, [no_proxy, "127.0.0.1"])))
