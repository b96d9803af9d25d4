"""Attacks on the real server over real sockets (loopback, bounded in count and time). The e2e
fixtures serve here too: `live`/`tokens`/`connect` per test, `shared_*` per module."""

from tests.e2e.conftest import connect, shared_connect, shared_live, shared_tokens, tokens

__all__ = ["connect", "shared_connect", "shared_live", "shared_tokens", "tokens"]
