"""Two-factor login with time-based one-time codes (TOTP, RFC 6238) and recovery codes.

Required for administrators and compliance officers (they see and change the most), optional
for staff and board members. An account enrols by scanning a QR code (or typing the secret)
into an authenticator app and confirming with a first valid code; it then receives ten
single-use recovery codes, shown once and stored only as SHA-256 digests.

* The secret is stored encrypted (Fernet, key derived with HKDF from ``DPA_SECRET_KEY``; without
  the key — development, tests — from a fixed development key, so a copied development
  database reveals it). It is shown only to the enrolling account's own tab, once.
* Codes of the current 30-second step and one step either side are accepted (clock drift), and
  each step at most once per account: ``last_step`` moves forward with an atomic
  ``UPDATE ... WHERE last_step < :step``, so a code seen over someone's shoulder, or sent
  twice by two workers, is refused the second time.
* A recovery code works once (atomic ``UPDATE ... WHERE used_at IS NULL``).
* Rotating ``DPA_SECRET_KEY`` makes the stored secrets unreadable: accounts then log in with a
  recovery code and enrol again, or an administrator resets their second factor.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, func, select, update
from sqlmodel import Session

from dpa_panel import settings
from dpa_panel.models import RecoveryCode, TwoFactor
from dpa_panel.services import audit
from dpa_panel.services.audit import Actor
from dpa_panel.services.errors import ServiceError

REQUIRED_ROLES = frozenset({"admin", "compliance"})
ISSUER = "DPA Panel"
STEP_SECONDS = 30
#: Steps accepted either side of the current one (RFC 6238 §5.2 allows for clock drift).
DRIFT_STEPS = 1
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
_DEV_KEY = "dpa-panel-development-key-not-secret"


def is_required(role: str) -> bool:
    return role in REQUIRED_ROLES


def _fernet(key: str | None = None) -> Fernet:
    material = (key or settings.secret_key() or _DEV_KEY).encode("utf-8")
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"dpa-panel totp secret v1"
    ).derive(material)
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_secret(secret: str, *, key: str | None = None) -> str:
    """Encrypt under ``key`` (default: the running deployment's ``DPA_SECRET_KEY``); seeding
    tools pass the key of the server they seed for."""
    return _fernet(key).encrypt(secret.encode("ascii")).decode("ascii")


def decrypt_secret(token: str) -> str | None:
    """The base32 secret, or None when it was encrypted under another key."""
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("ascii")
    except (InvalidToken, ValueError):
        return None


def _step(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def code_at(secret: str, now: datetime) -> str:
    """The code an authenticator app shows at ``now`` (for tests and the demo helpers)."""
    return pyotp.TOTP(secret).generate_otp(_step(now))


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    code = re.sub(r"\s", "", code or "")
    if not re.fullmatch(r"\d{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    current = _step(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _recovery_hash(code: str) -> str:
    normal = re.sub(r"[\s-]", "", (code or "").lower())
    return hashlib.sha256(f"dpa-recovery:{normal}".encode()).hexdigest()


def looks_like_recovery_code(code: str) -> bool:
    return bool(re.fullmatch(r"[a-z0-9]{10}", re.sub(r"[\s-]", "", (code or "").lower())))


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def _row(session: Session, user_id: int) -> TwoFactor | None:
    return session.scalars(select(TwoFactor).where(TwoFactor.user_id == user_id)).first()


def is_enrolled(session: Session, user_id: int) -> bool:
    row = _row(session, user_id)
    return row is not None and row.confirmed_at is not None


def enrolled_user_ids(session: Session) -> set[int]:
    return set(
        session.scalars(select(TwoFactor.user_id).where(TwoFactor.confirmed_at.is_not(None)))
    )


def recovery_codes_left(session: Session, user_id: int) -> int:
    return session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
    )


@dataclass(frozen=True)
class Enrolment:
    """What the enrolling account's own tab shows: the secret as text and as a QR code."""

    secret: str
    uri: str
    qr_data_uri: str


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def begin_enrolment(
    session: Session, user_id: int, username: str, now: datetime, *, secret: str = ""
) -> Enrolment:
    """A new secret waiting for confirmation (replacing an unconfirmed one).

    Refused when the account already has a confirmed second factor: it must be reset first,
    so someone at an unattended, logged-in screen cannot silently replace it.
    """
    row = _row(session, user_id)
    if row is not None and row.confirmed_at is not None:
        raise ServiceError("two_factor.already_enrolled")
    secret = secret or pyotp.random_base32()
    if row is None:
        row = TwoFactor(user_id=user_id, secret_enc=encrypt_secret(secret), created_at=now)
    else:
        row.secret_enc, row.created_at, row.last_step = encrypt_secret(secret), now, None
    session.add(row)
    session.flush()
    uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)
    qr = segno.make(uri, error="m").svg_data_uri(scale=5, border=2)
    return Enrolment(_grouped(secret), uri, qr)


def _advance(session: Session, user_id: int, step: int) -> bool:
    """Accept ``step`` once: only if it is later than every step accepted before."""
    result = session.execute(
        update(TwoFactor)
        .where(
            TwoFactor.user_id == user_id,
            (TwoFactor.last_step.is_(None)) | (TwoFactor.last_step < step),
        )
        .values(last_step=step)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def confirm_enrolment(
    session: Session, actor: Actor, user_id: int, code: str, now: datetime
) -> list[str]:
    """Confirm a pending enrolment with its first code; returns the new recovery codes."""
    row = _row(session, user_id)
    if row is None or row.confirmed_at is not None:
        raise ServiceError("two_factor.no_enrolment")
    secret = decrypt_secret(row.secret_enc)
    step = _matching_step(secret, code, now) if secret else None
    if step is None or not _advance(session, user_id, step):
        raise ServiceError("two_factor.code_wrong", field="code")
    session.refresh(row)
    row.confirmed_at = now
    session.add(row)
    codes = _replace_recovery_codes(session, user_id, now)
    audit.record(
        session,
        actor,
        "account.two_factor_enrolled",
        "staff_user",
        user_id,
        {"recovery_codes": len(codes)},
    )
    return codes


def _replace_recovery_codes(session: Session, user_id: int, now: datetime) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    for code in codes:
        session.add(RecoveryCode(user_id=user_id, code_hash=_recovery_hash(code), created_at=now))
    session.flush()
    return codes


def verify(session: Session, user_id: int, code: str, now: datetime) -> str:
    """Check a second factor: "totp", "recovery" (a recovery code, now spent), "replay" (a
    valid code already used), or "" (wrong)."""
    row = _row(session, user_id)
    if row is None or row.confirmed_at is None:
        return ""
    if looks_like_recovery_code(code):
        result = session.execute(
            update(RecoveryCode)
            .where(
                RecoveryCode.user_id == user_id,
                RecoveryCode.code_hash == _recovery_hash(code),
                RecoveryCode.used_at.is_(None),
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        return "recovery" if result.rowcount == 1 else ""
    secret = decrypt_secret(row.secret_enc)
    step = _matching_step(secret, code, now) if secret else None
    if step is None:
        return ""
    return "totp" if _advance(session, user_id, step) else "replay"


def remove(session: Session, user_id: int) -> bool:
    """Forget an account's second factor and recovery codes; whether there was one."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    result = session.execute(delete(TwoFactor).where(TwoFactor.user_id == user_id))
    return result.rowcount > 0
