"""The Ed25519 key that signs checkpoints.

settings.AUDIT_SIGNING_KEY is the hex 32-byte seed. Without it a development key is made once
in settings.AUDIT_DEV_KEY_FILE (outside the repository) and a loud warning is logged: such a
key proves nothing to an auditor.
"""

import functools
import logging
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)


def signing_key() -> Ed25519PrivateKey:
    return _load_signing_key(
        getattr(settings, "AUDIT_SIGNING_KEY", ""), str(getattr(settings, "AUDIT_DEV_KEY_FILE", ""))
    )


def public_key_hex(key: Ed25519PrivateKey | None = None) -> str:
    key = key or signing_key()
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def trusted_public_keys() -> set[str]:
    """The current key and any retired ones (settings.AUDIT_RETIRED_PUBLIC_KEYS, hex)."""
    retired = getattr(settings, "AUDIT_RETIRED_PUBLIC_KEYS", [])
    return {public_key_hex(), *(key.strip().lower() for key in retired if key.strip())}


def sign(message: bytes) -> tuple[str, str]:
    """(signature hex, public key hex) of `message`."""
    key = signing_key()
    return key.sign(message).hex(), public_key_hex(key)


def signature_is_valid(*, message: bytes, signature_hex: str, public_key: str) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key)).verify(bytes.fromhex(signature_hex), message)
    except (InvalidSignature, ValueError):
        return False
    return True


@functools.lru_cache(maxsize=4)
def _load_signing_key(seed_hex: str, dev_key_file: str) -> Ed25519PrivateKey:
    if seed_hex:
        return _key_from_hex(seed_hex, source="AUDIT_SIGNING_KEY")
    if not dev_key_file:
        raise ImproperlyConfigured("Set AUDIT_SIGNING_KEY (hex Ed25519 seed) or AUDIT_DEV_KEY_FILE.")
    path = Path(dev_key_file).expanduser().resolve()
    if path.is_relative_to(Path(settings.BASE_DIR).resolve()):
        raise ImproperlyConfigured(f"AUDIT_DEV_KEY_FILE must lie outside the repository, not at {path}.")
    if not path.exists():
        _write_dev_key(path)
    key = _key_from_hex(path.read_text().strip(), source=str(path))
    logger.warning(
        "\n%s\nAUDIT_SIGNING_KEY is not set: audit checkpoints are signed with the DEVELOPMENT key in %s "
        "(public key %s). Such signatures prove nothing; set AUDIT_SIGNING_KEY in production.\n%s",
        "!" * 78,
        path,
        public_key_hex(key),
        "!" * 78,
    )
    return key


def _write_dev_key(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as key_file:
        key_file.write(Ed25519PrivateKey.generate().private_bytes_raw().hex() + "\n")
    try:
        os.link(draft, path)  # atomic: a concurrent process either wins or reads a whole key
    except FileExistsError:
        pass
    finally:
        draft.unlink()


def _key_from_hex(seed_hex: str, *, source: str) -> Ed25519PrivateKey:
    try:
        seed = bytes.fromhex(seed_hex.strip())
    except ValueError as error:
        raise ImproperlyConfigured(f"{source} is not hex.") from error
    if len(seed) != 32:
        raise ImproperlyConfigured(f"{source} must be a 32-byte Ed25519 seed (64 hex digits).")
    return Ed25519PrivateKey.from_private_bytes(seed)
