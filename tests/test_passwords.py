"""The password policy (NIST SP 800-63B §5.1.1.2, issue 15): length by role, common/breached
lists, the username and the organisation's name, repetition and sequences, normalisation."""

from __future__ import annotations

import unicodedata

import pytest
from sqlmodel import Session

from dpa_panel.demo import DEMO_ACCOUNTS
from dpa_panel.i18n import CATALOGS, LOCALES, tr
from dpa_panel.models import StaffUser
from dpa_panel.services import accounts, auth, passwords
from dpa_panel.services.audit import Actor
from dpa_panel.services.errors import ServiceError
from dpa_panel.services.passwords import password_problems


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        # The weak passwords the outside attack had accepted (issue 15, hole 4).
        ("aaaaaaaaaaaa", "password.repetitive"),
        ("123456789013", "password.too_common"),
        ("qwertyuiopas", "password.too_common"),
        ("aigerim.sultan1", "password.contains_username"),
        (" " * 11 + "x", "password.repetitive"),
        # More of the same families.
        ("abcdefghijklmnop", "password.sequential"),
        ("iloveyouiloveyou", "password.repetitive"),
        ("password1234", "password.too_common"),
        ("Media-Professionals-1", "password.contains_org"),
        ("Медиа-Ассоциация-1", "password.contains_org"),
        ("short-pass1", "password.too_short"),
        ("x" * 257, "password.too_long"),
    ],
)
def test_weak_passwords_are_refused_with_the_right_reason(password, problem):
    problems = password_problems("aigerim.sultan", password)
    assert problems and problems[0] == problem, problems


def test_username_plus_one_is_refused_for_every_username():
    for username in ("aigerim", "d.kim", "compliance2", "Aigerim"):
        assert "password.contains_username" in password_problems(username, username + "1")
        assert "password.contains_username" in password_problems(
            username, f"{username.upper()}2026{username}"
        )


@pytest.mark.parametrize(
    "password",
    [
        "Correct-Horse-Battery-9",
        "Steppe.Stage.Aigerim",
        "Қазақстан-Тау-Көл-2026",
        "ter pes kitap alma",
    ],
)
def test_strong_passwords_pass(password):
    assert password_problems("aigerim", password) == []


def test_administrators_need_fifteen_characters():
    fourteen = "Tulpar-Zhol-26"
    assert len(fourteen) == 14
    assert password_problems("dana", fourteen, role="staff") == []
    assert password_problems("dana", fourteen, role="admin") == ["password.too_short_admin"]
    assert password_problems("dana", fourteen + "!", role="admin") == []


def test_length_counts_normalised_characters():
    """NFKC: the full-width "ＡＢＣ" is "ABC"; a decomposed "ё" is one character."""
    decomposed = unicodedata.normalize("NFD", "Ёлка-Йогурт-Тау-1")
    assert len(decomposed) > len("Ёлка-Йогурт-Тау-1")
    assert passwords.normalise(decomposed) == "Ёлка-Йогурт-Тау-1"
    assert passwords.normalise("Ｐａｓｓｗｏｒｄ１２３４") == "Password1234"
    assert "password.too_common" in password_problems("x", "Ｐａｓｓｗｏｒｄ１２３４")


def test_normalised_forms_of_one_password_verify_against_each_other():
    composed = "Ёлка-Йогурт-Тау-2026"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    stored = passwords.hash_password(decomposed)
    assert passwords.verify_and_update(composed, stored)[0]
    assert not passwords.verify_and_update("Ёлка-Йогурт-Тау-2027", stored)[0]


def test_a_hash_from_before_normalisation_still_verifies_and_is_upgraded():
    raw = "Ｔａｕ-Ｋｏｌ-Ｅｒｔｅｇｉ-9"  # full-width: NFKC changes it
    legacy = passwords.PWD_CONTEXT.hash(raw)  # hashed without normalising, as before issue 15
    valid, new_hash = passwords.verify_and_update(raw, legacy)
    assert valid and new_hash
    assert passwords.PWD_CONTEXT.verify(passwords.normalise(raw), new_hash)


def test_the_breached_list_comes_from_the_zxcvbn_package():
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    listed = [p for p in FREQUENCY_LISTS["passwords"] if len(p) >= 12][:20]
    assert len(listed) == 20
    for password in listed:
        assert password_problems("someone", password), password


def test_every_rejection_has_a_message_in_every_language():
    keys = {
        "password.too_short",
        "password.too_short_admin",
        "password.too_long",
        "password.contains_username",
        "password.contains_org",
        "password.too_common",
        "password.repetitive",
        "password.sequential",
        "password.too_guessable",
    }
    for locale in LOCALES:
        for key in keys:
            assert key in CATALOGS[locale] and tr(locale, key) != key


def test_demo_accounts_satisfy_the_policy_of_their_role():
    for username, role, _name, password in DEMO_ACCOUNTS:
        assert password_problems(username, password, role=role) == [], username


def test_temporary_passwords_satisfy_the_admin_policy():
    for _ in range(20):
        assert password_problems("", accounts.generate_temporary_password(), role="admin") == []


def test_account_creation_and_change_apply_the_policy(engine):
    with Session(engine) as s:
        with pytest.raises(ServiceError, match="password.too_short_admin"):
            accounts.create_account(
                s,
                Actor.system(),
                username="boss",
                full_name="",
                role="admin",
                password="Tulpar-Zhol-26",
            )
        user = accounts.create_account(
            s,
            Actor.system(),
            username="aigerim",
            full_name="",
            role="staff",
            password="Correct-Horse-Battery-9",
        )
        s.commit()
        for weak, key in [
            ("aaaaaaaaaaaa", "password.repetitive"),
            ("aigerim1", "password.too_short"),
            ("aigerim-aigerim-1", "password.contains_username"),
        ]:
            with pytest.raises(ServiceError, match=key):
                accounts.change_own_password(
                    s, Actor.user(user.id), user.id, "Correct-Horse-Battery-9", weak
                )
        s.rollback()
        assert auth.authenticate(s, "aigerim", "Correct-Horse-Battery-9").ok


def test_promotion_to_admin_asks_for_a_new_longer_password(engine):
    with Session(engine) as s:
        accounts.create_account(
            s,
            Actor.system(),
            username="root",
            full_name="",
            role="admin",
            password="Tulpar-Zhol-Kitap-26",
        )
        user = accounts.create_account(
            s,
            Actor.system(),
            username="dana",
            full_name="",
            role="staff",
            password="Tulpar-Zhol-26",
            must_change_password=False,
        )
        accounts.change_role(s, Actor.system(), user.id, "admin")
        s.commit()
        assert s.get(StaffUser, user.id).must_change_password
