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
from types import SimpleNamespace
from typing import Any

from sqlalchemy import case, literal, select, update
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


_T = LoginThrottle.__table__
_INSERT_FOR = {"postgresql": pg_insert, "sqlite": sqlite_insert}


def _rows(session: Session, keys: dict[str, str]) -> dict[str, Any]:
    """The counters of ``keys`` that exist, by scope: plain rows read through Core (issue 19),
    so no object loaded earlier in the session can answer with stale values."""
    found = session.connection().execute(
        select(_T.c.key_hash, _T.c.last_success_at, _T.c.blocked_until)
        .where(_T.c.key_hash.in_(list(keys.values())))
    )  # fmt: skip
    by_key = {row.key_hash: row for row in found}
    return {scope: by_key[key] for scope, key in keys.items() if key in by_key}


def _wait(rows: dict[str, Any], now: datetime) -> int:
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
    """Create the missing counter rows — one multi-row ``INSERT … ON CONFLICT DO NOTHING``, so
    concurrent creators (other workers) do not clash."""
    insert = _INSERT_FOR[session.get_bind().dialect.name]
    rows = [{"key_hash": key, "scope": scope, "failures": 0,
             "user_id": None if scope == "address" else user_id}
            for scope, key in keys.items()]  # fmt: skip
    session.connection().execute(
        insert(_T).values(rows).on_conflict_do_nothing(index_elements=["key_hash"])
    )


def record_failure(
    session: Session, username: str, address: str, user_id: int | None, now: datetime
) -> int:
    """Count one failed attempt in every scope; returns the wait now imposed on this source.

    Three statements (issue 19; it was up to ten): create the missing rows, count the failure
    in all three with one ``UPDATE … RETURNING``, then set ``blocked_until`` of the scopes
    whose count now imposes a back-off (one ``UPDATE``, skipped when none does)."""
    keys = _keys(username, address)
    _ensure(session, keys, user_id)
    fresh = case(
        ((_T.c.last_failure_at.is_(None)) | (_T.c.last_failure_at < now - DECAY), 1),
        else_=_T.c.failures + 1,
    )
    counted = session.connection().execute(
        update(_T)
        .where(_T.c.key_hash.in_(list(keys.values())))
        .values(failures=fresh, last_failure_at=now)
        .returning(_T.c.key_hash, _T.c.failures, _T.c.last_success_at, _T.c.blocked_until)
    )
    by_key = {row.key_hash: row for row in counted}
    rows: dict[str, Any] = {}
    blocks: dict[str, datetime] = {}
    for scope, key in keys.items():
        row = by_key.get(key)
        if row is None:
            continue
        blocked_until = row.blocked_until
        if seconds := backoff_seconds(scope, row.failures):
            blocked_until = blocks[key] = now + timedelta(seconds=seconds)
        rows[scope] = SimpleNamespace(last_success_at=row.last_success_at,
                                      blocked_until=blocked_until)  # fmt: skip
    if blocks:
        session.connection().execute(
            update(_T)
            .where(_T.c.key_hash.in_(list(blocks)))
            .values(blocked_until=case(
                {key: literal(at, _T.c.blocked_until.type) for key, at in blocks.items()},
                value=_T.c.key_hash,
            ))  # fmt: skip
        )
    return _wait(rows, now)


def record_success(
    session: Session, username: str, address: str, user_id: int | None, now: datetime
) -> None:
    """A verified login: the pair and the account start again; the address becomes known.
    Two statements: create the missing rows, then one ``UPDATE`` of the pair and account."""
    keys = _keys(username, address)
    _ensure(session, keys, user_id)
    pair = _T.c.key_hash == keys["pair"]
    session.connection().execute(
        update(_T)
        .where(_T.c.key_hash.in_([keys["pair"], keys["account"]]))
        .values(failures=0, blocked_until=None,
                last_success_at=case((pair, literal(now, _T.c.last_success_at.type)),
                                     else_=_T.c.last_success_at))
    )  # fmt: skip


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
