"""A real SMTP server for the tests (aiosmtpd on 127.0.0.1): plain, or STARTTLS with
authentication and a self-signed certificate the client must be told to trust (``cafile``).
Delivered messages are parsed and kept in ``server.messages``."""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """(certificate, key) for 127.0.0.1 / localhost, valid for a day."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class Delivered:
    envelope_from: str
    envelope_to: list[str]
    message: EmailMessage


@dataclass
class SmtpServer:
    port: int
    cafile: str = ""
    user: str = ""
    password: str = ""
    messages: list[Delivered] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append(Delivered(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == self.user
            and auth_data.password.decode() == self.password
        )
        if ok:
            self.logins.append(self.user)
        # handled=False: aiosmtpd answers the refusal itself (535). Its default (handled=True)
        # means "the hook already answered", so a wrong password left the client waiting for
        # its whole timeout (20 s per test) instead of being refused as a real server does.
        return AuthResult(success=ok, handled=False)

    def url(self, **query: str) -> str:
        credentials = f"{self.user}:{self.password}@" if self.user else ""
        options = dict(query)
        if self.cafile:
            options.setdefault("cafile", self.cafile)
        else:
            options.setdefault("starttls", "no")
        suffix = "&".join(f"{k}={v}" for k, v in options.items())
        return f"smtp://{credentials}127.0.0.1:{self.port}" + (f"?{suffix}" if suffix else "")

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def start_smtp(tmp_path: Path | None = None, *, tls: bool = False, user: str = "",
               password: str = "") -> SmtpServer:  # fmt: skip
    """Start a server; with ``tls`` it requires STARTTLS and (with ``user``) AUTH."""
    server = SmtpServer(port=free_port(), user=user, password=password)
    kwargs: dict = {}
    if tls:
        assert tmp_path is not None
        cert, key = self_signed_certificate(tmp_path)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        server.cafile = str(cert)
        kwargs.update(tls_context=context, require_starttls=True)
        if user:
            kwargs.update(authenticator=server.authenticate, auth_required=True,
                          auth_require_tls=True)  # fmt: skip
    controller = Controller(server, hostname="127.0.0.1", port=server.port, **kwargs)
    controller.start()
    server.controller = controller
    return server
