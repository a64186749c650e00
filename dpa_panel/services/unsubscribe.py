"""One-click unsubscribe from the "informing" mailing list (issue 20, RFC 8058).

Every row of the mailing-list export carries ``<public url>/api/unsubscribe/<token>``. The
token names the subject without showing a database id: ``<nonce>.<masked id>.<signature>``
where the nonce is derived from the id with the deployment secret, the id is XOR-masked with
an HMAC of that nonce, and the signature is an HMAC of both (``DPA_SECRET_KEY``; a
development panel without it signs with a fixed development key — production refuses to
start without the secret). An altered or forged token fails the signature check and changes
nothing; a replayed one finds the consent already withdrawn and says so (idempotent).

``GET /api/unsubscribe/<token>`` shows a confirm button; ``POST`` to the same URL (a mail
client's RFC 8058 ``List-Unsubscribe=One-Click`` or that button) withdraws the "informing"
consent in the ledger (``services.consent.withdraw``, channel ``link``) — no login, audited.
Changing the secret invalidates every link already sent (docs/security.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from dpa_panel import settings
from dpa_panel.models import DataSubject
from dpa_panel.models.types import utcnow
from dpa_panel.services import audit, consent
from dpa_panel.services.audit import Actor
from dpa_panel.services.errors import ServiceError

PURPOSE = "informing"
_DEV_KEY = "dpa-panel-development-unsubscribe-key"


def _key() -> bytes:
    return (settings.secret_key() or _DEV_KEY).encode("utf-8")


def _mac(label: str, data: bytes, size: int) -> bytes:
    return hmac.new(_key(), label.encode() + b"\x00" + data, hashlib.sha256).digest()[:size]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_token(subject_id: int) -> str:
    ident = struct.pack(">Q", subject_id)
    nonce = _mac("unsubscribe-nonce", ident, 8)
    masked = bytes(a ^ b for a, b in zip(ident, _mac("unsubscribe-mask", nonce, 8), strict=True))
    signature = _mac("unsubscribe-sign", nonce + masked, 16)
    return f"{_b64(nonce)}.{_b64(masked)}.{_b64(signature)}"


def read_token(token: str) -> int | None:
    """The subject id a token names, or None when it is malformed, altered or forged."""
    try:
        nonce_s, masked_s, signature_s = (token or "")[:100].split(".")
        nonce, masked, signature = _unb64(nonce_s), _unb64(masked_s), _unb64(signature_s)
    except (ValueError, TypeError):
        return None
    if len(nonce) != 8 or len(masked) != 8 or len(signature) != 16:
        return None
    if not hmac.compare_digest(signature, _mac("unsubscribe-sign", nonce + masked, 16)):
        return None
    ident = bytes(a ^ b for a, b in zip(masked, _mac("unsubscribe-mask", nonce, 8), strict=True))
    return struct.unpack(">Q", ident)[0]


def link(subject_id: int) -> str:
    base = settings.public_url() or "http://localhost:3000"
    return f"{base}/api/unsubscribe/{make_token(subject_id)}"


def language_of(session: Session, token: str) -> str | None:
    """The language of the subject a valid token names (for the confirm page)."""
    subject_id = read_token(token)
    if subject_id is None:
        return None
    return session.scalar(select(DataSubject.language).where(DataSubject.id == subject_id))


def unsubscribe(session: Session, token: str, *, client_ip: str,
                now: datetime | None = None) -> str:  # fmt: skip
    """Withdraw the "informing" consent the token names: ``done``, ``already`` (nothing to
    withdraw: a replay, or never given) or ``invalid`` (forged/altered/unknown)."""
    now = now or utcnow()
    subject_id = read_token(token)
    actor = Actor.public(client_ip)
    if subject_id is None:
        audit.record(session, actor, "consent.unsubscribe_refused", "consent", "", {})
        return "invalid"
    if consent.current_states(session, subject_id).get(PURPOSE) != "granted":
        audit.record(session, actor, "consent.unsubscribe_repeated", "data_subject", subject_id,
                     {})  # fmt: skip
        return "already"
    try:
        consent.withdraw(session, actor, subject_id, PURPOSE, channel="link", evidence="", now=now)
    except ServiceError:  # blocked or destroyed subject: nothing to do here
        return "already"
    return "done"
