"""The app factory: settings → database → queue service → dispatcher and Socket.IO adapter →
background threads, all owned by one `Runtime`. The Flask app serves the pages and JSON; the
process's ASGI application around it (server/asgi.py) holds the Socket.IO connections."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import socketio
from flask import Flask

from .config import Settings, load_settings
from .db.engine import Database
from .domain.actors import SYSTEM
from .domain.queue_view import Roster
from .protocol.broadcaster import Broadcaster
from .protocol.dispatcher import Dispatcher
from .protocol.events import Services, event_table
from .protocol.limits import Caps, ConnectionLimits
from .protocol.loop_outbound import LoopOutbound
from .protocol.packets import WirePacket
from .protocol.socketio_adapter import SocketIOAdapter, SpaSocketServer
from .service import estimating
from .service.front_desk import FrontDesk
from .service.housekeeping import Housekeeping
from .service.office import OfficeService
from .service.principals import TokenCache
from .service.printing import ReceiptHeader
from .service.queue import QueueService
from .service.roster import RosterService
from .service.sessions import SignInLimiter, SignInPolicy
from .service.spa_settings import SpaSettings
from .service.till import ManagerCheck, TillService
from .web.security import client_address, scope_environ
from .workers import LoopBeat, Workers

logger = logging.getLogger(__name__)


@dataclass
class Runtime:
    """Everything one server process owns; its `workers` own the background threads."""

    settings: Settings
    db: Database
    service: QueueService
    tokens: TokenCache
    sio: SpaSocketServer
    outbound: LoopOutbound
    broadcaster: Broadcaster
    housekeeping: Housekeeping
    protocol: SocketIOAdapter
    sign_in_limiter: SignInLimiter
    spa_settings: SpaSettings
    till: TillService
    office: OfficeService | None = None  # the back office (/office), built with the adapter it tells
    workers: Workers = field(default_factory=Workers)
    loop_beat: LoopBeat = field(default_factory=LoopBeat)
    started: bool = False

    def start(self) -> None:
        if not self.started:
            self.workers.start(self.broadcaster)
            self.workers.start(self.housekeeping)
            self.started = True

    def health(self) -> dict[str, bool]:
        """Each background thread's name, and whether it is alive (empty before start); the event
        loop's, once a server runs it."""
        health = self.workers.health()
        if self.loop_beat.attached:
            health[self.loop_beat.name] = self.loop_beat.alive()
        return health

    def stop(self) -> None:
        if self.started:
            self.workers.stop()
            self.started = False
        self.protocol.stop()
        self.sign_in_limiter.close()
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
    limits = ConnectionLimits(
        Caps(
            max_connections=settings.max_connections,
            max_pending=settings.max_pending_connections,
            per_address=settings.max_connections_per_address,
            pending_per_address=settings.max_pending_per_address,
            per_principal=settings.max_connections_per_principal,
        )
    )
    trusted = frozenset(settings.trusted_proxies)
    client_manager = None
    if settings.message_queue:
        client_manager = socketio.AsyncRedisManager(settings.message_queue, channel=settings.message_queue_channel)
    sio = SpaSocketServer(
        limits,
        address_of=lambda environ: client_address(scope_environ(environ["asgi.scope"]), trusted),
        async_mode="asgi",
        client_manager=client_manager,
        # None = same origin only; an explicit list from SPA_CORS_ORIGINS otherwise. Never "*" by default.
        cors_allowed_origins=list(settings.cors_origins) or None,
        max_http_buffer_size=settings.max_payload_bytes,  # uvicorn bounds each WebSocket message too (serve.py)
        serializer=WirePacket,  # decoding that never raises and refuses binary attachments
        # Every client (screens' live.js, the appliance) connects over WebSocket only: a polling
        # session would have its bodies read whole, and nothing here needs it.
        transports=["websocket"],
        logger=False,
        engineio_logger=False,
    )
    outbound = LoopOutbound(sio, local_rooms=settings.message_queue is None)
    spa_settings = SpaSettings(db, settings.spa_defaults())
    service = QueueService(
        db,
        zone=settings.zone,
        publish=outbound.queue_changed,
        receipt_header=ReceiptHeader(
            settings.spa_name, settings.spa_address, settings.currency, timezone=settings.timezone
        ),
        settings=spa_settings,
        public_url=settings.public_url,
    )

    def load_roster() -> Roster:
        with db.read() as s:
            return estimating.roster(s)

    broadcaster = Broadcaster(
        outbound,
        lambda: service.snapshot(SYSTEM),
        load_roster=load_roster,
        intake=lambda now, wait: service.intake_view(spa_settings.policy(), now, wait),
        queue_size=settings.broadcast_queue_size,
        reorder_wait_s=settings.broadcast_reorder_wait_s,
        position_push_limit=settings.position_push_limit,
    )
    outbound.changes = broadcaster.post
    housekeeping = Housekeeping(
        db,
        service,
        grace_s=settings.claim_grace_s,
        heartbeat_s=settings.presence_heartbeat_s,
        idempotency_retention_s=settings.idempotency_retention_s,
        appliance_silent_after_s=settings.appliance_silent_after_s,
        outbound=outbound,
    )
    tokens = TokenCache()
    desk = FrontDesk(service)
    roster = RosterService(db, service, broadcaster.roster_changed)
    sign_in_limiter = SignInLimiter.from_settings(settings)
    till = TillService(db, service, ManagerCheck(sign_in_limiter, SignInPolicy.from_settings(settings)))
    dispatcher = Dispatcher(
        event_table(Services(db, service, outbound, settings.appliance_silent_after_s, desk, roster, till)),
        lambda token: tokens.resolve(db.read, token),
        outbound,
    )
    adapter = SocketIOAdapter(
        sio,
        dispatcher,
        tokens,
        db,
        housekeeping,
        outbound,
        connect_deadline_s=settings.connect_deadline_s,
        command_threads=settings.command_threads,
        max_events_in_flight=settings.max_events_in_flight,
    )
    adapter.register()

    def sign_ins_ended(key: str) -> None:
        tokens.clear()  # a revoked token or ended session must not live on in the cache's 2 s
        adapter.end_sign_ins(key)

    office = OfficeService(
        db,
        spa_settings,
        lambda: service.clock(),  # a test may set the queue's clock later
        ended=sign_ins_ended,
        roster_changed=lambda: broadcaster.roster_changed(roster.view()),
    )
    rt = Runtime(
        settings=settings,
        db=db,
        service=service,
        tokens=tokens,
        sio=sio,
        outbound=outbound,
        broadcaster=broadcaster,
        housekeeping=housekeeping,
        protocol=adapter,
        sign_in_limiter=sign_in_limiter,
        spa_settings=spa_settings,
        till=till,
        office=office,
    )
    app.extensions["spa"] = rt

    from .web.api import bp as api_bp
    from .web.office import bp as office_bp
    from .web.pages import bp as pages_bp
    from .web.reports import bp as reports_bp

    app.register_blueprint(api_bp)
    app.register_blueprint(pages_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(office_bp)
    if settings.start_background:
        rt.start()
    return app
