"""Refusing internet connections inside a test (unix sockets still work)."""

import socket


def refuse_network(monkeypatch) -> None:
    """From here on any attempt to open an internet connection (127.0.0.1 included) fails the test."""
    real_connect = socket.socket.connect

    def refuse(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            raise AssertionError(f"network access attempted: {address}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", refuse)
