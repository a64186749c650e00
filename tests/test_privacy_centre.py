"""The data subject's own side (issue 20) as a person, an attacker and an auditor see it:
one-time codes (expiry, tries, throttling, the same answer for unknown addresses), subject
sessions, withdrawals and requests from /my, the reviewed access package, one-click
unsubscribe tokens (tamper, forgery, replay) and acknowledgements through the outbox.
Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import re
import statistics
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlmodel import Session

from dpa_panel.db import session_scope
from dpa_panel.i18n import tr
from dpa_panel.models import (
    AccessPackage,
    AuditEvent,
    Consent,
    DataSubject,
    MembershipApplication,
    OutboxMessage,
    PolicyVersion,
    SubjectCode,
    SubjectRequest,
)
from dpa_panel.services import (
    consent,
    privacy_centre,
    requests,
    subject_access,
    unsubscribe,
)
from dpa_panel.services.audit import Actor, verify_chain
from dpa_panel.services.errors import ServiceError
from tests.pipeline_helpers import make_staff, move, submit

NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
IP = "203.0.113.7"
BROWSER = "browser-cookie-value"


@pytest.fixture
def officer(engine) -> Actor:
    return Actor.user(make_staff(engine, "dana", "compliance"), "10.0.0.9")


def applicant(engine, consents=("application_review", "informing")) -> tuple[int, str]:
    app_id = submit(engine, consents=consents)
    with Session(engine) as s:
        subject = s.get(DataSubject, s.get(MembershipApplication, app_id).subject_id)
        return subject.id, subject.email


def mails(engine, purpose: str) -> list[OutboxMessage]:
    with Session(engine) as s:
        return list(
            s.scalars(select(OutboxMessage).where(OutboxMessage.purpose == purpose)
                      .order_by(OutboxMessage.id))
        )  # fmt: skip


def ask_code(engine, email, *, ip=IP, now=NOW, code=None):
    with session_scope(engine) as s:
        return subject_access.request_code(s, email, client_ip=ip, language="kk", now=now,
                                           code=code)  # fmt: skip


def verify(engine, email, code, *, ip=IP, now=NOW, browser=BROWSER):
    with session_scope(engine) as s:
        return subject_access.verify_code(s, email, code, client_ip=ip, browser=browser, now=now)


def sign_in(engine, email, *, now=NOW) -> subject_access.SubjectIdentity:
    assert ask_code(engine, email, now=now, code="123456").error == ""
    outcome = verify(engine, email, "123456", now=now)
    assert outcome.error == "" and outcome.ticket
    with session_scope(engine) as s:
        token = subject_access.start_session(s, outcome.ticket, browser=BROWSER, client_ip=IP,
                                             now=now)  # fmt: skip
    with session_scope(engine) as s:
        return subject_access.resolve_session(s, token, now=now)


# --- codes -----------------------------------------------------------------------------------


def test_code_is_mailed_through_the_outbox_and_opens_a_subject_session(engine):
    subject_id, email = applicant(engine)
    assert ask_code(engine, email.upper()).error == ""
    [message] = mails(engine, "subject_code")
    assert message.recipient == email and message.status == "pending"
    code = re.search(r"\b(\d{6})\b", message.body).group(1)
    with Session(engine) as s:
        row = s.scalars(select(SubjectCode)).one()
        assert code not in row.code_hash and row.subject_id == subject_id
    outcome = verify(engine, email, code)
    assert outcome.error == "" and outcome.ticket
    with session_scope(engine) as s:
        assert subject_access.start_session(s, outcome.ticket, browser="other", client_ip=IP,
                                            now=NOW) is None  # fmt: skip
        token = subject_access.start_session(s, outcome.ticket, browser=BROWSER, client_ip=IP,
                                             now=NOW)  # fmt: skip
    assert token
    with session_scope(engine) as s:  # a ticket is single-use
        assert subject_access.start_session(s, outcome.ticket, browser=BROWSER, client_ip=IP,
                                            now=NOW) is None  # fmt: skip
        ident = subject_access.resolve_session(s, token, now=NOW + timedelta(minutes=14))
    assert ident.subject_id == subject_id
    with session_scope(engine) as s:  # 15 minutes idle end it
        assert subject_access.resolve_session(s, token, now=NOW + timedelta(minutes=30)) is None
    assert verify(engine, email, code, now=NOW + timedelta(minutes=1)).error == "my.code_wrong"


def test_unknown_address_gets_the_same_answer_and_no_mail(engine):
    _, email = applicant(engine)
    known = ask_code(engine, email)
    unknown = ask_code(engine, "nobody.here@example.kz")
    assert (known.error, known.retry_after) == (unknown.error, unknown.retry_after) == ("", 0)
    assert [m.recipient for m in mails(engine, "subject_code")] == [email]
    with Session(engine) as s:  # the same work: a code row either way
        assert s.scalar(select(func.count()).select_from(SubjectCode)) == 2
    # and the same timing: pairs of a known and an unknown address asked in turn, each
    # address and source once (no throttle), compared by their medians so that one stall of
    # a busy shared machine (a checkpoint, another process) does not decide it
    spent: dict[str, list[float]] = {"known": [], "unknown": []}
    for i in range(7):
        _, other = applicant(engine)
        pair = (("known", other), ("unknown", f"ghost{i}@example.kz"))
        for j, (label, address) in enumerate(pair):
            start = time.perf_counter()
            outcome = ask_code(engine, address, ip=f"198.51.100.{50 + 2 * i + j}")
            spent[label].append(time.perf_counter() - start)
            assert (outcome.error, outcome.retry_after) == ("", 0), (label, outcome)
    median = {label: statistics.median(times) for label, times in spent.items()}
    assert max(median.values()) < 5 * min(median.values()) + 0.01, spent
    assert verify(engine, "ghost0@example.kz", "000000").error == "my.code_wrong"


def test_code_expires_after_ten_minutes(engine):
    _, email = applicant(engine)
    ask_code(engine, email, code="654321")
    late = NOW + timedelta(minutes=subject_access.CODE_MINUTES, seconds=1)
    assert verify(engine, email, "654321", now=late).error == "my.code_expired"


def test_five_wrong_tries_use_the_code_up(engine):
    _, email = applicant(engine)
    ask_code(engine, email, code="111111")
    errors = [
        verify(engine, email, "222222", ip=f"192.0.2.{i}").error
        for i in range(subject_access.CODE_TRIES)
    ]
    assert errors[:-1] == ["my.code_wrong"] * 4 and errors[-1] == "my.code_exhausted"
    # the right code no longer helps
    assert verify(engine, email, "111111", ip="192.0.2.99").error == "my.code_exhausted"


def test_a_code_of_another_address_and_a_replaced_code_do_not_open(engine):
    _, first = applicant(engine)
    _, second = applicant(engine)
    ask_code(engine, first, code="333333")
    ask_code(engine, second, code="444444")
    assert verify(engine, second, "333333").error == "my.code_wrong"
    ask_code(engine, first, code="555555", ip="192.0.2.40")  # a newer code replaces it
    assert verify(engine, first, "333333", ip="192.0.2.40").error == "my.code_wrong"
    assert verify(engine, first, "555555", ip="192.0.2.40").error == ""


def test_code_requests_are_throttled_per_address_and_per_source(engine):
    _, email = applicant(engine)
    now = NOW
    outcomes = [ask_code(engine, email, now=now) for _ in range(5)]
    assert [o.error for o in outcomes[:3]] == ["", "", ""]
    assert outcomes[3].error == "my.throttled" and outcomes[3].retry_after > 0
    assert len(mails(engine, "subject_code")) == 3
    # the address sprayed from one source over many addresses is slowed too
    errors = [ask_code(engine, f"spray{i}@example.kz", ip="192.0.2.77").error for i in range(25)]
    assert "my.throttled" in errors


def test_brute_force_of_a_code_is_slowed_down(engine):
    _, email = applicant(engine)
    ask_code(engine, email, code="909090")
    errors = [verify(engine, email, f"{n:06d}").error for n in range(8)]
    assert "my.throttled" in errors
    with Session(engine) as s:  # refused attempts are not even checked
        assert s.scalars(select(SubjectCode)).one().attempts < 8


def test_code_needs_the_browser_cookie_and_a_real_address(engine):
    _, email = applicant(engine)
    ask_code(engine, email, code="123123")
    assert verify(engine, email, "123123", browser="").error == "my.reload"
    assert ask_code(engine, "not an address").error == "my.email_invalid"


# --- the centre --------------------------------------------------------------------------------


def test_overview_shows_categories_purposes_and_is_audited(engine):
    subject_id, email = applicant(engine)
    ident = sign_in(engine, email)
    with session_scope(engine) as s:
        view = privacy_centre.overview(s, ident.subject_id, client_ip=IP, now=NOW)
    assert "identity" in view.categories and "contacts" in view.categories
    states = {p.purpose: p for p in view.purposes}
    assert states["informing"].state == "granted" and states["informing"].policy_label
    assert states["feedback"].state == "never"
    with Session(engine) as s:
        actions = list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
        assert "subject.centre_read" in actions
        details = " ".join(s.scalars(select(AuditEvent.details)))
        assert email not in details
        assert verify_chain(s).ok


def test_withdrawal_from_the_centre_acts_like_an_officers(engine):
    subject_id, email = applicant(engine)
    ident = sign_in(engine, email)
    with session_scope(engine) as s:
        assert list(consent.mailing_list(s))
        result = privacy_centre.withdraw(s, ident.subject_id, "informing", client_ip=IP)
    assert result.outcome == "withdrawn"
    with session_scope(engine) as s:
        assert not consent.may_process(s, subject_id, "informing")
        assert list(consent.mailing_list(s)) == []
        row = s.scalars(select(Consent).where(Consent.purpose_code == "informing")).one()
        assert row.withdrawal_channel == "online"
        with pytest.raises(ServiceError, match="consent.not_granted"):
            privacy_centre.withdraw(s, ident.subject_id, "informing", client_ip=IP)
        # withdrawing application review withdraws the open application (the officer's effect)
        privacy_centre.withdraw(s, ident.subject_id, "application_review", client_ip=IP)
        assert s.scalars(select(MembershipApplication.status)).one() == "withdrawn"


def test_member_register_withdrawal_goes_to_the_officer(engine, officer):
    app_id = submit(engine, consents=("application_review", "member_register"))
    move(engine, app_id, "approved", officer)
    with Session(engine) as s:
        subject = s.get(DataSubject, s.get(MembershipApplication, app_id).subject_id)
        subject_id, email = subject.id, subject.email
    ident = sign_in(engine, email)
    with session_scope(engine) as s:
        view = privacy_centre.overview(s, ident.subject_id, client_ip=IP)
        assert {p.purpose: p.limited for p in view.purposes}["member_register"]
        result = privacy_centre.withdraw(s, ident.subject_id, "member_register", client_ip=IP)
    assert result.outcome == "request" and result.reference.startswith("R-")
    with Session(engine) as s:
        request = s.scalars(select(SubjectRequest)).one()
        assert (request.kind, request.channel, request.purpose_code) == (
            "withdrawal", "online", "member_register")
        assert consent.current_states(s, subject_id)["member_register"] == "granted"


def test_requests_from_the_centre_and_one_open_per_kind(engine):
    subject_id, email = applicant(engine)
    ident = sign_in(engine, email)
    with session_scope(engine) as s:
        with pytest.raises(ServiceError, match="my.corrections_required"):
            privacy_centre.submit_request(s, ident.subject_id, "rectification", client_ip=IP)
        request = privacy_centre.submit_request(
            s, ident.subject_id, "rectification", client_ip=IP,
            corrections={"surname": "Ахметова-Сейт", "bogus": "x"}, now=NOW,
        )  # fmt: skip
        assert request.channel == "online" and request.received_at == NOW
        assert "Ахметова-Сейт" in request.details
    with session_scope(engine) as s:
        with pytest.raises(ServiceError, match="my.request_open"):
            privacy_centre.submit_request(s, ident.subject_id, "rectification", client_ip=IP,
                                          corrections={"phone": "+77010000000"})  # fmt: skip
        privacy_centre.submit_request(s, ident.subject_id, "blocking", client_ip=IP)
        view = privacy_centre.overview(s, ident.subject_id, client_ip=IP)
    assert sorted(r.kind for r in view.requests) == ["blocking", "rectification"]
    assert all(r.due_date for r in view.requests)


def test_access_package_is_reviewed_released_and_downloaded_for_seven_days(engine, officer):
    subject_id, email = applicant(engine)
    ident = sign_in(engine, email)
    with session_scope(engine) as s:
        request = privacy_centre.submit_request(s, ident.subject_id, "access", client_ip=IP,
                                                now=NOW)  # fmt: skip
        request_id = request.id
    with session_scope(engine) as s:
        with pytest.raises(ServiceError, match="my.package_unavailable"):
            privacy_centre.download_package(s, subject_id, request_id, client_ip=IP)
        package = privacy_centre.package_for(s, request_id)
        assert json.loads(package.report)["subject"]["email"] == email
    with Session(engine) as s:  # nothing is sent with the data: no mail carries it
        phone = s.get(DataSubject, subject_id).phone
        assert not s.scalars(select(OutboxMessage).where(OutboxMessage.body.contains(phone))).all()
        assert not mails(engine, "ack_request")
    later = NOW + timedelta(hours=2)
    with session_scope(engine) as s:
        privacy_centre.release_package(s, officer, request_id, now=later)
    with session_scope(engine) as s:
        assert s.get(SubjectRequest, request_id).status == "answered"
        with pytest.raises(ServiceError, match="my.package_released"):
            privacy_centre.release_package(s, officer, request_id, now=later)
    with session_scope(engine) as s:
        report = privacy_centre.download_package(s, subject_id, request_id, client_ip=IP,
                                                 now=later + timedelta(days=6))  # fmt: skip
        assert report["subject"]["id"] == subject_id
        with pytest.raises(ServiceError, match="my.package_unavailable"):  # someone else's
            privacy_centre.download_package(s, subject_id + 999, request_id, client_ip=IP,
                                            now=later)  # fmt: skip
        with pytest.raises(ServiceError, match="my.package_unavailable"):  # after 7 days
            privacy_centre.download_package(s, subject_id, request_id, client_ip=IP,
                                            now=later + timedelta(days=7, seconds=1))  # fmt: skip
    with Session(engine) as s:
        assert s.scalars(select(AccessPackage)).one().downloads == 1
        actions = set(s.scalars(select(AuditEvent.action)))
        assert {"access_package.prepared", "access_package.released",
                "access_package.downloaded"} <= actions  # fmt: skip
    [notice] = [m for m in mails(engine, "ack_request")]
    assert notice.recipient == email and request.reference in notice.subject


# --- unsubscribe -------------------------------------------------------------------------------


def test_unsubscribe_token_hides_the_id_and_refuses_tampering(engine):
    token = unsubscribe.make_token(42)
    assert "42" not in token.split(".")[1] and unsubscribe.read_token(token) == 42
    nonce, masked, signature = token.split(".")
    flipped = masked[:-1] + ("A" if masked[-1] != "A" else "B")
    assert unsubscribe.read_token(f"{nonce}.{flipped}.{signature}") is None
    assert unsubscribe.read_token(f"{nonce}.{masked}.{'A' * len(signature)}") is None
    assert unsubscribe.read_token("garbage") is None
    assert unsubscribe.read_token("") is None
    assert unsubscribe.make_token(43) != token


def test_unsubscribe_token_depends_on_the_deployment_secret(monkeypatch):
    monkeypatch.setenv("DPA_SECRET_KEY", "first-secret-" + "x" * 30)
    token = unsubscribe.make_token(7)
    monkeypatch.setenv("DPA_SECRET_KEY", "other-secret-" + "y" * 30)
    assert unsubscribe.read_token(token) is None


def test_unsubscribe_from_an_exported_row_is_idempotent_and_audited(engine):
    subject_id, email = applicant(engine)
    with session_scope(engine) as s:
        out = io.StringIO()
        consent.write_mailing_csv(consent.mailing_list(s), out)
    header, row = out.getvalue().splitlines()
    assert header == "full_name,email,unsubscribe_url"
    url = row.split(",")[-1]
    assert str(subject_id) not in url.rsplit("/", 1)[1].split(".")[1]
    token = url.rsplit("/api/unsubscribe/", 1)[1]
    with session_scope(engine) as s:
        assert unsubscribe.unsubscribe(s, token[:-2] + "xx", client_ip=IP) == "invalid"
        assert consent.may_process(s, subject_id, "informing")
    with session_scope(engine) as s:
        assert unsubscribe.unsubscribe(s, token, client_ip=IP) == "done"
    with session_scope(engine) as s:
        assert unsubscribe.unsubscribe(s, token, client_ip=IP) == "already"
        assert list(consent.mailing_list(s)) == []
        rows = list(s.scalars(select(Consent).where(Consent.purpose_code == "informing")))
        assert len(rows) == 1 and rows[0].withdrawal_channel == "link"
        assert consent.may_process(s, subject_id, "application_review")
        actions = list(s.scalars(select(AuditEvent.action)))
    assert actions.count("consent.withdrawn") == 1
    assert "consent.unsubscribe_refused" in actions and "consent.unsubscribe_repeated" in actions


# --- acknowledgements -------------------------------------------------------------------------


def test_applicant_gets_an_acknowledgement_in_their_language(engine, officer):
    app_id = submit(engine, consents=("application_review", "informing"))
    [ack] = mails(engine, "ack_application")
    with Session(engine) as s:
        application = s.get(MembershipApplication, app_id)
        subject = s.get(DataSubject, application.subject_id)
    assert ack.recipient == subject.email and application.reference in ack.subject
    assert "/my" in ack.body
    assert tr("kk", "purpose.informing") in ack.body  # the form was filled in Kazakh
    assert tr("kk", "purpose.feedback") not in ack.body
    with Session(engine) as s:
        label = s.scalars(select(PolicyVersion.label)).first()
    assert label in ack.body
    move(engine, app_id, "approved", officer)
    [decision] = mails(engine, "ack_decision")
    assert application.reference in decision.body


def test_request_answer_notice_goes_to_the_subject(engine, officer):
    subject_id, email = applicant(engine)
    with session_scope(engine) as s:
        request = requests.create_request(
            s, officer, kind="complaint", received_at=NOW, channel="email",
            requester="Ахметова", contact=email, subject_id=subject_id, now=NOW,
        )  # fmt: skip
        requests.change_request_status(s, officer, request.id, "refused",
                                       refusal_reason="out of scope", now=NOW)  # fmt: skip
    [notice] = mails(engine, "ack_request")
    assert notice.recipient == email and "out of scope" not in notice.body


def test_no_personal_value_or_code_in_the_audit_details(engine, officer):
    """An auditor's view: the whole journey leaves ids and codes only in the audit trail."""
    subject_id, email = applicant(engine)
    ident = sign_in(engine, email)
    with session_scope(engine) as s:
        privacy_centre.overview(s, ident.subject_id, client_ip=IP)
        privacy_centre.withdraw(s, ident.subject_id, "informing", client_ip=IP)
        request = privacy_centre.submit_request(
            s, ident.subject_id, "rectification", client_ip=IP,
            corrections={"workplace": "Жаңа Медиа ЖШС"}, note="телефоным да өзгерді",
        )  # fmt: skip
        access = privacy_centre.submit_request(s, ident.subject_id, "access", client_ip=IP)
        privacy_centre.release_package(s, officer, access.id)
        privacy_centre.download_package(s, subject_id, access.id, client_ip=IP)
        unsubscribe.unsubscribe(s, unsubscribe.make_token(subject_id), client_ip=IP)
    assert verify(engine, email, "999999").error == "my.code_wrong"
    with Session(engine) as s:
        subject = s.get(DataSubject, subject_id)
        details = " ".join(s.scalars(select(AuditEvent.details)))
        assert request.reference and verify_chain(s).ok
    for value in (email, subject.surname, subject.first_name, subject.phone, "123456",
                  "999999", "Жаңа Медиа", "телефоным"):  # fmt: skip
        assert value not in details, value


