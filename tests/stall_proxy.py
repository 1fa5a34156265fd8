"""A TCP proxy in front of the test PostgreSQL server (or any server) that a test can freeze, thaw, cut and close.

Frozen, it behaves like a server whose processes were stopped (SIGSTOP): the operating system still
completes TCP handshakes and acknowledges what clients send, but nothing is answered. Closed, the
port refuses connections, like a server that is down. The shared server itself is never touched.
"""
from __future__ import annotations

import selectors
import socket
import threading
from typing import Any


class StallProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self._listener.setblocking(False)
        self.port: int = self._listener.getsockname()[1]
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ, None)
        self._peers: dict[socket.socket, socket.socket] = {}
        self._lock = threading.Lock()  # held while relaying: freeze() returns only between two relays
        self._thawed = threading.Event()
        self._thawed.set()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=f"stall-proxy :{self.port}", daemon=True)
        self._thread.start()

    # What tests call ---------------------------------------------------------------------------
    def freeze(self) -> None:
        """From now on nothing is accepted or relayed; every socket stays open."""
        with self._lock:
            self._thawed.clear()

    def thaw(self) -> None:
        with self._lock:
            self._thawed.set()

    def cut(self) -> None:
        """Close every connection open through the proxy now, as the death of the far end would (their
        clients see them end without an answer); the port stays open and relays new connections."""
        with self._lock:
            for sock in list(self._peers):
                self._drop(sock)

    def close(self) -> None:
        """Close every connection and the listening port (later connections are refused)."""
        with self._lock:
            self._closed = True
            self._thawed.set()
        self._thread.join(timeout=5)
        for sock in [self._listener, *self._peers]:
            sock.close()
        self._peers.clear()
        self._selector.close()

    @property
    def connections(self) -> int:
        """Client connections open through the proxy right now."""
        with self._lock:
            return len(self._peers) // 2

    # The relay -----------------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            if not self._thawed.wait(0.1):
                continue  # frozen: touch nothing
            if self._closed:
                return
            events = self._selector.select(timeout=0.1)
            with self._lock:
                if self._closed:
                    return
                if not self._thawed.is_set():
                    continue
                for key, _mask in events:
                    if key.fileobj is self._listener:
                        self._accept()
                    elif key.fileobj in self._peers:
                        self._relay(key.fileobj)  # type: ignore[arg-type]

    def _accept(self) -> None:
        try:
            client, _address = self._listener.accept()
        except BlockingIOError:
            return
        try:
            server = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            client.close()
            return
        for sock in (client, server):
            sock.setblocking(True)
            self._selector.register(sock, selectors.EVENT_READ, None)
        self._peers[client], self._peers[server] = server, client

    def _relay(self, source: socket.socket) -> None:
        target = self._peers[source]
        try:
            data = source.recv(65536)
            if data:
                target.sendall(data)
                return
        except OSError:
            pass
        self._drop(source, target)

    def _drop(self, *socks: Any) -> None:
        for sock in socks:
            self._peers.pop(sock, None)
            try:
                self._selector.unregister(sock)
            except (KeyError, ValueError):
                pass
            sock.close()
