"""What comes off the wire, decoded so that no client input raises: Socket.IO packets
(`WirePacket`) and engine.io frames (`engineio_frame_ok`). Pure: no sockets, no server."""

from __future__ import annotations

from typing import Any

from socketio import packet as sio_packet

from .dispatcher import BAD_NAME_EVENT, BINARY_EVENT, MALFORMED_EVENT, MAX_EVENT_NAME, RESERVED_EVENT, RESERVED_NAMES


class WirePacket(sio_packet.Packet):
    """python-socketio's packet, decoded so that no client input raises (each raise became a
    traceback in engine.io's log) or reaches a handler in a shape python-socketio trips on:
    an event that is not JSON, nests too deep for the JSON decoder, is no `[name, ...]` list or
    has a name that is not a short string is handed to the catch-all handler under a marker name
    (`dispatcher.MALFORMED_EVENT`, `BAD_NAME_EVENT`) and acknowledged with the refusal; a binary
    event is answered `BINARY_EVENT` and its attachments are dropped as they come, never buffered;
    any other undecodable packet is dropped (an acknowledgement of an id nobody waits for)."""

    def decode(self, encoded_packet: Any) -> int:
        self.packet_type, self.id = -1, None
        if not isinstance(encoded_packet, str):
            return self._drop()  # a binary attachment: its event was already refused
        try:
            attachments = super().decode(encoded_packet) or 0
        except (ValueError, TypeError, RecursionError):
            if self.packet_type not in (sio_packet.EVENT, sio_packet.BINARY_EVENT):
                return self._drop()
            self.packet_type, self.data = sio_packet.EVENT, [MALFORMED_EVENT]
            return 0
        if self.packet_type == sio_packet.BINARY_EVENT or (attachments and self.packet_type == sio_packet.EVENT):
            self.packet_type, self.data = sio_packet.EVENT, [BINARY_EVENT]
        elif self.packet_type == sio_packet.EVENT:
            if not isinstance(self.data, list) or not self.data:
                self.data = [MALFORMED_EVENT]
            elif not isinstance(self.data[0], str) or len(self.data[0]) > MAX_EVENT_NAME:
                self.data = [BAD_NAME_EVENT]
            elif self.data[0] in RESERVED_NAMES:
                self.data = [RESERVED_EVENT]
        elif self.packet_type not in (sio_packet.CONNECT, sio_packet.DISCONNECT, sio_packet.ACK) or attachments:
            return self._drop()
        return 0

    def _drop(self) -> int:
        self.packet_type, self.id, self.data, self.namespace = sio_packet.ACK, None, [], "/"
        return 0


# Client → server engine.io packets: 1 close, 2 ping, 3 pong, 4 message, 5 upgrade, 6 noop.
ENGINEIO_TYPES = "123456"
ENGINEIO_CONTROL_MAX = 16  # "2probe": a control packet carries at most a short word


def engineio_frame_ok(message: object) -> bool:
    """Whether python-engineio can decode this WebSocket message without raising: a binary
    message (handed on as bytes), a Socket.IO packet in a message ("4" then its digit type) or a
    short control packet. Anything else (empty, an unknown type, deeply nested JSON that engine.io
    tries to parse) is not from a Socket.IO client."""
    if isinstance(message, bytes | bytearray):
        return True
    if not isinstance(message, str) or not message or message[0] not in ENGINEIO_TYPES:
        return False
    if message[0] == "4":
        return message[1:2].isdigit()
    return len(message) <= ENGINEIO_CONTROL_MAX and message[1:2] not in ("[", "{")
