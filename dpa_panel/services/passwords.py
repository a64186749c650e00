"""Passwords: the NIST SP 800-63B §5.1.1.2 policy, Unicode normalisation, argon2 hashing.

Hashing is passlib with argon2 (bcrypt 5 breaks passlib, so bcrypt is not offered).

Every password is normalised to Unicode NFKC before it is checked, hashed or verified, so the
same password typed on two keyboards (composed "ә" or "ә" + combining mark, full-width digits)
is the same password. Hashes written before normalisation still verify: ``verify_and_update``
falls back to the raw text once and then stores the normalised hash.

The policy (issue 15, NIST SP 800-63B §5.1.1.2 "memorized secret verifiers"):

* at least 12 characters, 15 for administrators (counted after normalisation), at most 256;
* not built from the username or the organisation's name: what remains after removing them
  must still be 12 characters long;
* not on a list of common or breached passwords: the 30 000 most frequent passwords of public
  breach corpora that the maintained ``zxcvbn`` package ships, plus a short local list
  (Kazakh/Russian words, cities);
* not repetitive or sequential and not otherwise easy to guess: ``zxcvbn``'s estimate must
  reach score 3 (about 10^8 guesses); its match tells which of these messages to show.

No composition rules (NIST advises against them) and no periodic expiry.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from passlib.context import CryptContext

PWD_CONTEXT = CryptContext(schemes=["argon2"], deprecated="auto")

MIN_PASSWORD_LENGTH = 12
MIN_ADMIN_PASSWORD_LENGTH = 15
MAX_PASSWORD_LENGTH = 256
#: zxcvbn score (0–4) a password must reach; 3 = "safely unguessable: moderate protection
#: from offline slow-hash scenario" (about 10^8 guesses).
MIN_STRENGTH_SCORE = 3
#: Words of the organisation's name shorter than this are not treated as "the name".
MIN_NAME_WORD = 5

#: Local additions to zxcvbn's (English-centred) list: words and places a Kazakh user is
#: likely to pick, spelled the common ways.
LOCAL_COMMON = frozenset(
    {
        "parol1234567",
        "пароль123456",
        "qwertyqwerty",
        "kazakhstan2025",
        "kazakhstan2026",
        "qazaqstan2026",
        "казахстан2026",
        "қазақстан2026",
        "almaty123456",
        "astana123456",
        "changeme1234",
        "administrator",
        "1q2w3e4r5t6y",
        "qazwsxedcrfv",
    }
)


def normalise(password: str) -> str:
    """The form of a password that is checked, hashed and verified (Unicode NFKC)."""
    return unicodedata.normalize("NFKC", password or "")


def hash_password(password: str) -> str:
    return PWD_CONTEXT.hash(normalise(password))


def verify_and_update(password: str, stored_hash: str) -> tuple[bool, str | None]:
    """(valid, new_hash): ``new_hash`` is set when the stored hash should be upgraded."""
    normal = normalise(password)
    valid, new_hash = PWD_CONTEXT.verify_and_update(normal, stored_hash)
    if valid or normal == (password or ""):
        return valid, new_hash
    # A hash written before passwords were normalised: accept the raw text once, re-hash.
    valid, _ = PWD_CONTEXT.verify_and_update(password or "", stored_hash)
    return (True, PWD_CONTEXT.hash(normal)) if valid else (False, None)


def _fold(text: str) -> str:
    return normalise(text).casefold()


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"]) | LOCAL_COMMON


@lru_cache(maxsize=1)
def organisation_words() -> tuple[str, ...]:
    """The words of the organisation's name in every language of the catalog ("app.org")."""
    from dpa_panel.i18n import CATALOGS

    words = set()
    for messages in CATALOGS.values():
        for word in re.findall(r"\w+", _fold(messages.get("app.org", ""))):
            if len(word) >= MIN_NAME_WORD:
                words.add(word)
    return tuple(sorted(words, key=len, reverse=True))


def _remainder(folded: str, parts: list[str]) -> str:
    for part in parts:
        if part:
            folded = folded.replace(part, "")
    return folded


def _strength_problem(password: str, inputs: list[str]) -> str | None:
    from zxcvbn import zxcvbn

    result = zxcvbn(password[:100], user_inputs=inputs)
    if result["score"] >= MIN_STRENGTH_SCORE:
        return None
    patterns = {match["pattern"] for match in result["sequence"]}
    dictionaries = {m.get("dictionary_name") for m in result["sequence"]}
    if "repeat" in patterns:
        return "password.repetitive"
    if patterns & {"sequence", "spatial"}:
        return "password.sequential"
    if "passwords" in dictionaries:
        return "password.too_common"
    if "user_inputs" in dictionaries:
        return "password.contains_name"
    return "password.too_guessable"


def password_problems(username: str, password: str, *, role: str = "") -> list[str]:
    """Catalog keys of every rule the new password breaks (empty list = acceptable).

    ``role`` is the account's role: administrators need the longer minimum.
    """
    normal = normalise(password)
    folded = normal.casefold()
    problems: list[str] = []
    minimum = MIN_ADMIN_PASSWORD_LENGTH if role == "admin" else MIN_PASSWORD_LENGTH
    if len(normal) < minimum:
        problems.append("password.too_short_admin" if role == "admin" else "password.too_short")
    if len(normal) > MAX_PASSWORD_LENGTH:
        problems.append("password.too_long")
        return problems
    name = _fold(username).strip()
    if name and name in folded and len(_remainder(folded, [name]).strip()) < MIN_PASSWORD_LENGTH:
        problems.append("password.contains_username")
    words = list(organisation_words())
    used = [word for word in words if word in folded]
    if used and len(_remainder(folded, used).strip()) < MIN_PASSWORD_LENGTH:
        problems.append("password.contains_org")
    if folded.strip() in _common_passwords():
        problems.append("password.too_common")
    if not problems:
        strength = _strength_problem(normal, [name, *words] if name else words)
        if strength:
            problems.append(strength)
    return problems
