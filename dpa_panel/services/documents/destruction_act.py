"""Destruction acts as a document (issue 18): written for the compliance officer or auditor
who signs and files them, in their interface language.

The body names each act by its reference, the ground (purpose and the event that ended it,
in words), the due and destruction times (Almaty, with the offset), the categories destroyed
(in words) and who destroyed. The destroyed subject's record number, the sweep run's
identifier, the staff account number and the act's SHA-256 digest go to the labelled
technical-evidence appendix: the auditor can trace and verify them, the body stays readable.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from dpa_panel.i18n import normalise_locale, tr
from dpa_panel.models import DestructionAct
from dpa_panel.services.documents.pdf import Document, format_moment


def _label(lang: str, key: str, fallback: str) -> str:
    try:
        return tr(lang, key)
    except KeyError:
        return fallback


def ground(lang: str, rule: str) -> str:
    """``purpose:event`` in words: "Reviewing applications for membership: Application
    closed"; a destruction without a purpose period is "the subject's request…"."""
    purpose, _, event = rule.partition(":")
    purpose_text = (
        tr(lang, "doc.act.purpose.request")
        if purpose in ("", "request")
        else _label(lang, f"purpose.{purpose}", purpose)
    )
    event_text = _label(lang, f"retention.event.{event}", event)
    return tr(lang, "doc.act.ground_value", purpose=purpose_text, event=event_text)


def categories(lang: str, raw: str) -> str:
    """The categories destroyed, in words, separated by "; " (a category may hold a comma)."""
    return "; ".join(_label(lang, f"doc.act.category.{c}", c) for c in json.loads(raw or "[]"))


def actor(lang: str, actor_type: str) -> str:
    return _label(lang, f"doc.act.actor.{actor_type}", actor_type)


def render(
    acts: Iterable[DestructionAct], language: str = "kk", operator: Iterable[str] = ()
) -> Document:
    """The acts grouped by sweep run, a signature line per run, then the evidence."""
    lang = normalise_locale(language)

    def t(key: str, **kw) -> str:
        return tr(lang, key, **kw)

    batches: dict[str, list[DestructionAct]] = {}
    for act in acts:
        batches.setdefault(act.batch_id or "", []).append(act)
    doc = Document(title=t("doc.act.title"))
    doc.operator(operator)
    doc.title(t("doc.act.title"))
    evidence: list[tuple[str, str, str]] = []
    for batch_id, items in batches.items():
        first = min(a.destroyed_at for a in items)
        doc.heading(
            t("doc.act.run", at=format_moment(first, lang)) if batch_id
            else t("retention.act_manual")
        )  # fmt: skip
        for act in items:
            doc.space(1)
            doc.subheading(t("doc.act.act", reference=act.reference))
            doc.field(t("doc.act.ground"), ground(lang, act.rule), indent=3)
            doc.field(t("retention.act_due"), format_moment(act.due_at, lang), indent=3)
            doc.field(t("retention.act_destroyed"), format_moment(act.destroyed_at, lang),
                      indent=3)  # fmt: skip
            doc.field(t("retention.act_categories"), categories(lang, act.categories), indent=3)
            doc.field(t("doc.act.performed_by"), actor(lang, act.actor_type), indent=3)
            evidence.append((act.reference, "subject_ref", act.subject_ref))
            if batch_id:
                evidence.append((act.reference, "batch_id", batch_id))
            if act.actor_id is not None:
                evidence.append((act.reference, "actor_id", str(act.actor_id)))
            evidence.append((act.reference, "digest", act.digest))
        doc.space(4)
        doc.write(
            f"{t('retention.act_signature')}: ____________________   "
            f"{t('retention.act_signed_on')}: ____________"
        )
        doc.space(3)
    doc.appendix(t("doc.tech.title"), t("doc.tech.note"))
    for reference, key, value in evidence:
        doc.write(f"{t('doc.act.act', reference=reference)} — {t('doc.tech.' + key)}: {value}",
                  size=8, height=4)  # fmt: skip
    return doc


def acts_pdf(
    acts: Iterable[DestructionAct], language: str = "kk", operator: Iterable[str] = ()
) -> bytes:
    return render(acts, language, operator).output()
