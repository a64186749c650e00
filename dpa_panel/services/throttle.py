"""Login throttling an attacker cannot turn against the owner (NIST SP 800-63B §5.2.2).

The old rule — five failures lock the account for everybody — let anyone lock the admin out
from anywhere. Failures are now counted per *scope*, and each scope imposes an exponential
back-off only on the attempts it covers:

``pair``     one account from one source address: after ``DPA_THROTTLE_PAIR_FREE`` (3) failures
             each further attempt from that address for that account waits 2, 4, 8 … seconds,
             up to ``DPA_THROTTLE_MAX_SECONDS`` (900). A guesser at one address is slowed to a
             few dozen guesses a day; the owner at another address is not affected.
``address``  one source address over all accounts: after ``DPA_THROTTLE_ADDRESS_FREE`` (20)
             failures (an office behind one NAT address shares it), the same back-off for every
             attempt from that address — stops spraying one password over many usernames.
``account``  one account over all addresses, the global ceiling NIST asks for ("no more than
             100 consecutive failed attempts"): after ``DPA_THROTTLE_ACCOUNT_FREE`` (100)
             failures, the back-off applies to addresses from which this account has *never*
             logged in successfully. A botnet with many addresses is slowed down; the owner at
             an address they used before is not, so even the ceiling cannot lock the owner out.

Counters are rows of ``login_throttle`` (every worker sees them) and change with atomic SQL
``UPDATE``s; keys are ``token_hash`` digests of the typed (normalised) username and the address,
so an unknown username is throttled exactly like a known one and nothing tells them apart.
A success resets the pair and the account counter, never the address counter (an attacker's
own account must not reset the address it sprays from). A counter restarts after
``DECAY`` without failures. A refused (throttled) attempt is not checked and not counted.
Wrong current passwords in the change-password form and wrong second-factor codes count as
failures of the same counters.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import case, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from dpa_panel import settings
from dpa_panel.models import LoginThrottle

#: A counter with no failure for this long starts again from zero.
DECAY = timedelta(hours=24)
SCOPES = ("pair", "address", "account")


def _free(scope: str) -> int:
    return {
        "pair": settings.throttle_pair_free,
        "address": settings.throttle_address_free,
        "account": settings.throttle_account_free,
    }[scope]()


def backoff_seconds(scope: str, failures: int) -> int:
    """How long the scope makes the next attempt wait after ``failures`` failures in a row."""
    free = _free(scope)
    if failures < free:
        return 0
    return min(settings.throttle_max_seconds(), 2 ** min(failures - free + 1, 30))


def _name(username: str) -> str:
    return (username or "").strip().lower()[:64]


def _keys(username: str, address: str) -> dict[str, str]:
    from dpa_panel.services.auth import token_hash  # auth imports this module

    name = _name(username)
    return {
        "pair": token_hash(f"throttle:pair:{name}\x00{address}"),
        "address": token_hash(f"throttle:address:{address}"),
        "account": token_hash(f"throttle:account:{name}"),
    }


def _rows(session: Session, keys: dict[str, str]) -> dict[str, LoginThrottle]:
    found = session.scalars(
        select(LoginThrottle).where(LoginThrottle.key_hash.in_(list(keys.values())))
    ).all()
    by_key = {row.key_hash: row for row in found}
    return {scope: by_key[key] for scope, key in keys.items() if key in by_key}


def _wait(rows: dict[str, LoginThrottle], now: datetime) -> int:
    """Seconds until every scope that covers this attempt allows it (0 = now)."""
    known_address = "pair" in rows and rows["pair"].last_success_at is not None
    wait = 0.0
    for scope, row in rows.items():
        if scope == "account" and known_address:
            continue
        if row.blocked_until is not None and row.blocked_until > now:
            wait = max(wait, (row.blocked_until - now).total_seconds())
    return math.ceil(wait)


def retry_after(session: Session, username: str, address: str, now: datetime) -> int:
    """0 when an attempt for ``username`` from ``address`` may be checked now, else seconds."""
    return _wait(_rows(session, _keys(username, address)), now)


def _ensure(session: Session, keys: dict[str, str], user_id: int | None) -> None:
    """Create the missing counter rows; concurrent creators (other workers) do not clash."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    for scope, key in keys.items():
        owner = None if scope == "address" else user_id
        session.execute(
            insert(LoginThrottle)
            .values(key_hash=key, scope=scope, user_id=owner, failures=0)
            .on_conflict_do_nothing(index_elements=["key_hash"])
        )


def record_failure(
    session: Session, username: str, address: str, user_id: int | None, now: datetime
) -> int:
    """Count one failed attempt in every scope; returns the wait now imposed on this source."""
    keys = _keys(username, address)
    _ensure(session, keys, user_id)
    fresh = case(
        (
            (LoginThrottle.last_failure_at.is_(None))
            | (LoginThrottle.last_failure_at < now - DECAY),
            1,
        ),
        else_=LoginThrottle.failures + 1,
    )
    session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key_hash.in_(list(keys.values())))
        .values(failures=fresh, last_failure_at=now)
        .execution_options(synchronize_session=False)
    )
    rows = _rows(session, keys)
    for scope, row in rows.items():
        session.refresh(row)
        seconds = backoff_seconds(scope, row.failures)
        if seconds:
            row.blocked_until = now + timedelta(seconds=seconds)
            session.add(row)
    session.flush()
    return _wait(rows, now)


def record_success(
    session: Session, username: str, address: str, user_id: int | None, now: datetime
) -> None:
    """A verified login: the pair and the account start again; the address becomes known."""
    keys = _keys(username, address)
    _ensure(session, keys, user_id)
    session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key_hash.in_([keys["pair"], keys["account"]]))
        .values(failures=0, blocked_until=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key_hash == keys["pair"])
        .values(last_success_at=now)
        .execution_options(synchronize_session=False)
    )


def clear_for_user(session: Session, user_id: int) -> int:
    """An administrator lifts every pair/account back-off of one account; returns rows."""
    result = session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.user_id == user_id)
        .values(failures=0, blocked_until=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def throttled_user_ids(session: Session, now: datetime) -> set[int]:
    """Accounts with a back-off in force from some address (shown on the accounts page)."""
    return set(
        session.scalars(
            select(LoginThrottle.user_id).where(
                LoginThrottle.user_id.is_not(None), LoginThrottle.blocked_until > now
            )
        )
    )
