"""Password hashing: passlib with argon2 (bcrypt 5 breaks passlib, so bcrypt is not offered)."""

from __future__ import annotations

from passlib.context import CryptContext

PWD_CONTEXT = CryptContext(schemes=["argon2"], deprecated="auto")


def hash_password(password: str) -> str:
    return PWD_CONTEXT.hash(password)


def verify_and_update(password: str, stored_hash: str) -> tuple[bool, str | None]:
    """(valid, new_hash): ``new_hash`` is set when the stored hash should be upgraded."""
    return PWD_CONTEXT.verify_and_update(password, stored_hash)
