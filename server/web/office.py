"""The back office: the /office page and its JSON under /api/office/, for admins only.

Every route checks its caller (a staff session token from POST /api/sign-in, or an admin's
staff token, as `Authorization: Bearer …`) for `Capability.OFFICE`, reads its body through
`office_forms` (a bad one is refused before anything is touched) and calls `OfficeService`,
which writes the change and its audit entry in one transaction.

A device's token is answered once, when it is made or reissued: with the address its screen
opens (`/<page>#token=…`, the fragment never reaches a server log) and a QR code of it.
"""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import segno
from flask import Blueprint, Response, current_app, jsonify, request

from ..domain.actors import Capability, Principal
from ..domain.errors import CommandError, ErrorCode
from ..service.office import OfficeService
from ..service.principals import TokenCache
from . import office_forms as forms
from .pages import page_response

logger = logging.getLogger(__name__)

bp = Blueprint("office", __name__)

# A settings change with a week of opening hours is under 1 KiB; a service with every therapist
# a few. Anything past this is not a form a person filled in.
MAX_BODY_BYTES = 64 * 1024
CHANGE = ("PATCH", "POST")


def _runtime() -> Any:
    return current_app.extensions["spa"]


def _office() -> OfficeService:
    office: OfficeService | None = _runtime().office
    assert office is not None, "create_app builds the office"
    return office


def _admin() -> Principal:
    header = request.headers.get("Authorization", "")
    token = header[7:] if header.startswith("Bearer ") else None
    tokens: TokenCache = _runtime().tokens
    principal = tokens.resolve(_runtime().db.read, token)
    if principal is None or not principal.can(Capability.OFFICE):
        raise CommandError(ErrorCode.FORBIDDEN, "an admin's sign-in is needed (Authorization: Bearer …)")
    return principal


def _body() -> object:
    """The request's JSON body (None when there is none)."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise forms.invalid(f"the body is larger than {MAX_BODY_BYTES} bytes")
    raw = request.stream.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise forms.invalid(f"the body is larger than {MAX_BODY_BYTES} bytes")
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise forms.invalid("the body is not JSON") from None


def _ok(**body: Any) -> Response:
    response = jsonify({"ok": True, **body})
    response.headers["Cache-Control"] = "no-store"  # PINs and tokens are in some of these
    return response


# ---- the page -------------------------------------------------------------------------------


@bp.get("/office")
def office_page() -> Response:
    return page_response("office")


# ---- services -------------------------------------------------------------------------------


@bp.get("/api/office/services")
def services() -> Response:
    _admin()
    return _ok(services=_office().services())


@bp.post("/api/office/services")
def add_service() -> Response:
    admin = _admin()
    return _ok(service=_office().add_service(admin, forms.service_add(_body())))


@bp.route("/api/office/services/<int:service_id>", methods=CHANGE)
def change_service(service_id: int) -> Response:
    admin = _admin()
    return _ok(service=_office().change_service(admin, service_id, forms.service_change(_body())))


# ---- staff ----------------------------------------------------------------------------------


@bp.get("/api/office/staff")
def staff() -> Response:
    _admin()
    return _ok(staff=_office().staff())


@bp.post("/api/office/staff")
def add_staff() -> Response:
    admin = _admin()
    return _ok(staff=_office().add_staff(admin, forms.staff_add(_body())))


@bp.route("/api/office/staff/<int:staff_id>", methods=CHANGE)
def change_staff(staff_id: int) -> Response:
    admin = _admin()
    return _ok(staff=_office().change_staff(admin, staff_id, forms.staff_change(_body())))


@bp.post("/api/office/staff/<int:staff_id>/pin")
def reset_pin(staff_id: int) -> Response:
    admin = _admin()
    return _ok(staff=_office().reset_pin(admin, staff_id, forms.pin_reset(_body())))


# ---- devices --------------------------------------------------------------------------------


def _with_address(device: dict[str, Any]) -> dict[str, Any]:
    """A device answer that carries its new token: the address to open, and its QR code."""
    base = _runtime().settings.public_url.rstrip("/") or request.host_url.rstrip("/")
    url = f"{base}{device['page']}#token={device['token']}"
    svg = io.BytesIO()
    # With its namespace (svg_inline leaves it out): the page shows it as an image (data: URL).
    segno.make_qr(url, error="m").save(
        svg, kind="svg", xmldecl=False, svgns=True, nl=False, scale=4, border=2, dark="#000", light="#fff"
    )
    return {**device, "url": url, "qr_svg": svg.getvalue().decode()}


@bp.get("/api/office/devices")
def devices() -> Response:
    _admin()
    return _ok(devices=_office().devices())


@bp.post("/api/office/devices")
def add_device() -> Response:
    admin = _admin()
    return _ok(device=_with_address(_office().add_device(admin, forms.device_add(_body()))))


@bp.route("/api/office/devices/<int:device_id>", methods=CHANGE)
def change_device(device_id: int) -> Response:
    admin = _admin()
    return _ok(device=_office().change_device(admin, device_id, forms.device_change(_body())))


@bp.post("/api/office/devices/<int:device_id>/revoke")
def revoke_device(device_id: int) -> Response:
    admin = _admin()
    return _ok(device=_office().revoke_device(admin, device_id))


@bp.post("/api/office/devices/<int:device_id>/reissue")
def reissue_device(device_id: int) -> Response:
    admin = _admin()
    return _ok(device=_with_address(_office().reissue_device(admin, device_id)))


# ---- rooms ----------------------------------------------------------------------------------


@bp.get("/api/office/rooms")
def rooms() -> Response:
    _admin()
    return _ok(rooms=_office().rooms())


@bp.post("/api/office/rooms")
def add_room() -> Response:
    admin = _admin()
    return _ok(room=_office().add_room(admin, forms.room_add(_body())))


@bp.route("/api/office/rooms/<int:room_id>", methods=CHANGE)
def change_room(room_id: int) -> Response:
    admin = _admin()
    return _ok(room=_office().change_room(admin, room_id, forms.room_change(_body())))


# ---- settings and the changes made ----------------------------------------------------------


@bp.get("/api/office/settings")
def settings() -> Response:
    _admin()
    return _ok(settings=forms.settings_view(_office().settings_view()))


@bp.route("/api/office/settings", methods=CHANGE)
def change_settings() -> Response:
    admin = _admin()
    changed = _office().change_settings(admin, forms.settings_change(_body()))
    return _ok(settings=forms.settings_view(changed))


@bp.get("/api/office/changes")
def changes() -> Response:
    _admin()
    limit = request.args.get("limit", "100")
    if not limit.isdigit() or not 1 <= int(limit) <= 500:
        raise forms.invalid("limit: a whole number 1-500")
    return _ok(changes=_office().changes(int(limit)))


@bp.errorhandler(CommandError)
def command_error(exc: CommandError) -> tuple[Response, int]:
    status = {ErrorCode.FORBIDDEN: 401, ErrorCode.NOT_FOUND: 404, ErrorCode.BUSY: 429}.get(exc.code, 400)
    if exc.code is ErrorCode.INVALID_STATE:
        status = 409
    return jsonify({"ok": False, "error": exc.to_dict()}), status
