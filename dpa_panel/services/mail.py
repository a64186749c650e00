"""SMTP delivery configured by one URL, ``DPA_SMTP_URL`` (no Reflex, no database).

- ``smtp://[user:password@]host[:port]`` — STARTTLS (required: the server must offer it;
  port 587 by default). ``?starttls=no`` sends in the clear and is meant for a relay on the
  same host (port 25 by default); it refuses credentials, which would travel unencrypted.
- ``smtps://[user:password@]host[:port]`` — TLS from the first byte (port 465 by default).
- Query options: ``from=`` the sender address (else ``DPA_MAIL_FROM``, else
  ``dpa-panel@<host>``), ``cafile=`` a CA bundle to trust (a private CA), ``timeout=``
  seconds (default 20). User and password are percent-decoded (``%40`` for ``@``).

An invalid URL raises ``MailConfigError`` with a sentence saying what is wrong; the URL's
password never appears in it.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

from dpa_panel import settings

DEFAULT_TIMEOUT = 20.0


class MailConfigError(ValueError):
    """``DPA_SMTP_URL`` cannot be used; the message says why (never the password)."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    username: str
    password: str
    sender: str
    cafile: str
    timeout: float

    def describe(self) -> str:
        """For logs and the settings page: no password."""
        mode = "TLS" if self.implicit_tls else ("STARTTLS" if self.starttls else "plain")
        auth = f"{self.username}@" if self.username else ""
        return f"{auth}{self.host}:{self.port} ({mode}), from {self.sender}"


_YES, _NO = ("1", "yes", "true", "on"), ("0", "no", "false", "off")


def parse_smtp_url(url: str, default_sender: str = "") -> SmtpConfig:
    """The configuration in ``url``; ``MailConfigError`` when it is not usable."""
    url = (url or "").strip()
    if not url:
        raise MailConfigError("DPA_SMTP_URL is empty")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as err:
        raise MailConfigError(f"DPA_SMTP_URL is not a valid URL ({err})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("smtp", "smtps"):
        raise MailConfigError(
            f"DPA_SMTP_URL must start with smtp:// or smtps:// (got {scheme or 'no'} scheme)"
        )
    host = parts.hostname or ""
    if not host:
        raise MailConfigError("DPA_SMTP_URL has no host name")
    query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    unknown = sorted(set(query) - {"starttls", "from", "cafile", "timeout"})
    if unknown:
        raise MailConfigError(f"DPA_SMTP_URL has unknown options: {', '.join(unknown)}")
    implicit = scheme == "smtps"
    raw_starttls = query.get("starttls", "").lower()
    if raw_starttls and raw_starttls not in _YES + _NO:
        raise MailConfigError("DPA_SMTP_URL: starttls must be yes or no")
    if implicit and raw_starttls:
        raise MailConfigError("DPA_SMTP_URL: smtps:// is TLS already; drop the starttls option")
    starttls = not implicit and raw_starttls not in _NO
    username = unquote(parts.username or "")
    password = unquote(parts.password or "")
    if (username or password) and not (implicit or starttls):
        raise MailConfigError(
            "DPA_SMTP_URL: a user and password need TLS (use smtps:// or STARTTLS)"
        )
    try:
        timeout = float(query.get("timeout") or DEFAULT_TIMEOUT)
    except ValueError:
        raise MailConfigError("DPA_SMTP_URL: timeout must be a number of seconds") from None
    if not 0 < timeout <= 300:
        raise MailConfigError("DPA_SMTP_URL: timeout must be between 0 and 300 seconds")
    sender = query.get("from") or default_sender or f"dpa-panel@{host}"
    if "@" not in sender or any(c in sender for c in "\r\n<>"):
        raise MailConfigError("DPA_SMTP_URL: the sender (from=) is not an e-mail address")
    if port is None:
        port = 465 if implicit else (587 if starttls else 25)
    return SmtpConfig(
        host=host, port=port, implicit_tls=implicit, starttls=starttls, username=username,
        password=password, sender=sender, cafile=query.get("cafile", ""), timeout=timeout,
    )  # fmt: skip


def configured() -> SmtpConfig | None:
    """The deployment's SMTP configuration, or None when ``DPA_SMTP_URL`` is not set.
    ``MailConfigError`` when it is set but unusable."""
    url = settings.smtp_url()
    if not url:
        return None
    return parse_smtp_url(url, settings.mail_from())


def build_message(config: SmtpConfig, recipient: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = formataddr(("DPA Panel", config.sender))
    message["To"] = recipient
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=config.sender.rsplit("@", 1)[-1])
    message.set_content(body)
    return message


class SmtpSender:
    """One SMTP connection for a batch of messages: ``with SmtpSender(cfg) as s: s.send(m)``."""

    def __init__(self, config: SmtpConfig):
        self.config = config
        self._smtp: smtplib.SMTP | None = None

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.config.cafile or None)

    def __enter__(self) -> SmtpSender:
        cfg = self.config
        if cfg.implicit_tls:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                cfg.host, cfg.port, timeout=cfg.timeout, context=self._context()
            )
        else:
            smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
        try:
            smtp.ehlo()
            if cfg.starttls:
                if not smtp.has_extn("starttls"):
                    raise smtplib.SMTPNotSupportedError(
                        "the server does not offer STARTTLS (starttls=no is for a local relay)"
                    )
                smtp.starttls(context=self._context())
                smtp.ehlo()
            if cfg.username:
                smtp.login(cfg.username, cfg.password)
        except Exception:
            smtp.close()
            raise
        self._smtp = smtp
        return self

    def send(self, message: EmailMessage) -> None:
        assert self._smtp is not None, "use SmtpSender as a context manager"
        self._smtp.send_message(message)

    def __exit__(self, *exc) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None
