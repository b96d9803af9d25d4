"""The four screens: /kiosk, /therapist, /cashier and /lobby.

Each page is one HTML template plus ES modules under static/js; its configuration (spa name,
currency, time zone, timeouts) is rendered into the page as JSON, so a screen needs no request
of its own before it connects. The Socket.IO client is served from static/vendor (npm, via
`make install`); nothing is loaded from the internet.
"""

from __future__ import annotations

import io
import logging
from typing import Any

import segno
from flask import Blueprint, Response, abort, current_app, make_response, render_template, request

from common.wire import PUBLIC_ID_RE, page_contract

from ..service.spa_settings import LANGUAGES

logger = logging.getLogger(__name__)

bp = Blueprint("pages", __name__)

PAGES = ("kiosk", "therapist", "cashier", "lobby", "desk")
# A phone showing a ticket asks for its state this often (an HTTP GET, no connection held).
TICKET_POLL_S = 5

# The kiosk gives up on a half-made order after this long untouched: long enough to read the
# catalog and type a name, short enough that the next customer never finds someone else's cart.
KIOSK_IDLE_S = 45
# The ticket (code, place, wait) stays up this long after the last touch, then the attract screen.
KIOSK_TICKET_S = 60
# Acknowledgements slower than this are reported as "no answer" and the button comes back.
COMMAND_TIMEOUT_S = 10
# How the amounts on the wire ("45.00") are shown, until the settings carry these (docs/SCREENS.md).
DEFAULT_CURRENCY_FORMAT = "{symbol}{amount}"
DEFAULT_DECIMAL_SEPARATOR = "."
DEFAULT_GROUP_SEPARATOR = ""

# Pages are same-origin only: their scripts, styles and socket come from this server.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)


def page_config(page: str) -> dict[str, Any]:
    rt = current_app.extensions["spa"]
    settings = rt.settings
    office = rt.spa_settings.values()  # as the office last set them (the environment's until then)
    return {
        "page": page,
        "spa_name": office["spa_name"],
        "timezone": settings.timezone,
        # The spa's default; a screen with a language button lets its user pick another.
        "language": rt.spa_settings.policy().language,
        "languages": list(LANGUAGES),
        "ticket": {"poll_s": TICKET_POLL_S},
        "currency": {
            "symbol": office["currency"],
            "format": getattr(settings, "currency_format", DEFAULT_CURRENCY_FORMAT),
            "decimal": getattr(settings, "currency_decimal_separator", DEFAULT_DECIMAL_SEPARATOR),
            "group": getattr(settings, "currency_group_separator", DEFAULT_GROUP_SEPARATOR),
        },
        "command_timeout_s": COMMAND_TIMEOUT_S,
        "kiosk": {"idle_s": KIOSK_IDLE_S, "ticket_s": KIOSK_TICKET_S},
        # Error codes with their retry class, limits, payment methods, device states: the
        # screens read these here rather than copying them (docs/SCREENS.md).
        "contract": page_contract(),
    }


def page_response(page: str) -> Response:
    """A screen's page (`<page>.html`) with its configuration and the pages' security headers."""
    response = make_response(render_template(f"{page}.html", page=page, config=page_config(page)))
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    # The token arrives in the fragment, which browsers never send; no referrer leaves either.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/")
def landing() -> Response:
    """The spa's name, its screens (devices open them with their token) and the office sign-in."""
    return page_response("landing")


@bp.get("/kiosk")
def kiosk() -> Response:
    return page_response("kiosk")


@bp.get("/therapist")
def therapist() -> Response:
    return page_response("therapist")


@bp.get("/cashier")
def cashier() -> Response:
    return page_response("cashier")


@bp.get("/lobby")
def lobby() -> Response:
    return page_response("lobby")


@bp.get("/desk")
def desk() -> Response:
    return page_response("desk")


def _ticket_id(public_id: str) -> str:
    if not PUBLIC_ID_RE.fullmatch(public_id):
        abort(404)
    return public_id


@bp.get("/t/<public_id>")
def ticket(public_id: str) -> Response:
    """A customer's ticket on their phone: no sign-in, public fields only (server/service/tickets.py)."""
    _ticket_id(public_id)
    response = page_response("ticket")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/t/<public_id>/qr.svg")
def ticket_qr(public_id: str) -> Response:
    """The QR code a kiosk shows (and prints) for this ticket: the phone page's address."""
    url = ticket_url(_ticket_id(public_id))
    svg = io.BytesIO()
    # With its namespace: svg_inline leaves it out, and an <img> then shows nothing (the kiosk's ticket).
    segno.make_qr(url, error="m").save(
        svg, kind="svg", xmldecl=False, svgns=True, nl=False, scale=6, border=2, dark="#000", light="#fff"
    )
    response = make_response(svg.getvalue())
    response.headers["Content-Type"] = "image/svg+xml"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


def ticket_url(public_id: str) -> str:
    """Where phones open a ticket: SPA_PUBLIC_URL when set, else the address this request came to."""
    base = current_app.extensions["spa"].settings.public_url.rstrip("/") or request.host_url.rstrip("/")
    return f"{base}/t/{public_id}"
