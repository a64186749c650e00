"""Checking and cleaning what people type into the application form (policy clause 2.1).

Pure functions, no database. Each check returns the cleaned value and either ``None`` or a
catalog key that tells the user what to do (``field.*`` in the message catalogs). Text is
stored as typed: HTML is *not* stripped, because the UI always shows it as text, never as
markup, and silently changing what a person wrote would make their data inaccurate.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from dpa_panel.models.vocab import EDUCATION_LEVELS, POSITION_LEVELS, WORKPLACE_CATEGORIES

# --- phone -----------------------------------------------------------------------------------

#: What may appear between the digits of a phone number as people write it.
_PHONE_SEPARATORS = re.compile(r"[\s.\-()]")


def normalise_kz_phone(raw: str | None) -> str | None:
    """A Kazakhstan number in E.164 (``+7`` and 10 national digits), or ``None``.

    Accepted spellings: ``8 (701) 123-45-67``, ``+7 701 123 45 67``, ``87011234567``,
    ``77011234567``, ``7011234567``, ``+7-701-123-4567``, with spaces, dots, dashes or
    parentheses anywhere. The national number must start with 6 or 7 (Kazakhstan's part of
    the shared +7 zone; Russia's numbers start with 3, 4, 8 or 9).
    """
    if not raw:
        return None
    compact = _PHONE_SEPARATORS.sub("", raw.strip())
    if compact.startswith("+"):
        digits = compact[1:]
        if not (digits.isascii() and digits.isdigit()) or len(digits) != 11:
            return None
        if digits[0] != "7":
            return None
        national = digits[1:]
    else:
        if not (compact.isascii() and compact.isdigit()):
            return None
        if len(compact) == 11 and compact[0] in "78":
            national = compact[1:]
        elif len(compact) == 10:
            national = compact
        else:
            return None
    if national[0] not in "67":
        return None
    return "+7" + national


# --- e-mail ----------------------------------------------------------------------------------

EMAIL_MAX = 254
_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")


def _domain_label_ok(label: str) -> bool:
    if not 1 <= len(label) <= 63 or label[0] == "-" or label[-1] == "-":
        return False
    return all(ch == "-" or ch.isalnum() for ch in label)


def validate_email(raw: str | None) -> str | None:
    """A practical address check: ``local@domain.tld``; returns it with the domain lower-cased.

    The local part is ASCII (what mail providers in Kazakhstan hand out); the domain may be
    internationalised (``.қаз``). At most 254 characters, 64 before the ``@``.
    """
    if not raw:
        return None
    value = raw.strip()
    if not value or len(value) > EMAIL_MAX or value.count("@") != 1:
        return None
    local, domain = value.split("@")
    if not local or len(local) > 64 or not _LOCAL_PART.match(local):
        return None
    domain = unicodedata.normalize("NFC", domain).lower()
    labels = domain.split(".")
    if len(labels) < 2 or not all(_domain_label_ok(label) for label in labels):
        return None
    tld = labels[-1]
    if not (tld.startswith("xn--") or (len(tld) >= 2 and tld.isalpha())):
        return None
    return f"{local}@{domain}"


# --- free text -------------------------------------------------------------------------------

#: Invisible characters that change how text is displayed or compared without being seen:
#: bidirectional embeddings, overrides, isolates and marks (``U+202E`` shows ``Али\u202eвоН``
#: as a different name; CVE-2021-42574), zero-width characters and the byte-order mark.
BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
)
ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")
#: Characters that break a line: refused in one-line fields (a name, a number, a body).
LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def text_problem(value: str, multiline: bool) -> str | None:
    """The catalog key of the first thing wrong with the characters of ``value``, or None.

    One-line text refuses line breaks (``field.line_break``, including the Unicode line and
    paragraph separators U+2028/U+2029), invisible characters (``field.invisible_chars``:
    every Unicode *format* character — the bidi controls and zero-width characters above and
    the rest of category Cf) and any other control character or lone surrogate
    (``field.control_chars``). Multi-line text may hold ``\n`` and ``\t``; everything else
    is refused the same way (its line breaks were already turned into ``\n``).
    """
    for ch in value:
        if multiline and ch in "\n\t":
            continue
        if ch in LINE_BREAKS and not multiline:
            return "field.line_break"
        category = unicodedata.category(ch)
        if category == "Cf" or ch in BIDI_CONTROLS or ch in ZERO_WIDTH:
            return "field.invisible_chars"
        if category in ("Cc", "Cs", "Zl", "Zp"):
            return "field.control_chars"
    return None


def clean_text(
    raw: object, max_len: int, *, required: bool, multiline: bool = False
) -> tuple[str, str | None]:
    """NFC-normalise, strip, check the characters and the length; ``(value, error_key | None)``.

    ``raw`` must be text (``None`` counts as empty): anything else — a number, a list, a dict
    sent by a hand-made request — is ``field.not_text`` and its value is not kept. Text is
    put in Unicode NFC, so ``й`` typed as ``и`` + combining breve is stored, searched and
    compared as the one letter. Multi-line text turns Windows/old-Mac line ends and U+2028/
    U+2029 into ``\n``. Problem characters are refused (``text_problem``), never silently
    removed. HTML is kept as typed.
    """
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        return "", "field.not_text"
    value = unicodedata.normalize("NFC", raw).strip()
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
        value = value.replace("\u2028", "\n").replace("\u2029", "\n")
    if not value:
        return "", ("field.required" if required else None)
    problem = text_problem(value, multiline)
    if problem:
        return value, problem
    if len(value) > max_len:
        return value, "field.too_long"
    return value, None


# --- the application form --------------------------------------------------------------------


@dataclass(frozen=True)
class _TextRule:
    max_len: int
    required: bool
    multiline: bool = False

    def __call__(self, raw: str) -> tuple[Any, str | None]:
        value, error = clean_text(
            raw, self.max_len, required=self.required, multiline=self.multiline
        )
        return value, error


@dataclass(frozen=True)
class _ChoiceRule:
    choices: tuple[str, ...]

    def __call__(self, raw: str) -> tuple[Any, str | None]:
        value = (raw or "").strip()
        if not value:
            return "", "field.required"
        return value, (None if value in self.choices else "field.choice_invalid")


def _optional_name(raw: str) -> tuple[Any, str | None]:
    value, error = clean_text(raw, 100, required=False)
    return (value or None), error


def _phone(raw: str) -> tuple[Any, str | None]:
    if not (raw or "").strip():
        return "", "field.required"
    value = normalise_kz_phone(raw)
    return (value, None) if value else ((raw or "").strip(), "field.phone_invalid")


def _email(raw: str) -> tuple[Any, str | None]:
    if not (raw or "").strip():
        return "", "field.required"
    value = validate_email(raw)
    return (value, None) if value else ((raw or "").strip(), "field.email_invalid")


EXPERIENCE_YEARS_MAX = 80


def _years(raw: str) -> tuple[Any, str | None]:
    value = (raw or "").strip()
    if not value:
        return None, None
    if not (value.isascii() and value.isdigit()) or int(value) > EXPERIENCE_YEARS_MAX:
        return value, "field.number_invalid"
    return int(value), None


#: Field name -> rule, in the order of the form (and of error messages).
FIELD_RULES: dict[str, Callable[[str], tuple[Any, str | None]]] = {
    "surname": _TextRule(100, required=True),
    "first_name": _TextRule(100, required=True),
    "patronymic": _optional_name,
    "phone": _phone,
    "email": _email,
    "workplace": _TextRule(200, required=True),
    "workplace_category": _ChoiceRule(WORKPLACE_CATEGORIES),
    "position": _TextRule(200, required=True),
    "position_level": _ChoiceRule(POSITION_LEVELS),
    "education_level": _ChoiceRule(EDUCATION_LEVELS),
    "education": _TextRule(1000, required=False, multiline=True),
    "experience_years": _years,
    "experience": _TextRule(2000, required=False, multiline=True),
    "other_info": _TextRule(2000, required=False, multiline=True),
}

#: The fields of the application form (= the editable fields of a subject).
APPLICATION_FIELDS: tuple[str, ...] = tuple(FIELD_RULES)


def validate_field(name: str, raw: object) -> tuple[Any, str | None]:
    """Clean one form field; ``KeyError`` for a name that is not a form field.

    Every field arrives as text (``None``: empty). Any other value — the handler is callable
    by any browser with any JSON, e.g. ``{"$gt": ""}`` or ``["a", "b"]`` — is refused as
    ``field.not_text`` (value ``""``), never turned into its Python spelling and stored."""
    rule = FIELD_RULES[name]
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        return "", "field.not_text"
    return rule(raw)


def form_flag(value: object) -> bool | None:
    """A checkbox of a form as sent: a native box sends ``"on"`` (or a boolean through a
    ref), an unticked one nothing. ``None`` for anything else (a list, a dict, a number): the
    request was not made by the form."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().lower() in ("on", "true", "1", "yes")
    return None


def validate_application_fields(
    raw: Mapping[str, object],
) -> tuple[dict[str, Any], dict[str, str]]:
    """Clean every form field; returns ``(values, errors)`` with ``errors`` field -> key.

    Missing fields count as empty; keys that are not form fields are ignored. ``values`` holds
    a value for every field (the typed text when the field is invalid) so the form can be
    shown again; store it only when ``errors`` is empty.
    """
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in APPLICATION_FIELDS:
        value, error = validate_field(name, raw.get(name))
        values[name] = value
        if error:
            errors[name] = error
    return values, errors
