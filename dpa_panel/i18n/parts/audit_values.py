"""Labels for coded values in audit details that no other vocabulary covers (issue 18): the
login's next step and the second factor used. ``services.audit_view`` looks them up by the
details key (``_VALUE_PREFIXES``)."""

from __future__ import annotations

KK = {
    "audit_value.next.code": "екінші фактор коды",
    "audit_value.next.enrol": "екінші факторды баптау",
    "audit_value.next.codes": "қалпына келтіру кодтары",
    "audit_value.second_factor.totp": "аутентификатор қолданбасының коды",
    "audit_value.second_factor.recovery": "қалпына келтіру коды",
    "audit_value.second_factor.enrolled": "екінші фактор жаңа бапталды",
    "audit_value.second_factor.replay": "қайталанған код",
}
RU = {
    "audit_value.next.code": "код второго фактора",
    "audit_value.next.enrol": "настройка второго фактора",
    "audit_value.next.codes": "коды восстановления",
    "audit_value.second_factor.totp": "код из приложения-аутентификатора",
    "audit_value.second_factor.recovery": "код восстановления",
    "audit_value.second_factor.enrolled": "второй фактор только что настроен",
    "audit_value.second_factor.replay": "повторно использованный код",
}
EN = {
    "audit_value.next.code": "second-factor code",
    "audit_value.next.enrol": "second-factor set-up",
    "audit_value.next.codes": "recovery codes",
    "audit_value.second_factor.totp": "authenticator app code",
    "audit_value.second_factor.recovery": "recovery code",
    "audit_value.second_factor.enrolled": "second factor just set up",
    "audit_value.second_factor.replay": "code used again",
}
