"""The installation's signing key (Ed25519): where it lives, making it, its public half.

Where ([evidence] signing_key in the config file): by default the data dir's signing-key.pem
(PKCS#8 PEM, 0600, in the 0700 data dir); "keyring": the OS keyring (service compliance-tui,
name evidence-signing-key, the PEM text); else the path of a PEM file. `keys init` makes it;
the first completed scan makes the data dir's one when none exists (a key configured
elsewhere is never made behind the operator's back). The private key is never printed,
logged, or written to the store; only its public half leaves (`keys show`, `keys export`).

keyring calls may block (D-Bus): call these from a thread.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from core.domain.errors import InvalidInput, NotFound
from core.files import private_dir
from core.os_keyring import SERVICE, usable_keyring

KEY_FILE = "signing-key.pem"
KEYRING = "keyring"
KEYRING_NAME = "evidence-signing-key"


@dataclass(frozen=True)
class KeyPlace:
    """Where the private key is: a file, or the OS keyring (path None)."""

    path: Path | None
    default: bool = False  # the data dir's own file: made at the first scan when missing

    def describe(self) -> str:
        return f"the OS keyring ({SERVICE}/{KEYRING_NAME})" if self.path is None else str(self.path)


def place_of(data_dir: Path, setting: str | None) -> KeyPlace:
    if setting is None:
        return KeyPlace(Path(data_dir) / KEY_FILE, default=True)
    if setting == KEYRING:
        return KeyPlace(None)
    return KeyPlace(Path(setting).expanduser())


def fingerprint(public: Ed25519PublicKey) -> str:
    """SHA256:<base64 of the sha256 of the raw 32-byte key>, as OpenSSH writes fingerprints."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "SHA256:" + base64.b64encode(hashlib.sha256(raw).digest()).decode().rstrip("=")


def public_pem(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


class SigningKey:
    """A private key and its public half; repr and str never show the private one."""

    __slots__ = ("private", "public", "fingerprint", "place")

    def __init__(self, private: Ed25519PrivateKey, place: KeyPlace):
        self.private, self.public, self.place = private, private.public_key(), place
        self.fingerprint = fingerprint(self.public)

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data)

    def __repr__(self) -> str:
        return f"SigningKey({self.fingerprint}, in {self.place.describe()})"

    __str__ = __repr__


def _parse_private(pem: bytes, where: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise InvalidInput(f"{where}: not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidInput(f"{where}: not an Ed25519 key")
    return key


def _private_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def load_key(place: KeyPlace) -> SigningKey | None:
    """The key at place; None when there is none yet. A damaged or unreadable one raises."""
    if place.path is None:
        backend = usable_keyring()
        if backend is None:
            raise InvalidInput("no OS keyring is usable here for the signing key ([evidence] signing_key)")
        try:
            text = backend.get_password(SERVICE, KEYRING_NAME)
        except Exception as exc:  # a locked or broken keyring: say which, never more
            raise InvalidInput(f"the keyring failed: {type(exc).__name__}") from None
        return SigningKey(_parse_private(text.encode(), place.describe()), place) if text else None
    try:
        pem = place.path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InvalidInput(f"{place.path}: cannot read the signing key: {exc.strerror}") from None
    return SigningKey(_parse_private(pem, str(place.path)), place)


def create_key(place: KeyPlace) -> SigningKey:
    """A new key at place; refuses to replace one (the scans it signed would no longer verify
    with this installation's key)."""
    key = Ed25519PrivateKey.generate()
    if place.path is None:
        backend = usable_keyring()
        if backend is None:
            raise InvalidInput("no OS keyring is usable here for the signing key ([evidence] signing_key)")
        if load_key(place) is not None:
            raise InvalidInput(f"a signing key exists already in {place.describe()}")
        try:
            backend.set_password(SERVICE, KEYRING_NAME, _private_pem(key).decode())
        except Exception as exc:
            raise InvalidInput(f"the keyring refused the signing key: {type(exc).__name__}") from None
        return SigningKey(key, place)
    if not _create_private(place.path, _private_pem(key)):
        raise InvalidInput(f"a signing key exists already at {place.path}")
    return SigningKey(key, place)


def _create_private(path: Path, data: bytes) -> bool:
    """Write a new 0600 file only where none is: a securely made temporary file, then a hard
    link to the name (fails if it exists, so two processes never both make a key). False: it
    exists."""
    private_dir(path.parent)
    fd, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:  # mkstemp: O_EXCL, 0600
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(partial, path)
        except FileExistsError:
            return False
    finally:
        Path(partial).unlink(missing_ok=True)
    return True


def key_for_signing(data_dir: Path, setting: str | None) -> SigningKey:
    """The key that signs a scan being stored: the data dir's is made on first need; one
    configured elsewhere must exist (`keys init`). Raises InvalidInput saying why not."""
    place = place_of(data_dir, setting)
    key = load_key(place)
    if key is not None:
        return key
    if not place.default:
        raise InvalidInput(f"no signing key in {place.describe()}: run `compliance-tui keys init`")
    try:
        return create_key(place)
    except InvalidInput:  # another process made it meanwhile
        found = load_key(place)
        if found is None:
            raise
        return found


def installation_key(data_dir: Path, setting: str | None) -> SigningKey:
    """This installation's key, which must exist (keys show, keys export)."""
    place = place_of(data_dir, setting)
    key = load_key(place)
    if key is None:
        raise NotFound(f"no signing key in {place.describe()}: run `compliance-tui keys init` "
                       "(the first completed scan makes one in the data dir)")
    return key


def read_public(path: Path) -> Ed25519PublicKey:
    """A public key from a PEM file (what `keys export` writes)."""
    try:
        data = Path(path).expanduser().read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read the public key: {exc.strerror}") from None
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise InvalidInput(f"{path}: not a PEM public key (keys export writes one)") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidInput(f"{path}: not an Ed25519 public key")
    return key