def test_subject_and_staff_tokens_are_not_interchangeable(engine):
    """A subject session's token is no staff session, and a staff token opens no /my."""
    from dpa_panel.services import auth

    _, email = applicant(engine)
    assert ask_code(engine, email, code="121212").error == ""
    outcome = verify(engine, email, "121212")
    with session_scope(engine) as s:
        token = subject_access.start_session(s, outcome.ticket, browser=BROWSER, client_ip=IP,
                                             now=NOW)  # fmt: skip
    staff_id = make_staff(engine, "erlan", "staff")
    with session_scope(engine) as s:
        ticket = auth.issue_ticket(s, staff_id, "login")
        assert auth.bind_login_ticket(s, ticket, BROWSER)
    with session_scope(engine) as s:
        staff_token, _user = auth.start_session(s, ticket, browser=BROWSER, client_ip=IP,
                                                user_agent="test")  # fmt: skip
    with session_scope(engine) as s:
        assert auth.resolve_session(s, token) is None
        assert subject_access.resolve_session(s, staff_token) is None
        assert subject_access.resolve_session(s, token, now=NOW) is not None


def test_expired_packages_are_blanked_and_destruction_removes_the_centres_rows(engine, officer):
    from dpa_panel.models import SubjectSession
    from dpa_panel.services import retention

    subject_id, email = applicant(engine)
    ident = sign_in(engine, email)
    with session_scope(engine) as s:
        access = privacy_centre.submit_request(s, ident.subject_id, "access", client_ip=IP,
                                               now=NOW)  # fmt: skip
        privacy_centre.release_package(s, officer, access.id, now=NOW)
    with session_scope(engine) as s:
        early = privacy_centre.purge_expired(s, now=NOW + timedelta(days=6))
        done = privacy_centre.purge_expired(s, now=NOW + timedelta(days=8))
    assert early == {"packages": 0, "codes": 1, "sessions": 1, "mails": 0}  # spent a day ago
    assert done == {"packages": 1, "codes": 0, "sessions": 0, "mails": 0}
    with session_scope(engine) as s:  # sent mails to the person: the code's after a day,
        s.execute(update(OutboxMessage).values(status="sent", sent_at=NOW))  # the rest 30
        assert privacy_centre.purge_expired(s, now=NOW + timedelta(days=2))["mails"] == 1
        assert privacy_centre.purge_expired(s, now=NOW + timedelta(days=31))["mails"] >= 1
        assert not s.scalars(select(OutboxMessage)).all()
    with Session(engine) as s:
        assert s.scalars(select(AccessPackage.report)).one() == ""
    # a second person, destroyed by the retention sweep with a package still in review
    other_id, other_email = applicant(engine, consents=("application_review",))
    other = sign_in(engine, other_email)
    with session_scope(engine) as s:
        privacy_centre.submit_request(s, other.subject_id, "access", client_ip=IP, now=NOW)
        privacy_centre.withdraw(s, other.subject_id, "application_review", client_ip=IP,
                                now=NOW)  # fmt: skip
    with session_scope(engine) as s:
        retention.destroy_subject(s, officer, other_id, now=NOW + timedelta(days=1))
    with Session(engine) as s:
        own = AccessPackage.subject_id == other_id
        assert not s.scalars(select(AccessPackage).where(own)).all()
        assert not s.scalars(select(SubjectCode).where(SubjectCode.subject_id == other_id)).all()
        assert not s.scalars(
            select(SubjectSession).where(SubjectSession.subject_id == other_id)).all()
