"""A refused connect closes its socket.

Before: a refused Socket.IO connect left the engine.io socket open (and, in threading mode, its
server thread held) for as long as the client answered pings."""

from __future__ import annotations

import websocket

from tests.support import LiveServer


def raw_socket(server: LiveServer) -> websocket.WebSocket:
    """An engine.io WebSocket, before any Socket.IO CONNECT."""
    url = server.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    ws = websocket.create_connection(url, timeout=5)
    assert ws.recv().startswith("0")  # engine.io's OPEN packet
    return ws


def closed_by_server(ws: websocket.WebSocket, within_s: float) -> bool:
    """Reads until the server closes, answering its pings as an idle client would."""
    ws.settimeout(within_s)
    try:
        while True:
            frame = ws.recv()
            if frame == "2":
                ws.send("3")
                continue
            if not frame:
                return True
    except websocket.WebSocketConnectionClosedException:
        return True
    except (websocket.WebSocketTimeoutException, TimeoutError):
        return False


def test_a_refused_connect_closes_its_socket(shared_live: LiveServer) -> None:
    for auth in ('{"token":"dv_1_' + "x" * 32 + '"}', "", '{"token":42}'):
        ws = raw_socket(shared_live)
        try:
            ws.send("40" + auth)  # Socket.IO CONNECT with a bad token, none, or not a string
            refusal = ws.recv()
            assert refusal.startswith("44") and "forbidden" in refusal, refusal
            assert closed_by_server(ws, 10), f"the socket stayed open after refusing {auth!r}"
        finally:
            ws.shutdown()  # close() skips the socket once the server has closed the connection
    assert shared_live.healthz().json()["connections"] == 0
