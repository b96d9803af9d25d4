"""Hand-made sockets for the attack tests: TCP and WebSockets from a chosen loopback address
(the whole of 127.0.0.0/8 is this machine's, so a test can be many senders), each bounded by a
deadline."""

from __future__ import annotations

import socket
import time

import websocket

from tests.support import LiveServer

ENGINEIO_PATH = "/socket.io/?EIO=4&transport=websocket"


def tcp_from(server_url: str, source: str, timeout_s: float = 5.0) -> socket.socket:
    host, port = server_url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout_s, source_address=(source, 0))


def engineio_socket(server: LiveServer | str, source: str = "127.0.0.1") -> websocket.WebSocket | None:
    """An engine.io WebSocket opened from `source`, read up to engine.io's OPEN packet, before any
    Socket.IO CONNECT; None if the server refused it."""
    url = server if isinstance(server, str) else server.url
    sock = tcp_from(url, source)
    try:
        ws = websocket.create_connection(url.replace("http://", "ws://") + ENGINEIO_PATH, timeout=5, socket=sock)
    except (websocket.WebSocketBadStatusException, websocket.WebSocketConnectionClosedException, OSError):
        sock.close()
        return None
    opened = ws.recv()
    if not opened.startswith("0"):  # engine.io's OPEN packet
        ws.shutdown()
        return None
    return ws


def signed_in_socket(server: LiveServer | str, token: str, source: str = "127.0.0.1") -> websocket.WebSocket | None:
    """`engineio_socket`, then a Socket.IO CONNECT with the token; None if either was refused."""
    ws = engineio_socket(server, source)
    if ws is None:
        return None
    ws.send('40{"token":"' + token + '"}')
    answer = ws.recv()
    if not answer.startswith("40"):
        shut(ws)
        return None
    return ws


def closed_within(ws: websocket.WebSocket, within_s: float) -> bool:
    """Whether the server closes the socket within `within_s` (pings answered meanwhile)."""
    deadline = time.monotonic() + within_s
    try:
        while (left := deadline - time.monotonic()) > 0:
            ws.settimeout(left)
            try:
                frame = ws.recv()
            except (websocket.WebSocketTimeoutException, TimeoutError):
                return False
            if frame == "2":
                ws.send("3")
            elif not frame:
                return True
        return False
    except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError):
        return True


def tcp_closed_within(sock: socket.socket, within_s: float) -> bool:
    """Whether the server ends a TCP connection within `within_s` (it reads whatever comes)."""
    deadline = time.monotonic() + within_s
    try:
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                if not sock.recv(4096):
                    return True
            except TimeoutError:
                return False
        return False
    except (ConnectionError, OSError):
        return True


def shut(ws: websocket.WebSocket | None) -> None:
    if ws is not None:
        try:
            ws.shutdown()  # close() skips a socket the server has already closed
        except OSError:
            pass
