"""Bearer tokens for staff and devices: random, stored only as hashes, compared in constant time.

A token reads `st_<id>_<secret>` (staff), `dv_<id>_<secret>` (device) or `ss_<id>_<secret>`
(a staff session from a PIN sign-in). The id finds the row
without searching by hash, and the secret's SHA-256 is compared with `hmac.compare_digest`.
Tokens carry 192 random bits, so a fast hash is enough; PINs (short, guessable) use scrypt.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

PREFIX = {"staff": "st", "device": "dv", "session": "ss"}
_TOKEN = re.compile(r"^(st|dv|ss)_([1-9][0-9]{0,9})_([A-Za-z0-9_\-]{20,100})$")
_KIND = {"st": "staff", "dv": "device", "ss": "session"}


def new_token(kind: str, row_id: int) -> str:
    return f"{PREFIX[kind]}_{row_id}_{secrets.token_urlsafe(24)}"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def parse_token(token: str) -> tuple[str, int] | None:
    m = _TOKEN.match(token)
    if m is None:
        return None
    return _KIND[m.group(1)], int(m.group(2))


def token_matches(token: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_token(token).encode(), stored_hash.encode())


def hash_pin(pin: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt${salt.hex()}${digest.hex()}"


def pin_matches(pin: str, stored: str) -> bool:
    try:
        scheme, salt_hex, digest_hex = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hash_pin(pin, bytes.fromhex(salt_hex)).split("$")[2]
    return hmac.compare_digest(candidate.encode(), digest_hex.encode())
