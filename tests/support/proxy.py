"""A small userspace TCP proxy, to cut an instance off without iptables or netem.

``TcpProxy(target)`` listens on a free port of 127.0.0.1 (``address``) and forwards every connection to
``target`` (host, port), both ways, from one thread. :meth:`cut` stops forwarding both ways, as a
network partition does: connections stay open and nothing goes through, so the client waits for its
timeout (a refused connection would be a different fault); :meth:`heal` drops the stalled connections
(the client reconnects) and forwards again. :meth:`retarget` points it at another port (a supervisord
started again on a new port keeps its address in the instance lists).

Usage::

    proxy = TcpProxy(("127.0.0.1", server.port)).start()
    ... "-i", f"<s1>{proxy.address}" ...
    proxy.cut(); ...; proxy.heal()
    proxy.stop()
"""

from __future__ import annotations

import selectors
import socket
import threading


class TcpProxy:
    """Forward connections from a local port to ``target``; :meth:`cut` / :meth:`heal` a partition."""

    def __init__(self, target: tuple[str, int], host: str = "127.0.0.1") -> None:
        self.target = target
        self._listener = socket.create_server((host, 0))
        self._listener.setblocking(False)
        self.host = host
        self.port = int(self._listener.getsockname()[1])
        self._selector = selectors.DefaultSelector()
        self._peers: dict[socket.socket, socket.socket] = {}
        self._cut = False
        self._stalled: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._drops: list[threading.Event] = []
        self._thread = threading.Thread(target=self._loop, name=f"proxy-{self.port}", daemon=True)

    @property
    def address(self) -> str:
        """``host:port`` to give in an instance list."""
        return f"{self.host}:{self.port}"

    def start(self) -> TcpProxy:
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._thread.start()
        return self

    def cut(self) -> None:
        """Stop forwarding both ways (new connections are accepted and left silent)."""
        with self._lock:
            self._cut = True

    def heal(self) -> None:
        """Forward again; connections opened or stalled during the cut are closed."""
        self._drop_all()
        with self._lock:
            self._cut = False

    def retarget(self, target: tuple[str, int]) -> None:
        """New connections go to ``target`` (existing ones are closed)."""
        with self._lock:
            self.target = target
        self._drop_all()

    def _drop_all(self) -> None:
        """Have the loop thread (the only one touching sockets) close every connection; wait for it."""
        done = threading.Event()
        with self._lock:
            self._drops.append(done)
        done.wait(2)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        for sock in list(self._peers) + list(self._stalled):
            self._close(sock)
        self._listener.close()
        self._selector.close()

    # ------------------------------------------------------------------ the loop (one thread)
    def _loop(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                drops, self._drops = self._drops, []
            if drops:
                for sock in list(self._peers) + list(self._stalled):
                    self._close(sock)
                for done in drops:
                    done.set()
            for key, _ in self._selector.select(timeout=0.05):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                if sock is self._listener:
                    self._accept()
                else:
                    self._forward(sock)

    def _accept(self) -> None:
        try:
            client, _ = self._listener.accept()
        except OSError:
            return
        with self._lock:
            cut, target = self._cut, self.target
        if cut:  # a partition: the connection is open, nothing will ever come through
            with self._lock:
                self._stalled.add(client)
            return
        try:
            upstream = socket.create_connection(target, timeout=2)
        except OSError:
            client.close()  # the target is down: as a dead host behind a live router would be, refused
            return
        for sock in (client, upstream):
            sock.setblocking(False)
        self._peers[client], self._peers[upstream] = upstream, client
        self._selector.register(client, selectors.EVENT_READ)
        self._selector.register(upstream, selectors.EVENT_READ)

    def _forward(self, sock: socket.socket) -> None:
        with self._lock:
            cut = self._cut
        if cut:
            try:  # drop what arrives, as a partition does
                if not sock.recv(65536):
                    self._close(sock)
            except OSError:
                self._close(sock)
            return
        peer = self._peers.get(sock)
        try:
            data = sock.recv(65536)
            if data and peer is not None:
                peer.setblocking(True)
                peer.sendall(data)
                peer.setblocking(False)
                return
        except OSError:
            pass
        self._close(sock)

    def _close(self, sock: socket.socket) -> None:
        peer = self._peers.pop(sock, None)
        with self._lock:
            self._stalled.discard(sock)
        for one in (sock, peer):
            if one is None:
                continue
            self._peers.pop(one, None)
            try:
                self._selector.unregister(one)
            except (KeyError, ValueError):
                pass
            one.close()
