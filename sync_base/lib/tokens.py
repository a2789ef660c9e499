"""Inbound tokens: generated once, stored only as a hash.

A token is ``<prefix>.<secret>``: the prefix (8 characters) is stored in clear
to find the row with an index, the whole token only as its SHA-256.  Tokens
are 256-bit random values, so a fast hash is enough (no dictionary to attack)
and a database dump reveals no usable token.
"""

import hashlib
import hmac
import secrets

__all__ = ["PREFIX_LENGTH", "generate", "hash_token", "split_prefix", "verify"]

PREFIX_LENGTH = 8


def generate():
    """Return a new random token."""
    prefix = secrets.token_hex(PREFIX_LENGTH // 2)
    return f"{prefix}.{secrets.token_urlsafe(32)}"


def split_prefix(token):
    """Return the lookup prefix of ``token``, or ``None`` when it cannot be one of ours."""
    if not isinstance(token, str) or len(token) > 256:
        return None
    prefix, sep, secret = token.partition(".")
    if not sep or len(prefix) != PREFIX_LENGTH or not secret:
        return None
    return prefix


def hash_token(token):
    """SHA-256 hex digest of the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def verify(token, token_hash):
    """Constant-time comparison of a presented token with a stored hash."""
    return hmac.compare_digest(hash_token(token), token_hash or "")
