"""PAdES signature of the report (pyhanko): any change to the signed bytes shows in a PDF reader.

The key and certificate are PEM files named by settings.REPORT_SIGNING_KEY_FILE and
REPORT_SIGNING_CERT_FILE. Without them a development key and a self-signed certificate are
made once in settings.REPORT_DEV_SIGNING_DIR (outside the repository) with a loud warning:
such a signature proves integrity, not who signed.
"""

import fcntl
import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

DEV_KEY_NAME = "report-signing-key.pem"
DEV_CERT_NAME = "report-signing-cert.pem"


def signing_files() -> tuple[Path, Path, bytes | None]:
    """(key file, certificate file, passphrase) of the report signer."""
    key_file, cert_file = settings.REPORT_SIGNING_KEY_FILE, settings.REPORT_SIGNING_CERT_FILE
    if key_file or cert_file:
        if not (key_file and cert_file):
            raise ImproperlyConfigured("Set both REPORT_SIGNING_KEY_FILE and REPORT_SIGNING_CERT_FILE.")
        passphrase = settings.REPORT_SIGNING_KEY_PASSPHRASE.encode() or None
        return Path(key_file), Path(cert_file), passphrase
    return (*_development_files(), None)


def signing_certificate() -> x509.Certificate:
    _key_file, cert_file, _passphrase = signing_files()
    return x509.load_pem_x509_certificate(cert_file.read_bytes())


def pdf_sign(*, source: Path, target: Path, reason: str, location: str, before_signing: Callable | None = None) -> None:
    """Sign `source` (PAdES B-B, SHA-256) into `target` as an incremental update.

    `before_signing(writer)` may add objects (the attachments): they land in the signed revision.
    """
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    key_file, cert_file, passphrase = signing_files()
    signer = signers.SimpleSigner.load(str(key_file), str(cert_file), key_passphrase=passphrase)
    if signer is None:
        raise ImproperlyConfigured(f"Cannot load the report signing key {key_file} and certificate {cert_file}.")
    metadata = signers.PdfSignatureMetadata(
        field_name="ReportSignature",
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
    )
    with source.open("rb") as unsigned, target.open("wb") as signed:
        writer = IncrementalPdfFileWriter(unsigned, strict=False)
        if before_signing is not None:
            before_signing(writer)
        signers.PdfSigner(metadata, signer=signer).sign_pdf(writer, output=signed)


def _development_files() -> tuple[Path, Path]:
    folder = Path(settings.REPORT_DEV_SIGNING_DIR).expanduser().resolve()
    if folder.is_relative_to(Path(settings.BASE_DIR).resolve()):
        raise ImproperlyConfigured(f"REPORT_DEV_SIGNING_DIR must lie outside the repository, not at {folder}.")
    key_file, cert_file = folder / DEV_KEY_NAME, folder / DEV_CERT_NAME
    if not (key_file.exists() and cert_file.exists()):
        folder.mkdir(parents=True, exist_ok=True)
        # Two workers starting together must not pair one's key with the other's certificate.
        with (folder / ".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (key_file.exists() and cert_file.exists()):
                _write_development_pair(folder, key_file, cert_file)
    logger.warning(
        "REPORT_SIGNING_KEY_FILE is not set: reports are signed with the self-signed DEVELOPMENT "
        "certificate in %s. Such a signature shows tampering but not who signed; configure a real "
        "key and certificate in production.",
        cert_file,
    )
    return key_file, cert_file


def _write_development_pair(folder: Path, key_file: Path, cert_file: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, settings.ORGANISATION_NAME),
            x509.NameAttribute(NameOID.COMMON_NAME, "hitlplatform report signing (DEVELOPMENT, self-signed)"),
        ]
    )
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # The certificate is linked into place last: its presence means the key beside it is whole.
    _write_atomically(key_file, key_pem, mode=0o600)
    _write_atomically(cert_file, certificate.public_bytes(serialization.Encoding.PEM), mode=0o644)


def _write_atomically(path: Path, content: bytes, *, mode: int) -> None:
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "wb") as output:
        output.write(content)
    os.replace(draft, path)
