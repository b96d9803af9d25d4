"""The app factory: settings → database → queue service → Socket.IO protocol → background threads."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask_socketio import SocketIO

from .config import Settings, load_settings
from .db.engine import Database
from .protocol.broadcaster import Broadcaster
from .protocol.handlers import SocketProtocol
from .protocol.presence import Presence
from .service.principals import SYSTEM, TokenCache
from .service.printing import ReceiptHeader
from .service.queue import QueueService
from .service.sessions import SignInLimiter

logger = logging.getLogger(__name__)


class SocketIOEmitter:
    """The broadcaster's view of Flask-SocketIO."""

    def __init__(self, socketio: SocketIO, local_rooms: bool) -> None:
        self._socketio = socketio
        self._local_rooms = local_rooms

    def emit(self, event: str, data: Any, to: str) -> None:
        if self.has_members(to) is False:
            return  # python-socketio would encode the packet even for an empty room
        self._socketio.emit(event, data, to=to, namespace="/")

    def has_members(self, room: str) -> bool | None:
        if not self._local_rooms:
            return None  # other processes' members are invisible from here
        rooms = self._socketio.server.manager.rooms.get("/", {})
        return bool(rooms.get(room))


@dataclass
class Runtime:
    """Everything one server process owns; it starts and stops the background threads."""

    settings: Settings
    db: Database
    service: QueueService
    tokens: TokenCache
    socketio: SocketIO
    sign_in_limiter: SignInLimiter = field(default_factory=SignInLimiter)
    broadcaster: Broadcaster = field(init=False)
    presence: Presence = field(init=False)
    protocol: SocketProtocol = field(init=False)
    started: bool = False

    def start(self) -> None:
        if not self.started:
            self.broadcaster.start()
            self.presence.start()
            self.started = True

    def stop(self) -> None:
        if self.started:
            self.presence.stop()
            self.broadcaster.stop()
            self.started = False
        self.db.dispose()


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    settings = load_settings(test_config)
    app = Flask(__name__, static_folder="web/static", template_folder="web/templates")
    app.config.update(SECRET_KEY=settings.secret_key, DEBUG=settings.debug, TESTING=settings.testing)

    db = Database(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        retry_attempts=settings.db_retry_attempts,
    )
    socketio = SocketIO(
        app,
        async_mode="threading",
        # None = same origin only; an explicit list from SPA_CORS_ORIGINS otherwise. Never "*" by default.
        cors_allowed_origins=list(settings.cors_origins) or None,
        message_queue=settings.message_queue,
        channel=settings.message_queue_channel,
        max_http_buffer_size=settings.max_payload_bytes,
        manage_session=False,
        logger=False,
        engineio_logger=False,
    )
    service = QueueService(
        db,
        zone=settings.zone,
        therapists_on_duty=settings.therapists_on_duty,
        receipt_header=ReceiptHeader(settings.spa_name, settings.spa_address, settings.currency),
    )
    rt = Runtime(settings=settings, db=db, service=service, tokens=TokenCache(), socketio=socketio)
    rt.broadcaster = Broadcaster(
        SocketIOEmitter(socketio, local_rooms=settings.message_queue is None),
        lambda: service.snapshot(SYSTEM),
        queue_size=settings.broadcast_queue_size,
        reorder_wait_s=settings.broadcast_reorder_wait_s,
        position_push_limit=settings.position_push_limit,
    )
    service.publish = rt.broadcaster.post
    rt.presence = Presence(
        db,
        service,
        grace_s=settings.claim_grace_s,
        heartbeat_s=settings.presence_heartbeat_s,
        idempotency_retention_s=settings.idempotency_retention_s,
        appliance_silent_after_s=settings.appliance_silent_after_s,
        on_appliances_changed=lambda status: socketio.emit(
            "appliances_updated", {"appliances": status}, to="monitor", namespace="/"
        ),
    )
    rt.protocol = SocketProtocol(socketio, rt)
    rt.protocol.register()
    app.extensions["spa"] = rt

    from .web.api import bp as api_bp
    from .web.pages import bp as pages_bp

    app.register_blueprint(api_bp)
    app.register_blueprint(pages_bp)
    if settings.start_background:
        rt.start()
    return app
