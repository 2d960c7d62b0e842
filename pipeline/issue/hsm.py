"""PKCS#11 tokens: the CA's HSM and the customers' USB keys, through one module.

Everything goes through the standard interface, so a vendor's module works by changing the
module path and the token labels (``[hsm]`` in sealdesk.toml). SoftHSM2 is the default; its
token directory is the workspace's ``tokens/`` unless ``SOFTHSM2_CONF`` says otherwise.

python-pkcs11 0.9 has no C_InitToken, so initialising a blank key calls the module's own
C_InitToken through ctypes on the same loaded library (the same module instance, so it sees
the new token at once). Private keys are made on the token, sensitive and not extractable.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import secrets
import string
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pkcs11
import pkcs11.exceptions
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass, TokenFlag
from pkcs11.util.ec import (
    encode_ec_public_key,
    encode_ecdsa_signature,
    encode_named_curve_parameters,
)
from pyhanko.sign import signers

from pipeline.config import Settings
from pipeline.errors import HsmError

log = logging.getLogger(__name__)

PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey
TokenSession = pkcs11.Session
"""A logged-in session on a token, named here so that no other module imports pkcs11."""
Token = pkcs11.Token
CKR_OK = 0
LABEL_BYTES = 32
PIN_ALPHABET = string.digits + string.ascii_uppercase.replace("O", "").replace("I", "")


def random_pin(length: int = 8) -> str:
    """A user PIN for the PIN letter: digits and upper-case letters, no O/I to misread."""
    return "".join(secrets.choice(PIN_ALPHABET) for _ in range(length))


def so_pin_for(label: str, secret: str) -> str:
    """A customer token's security-officer PIN, derived from the issuing CA's PIN and the
    token's label: never stored, yet the CA can re-initialise (wipe) an interrupted token or
    unblock a customer's key later. Whoever holds the CA PIN holds these too."""
    import hmac

    digest = hmac.new(secret.encode(), f"so-pin:{label}".encode(), hashlib.sha256).digest()
    return "".join(PIN_ALPHABET[b % len(PIN_ALPHABET)] for b in digest[:16])


def softhsm_config(settings: Settings) -> Path:
    """Write the workspace's SoftHSM configuration (its tokens under ``tokens/``)."""
    path = settings.softhsm_conf
    wanted = (
        f"directories.tokendir = {settings.tokens_dir}\n"
        "objectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n"
    )
    if not path.exists() or path.read_text() != wanted:
        settings.tokens_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(wanted)
    return path


_loaded: dict[str, Any] = {}


def _load(settings: Settings) -> Any:
    module = settings.hsm.module
    if module in _loaded:
        return _loaded[module]
    if "softhsm" in Path(module).name:  # a SOFTHSM2_CONF already set is the site's own
        os.environ.setdefault("SOFTHSM2_CONF", str(softhsm_config(settings)))
    if not Path(module).is_file():
        raise HsmError(f"PKCS#11 module {module} not found; set [hsm] module in sealdesk.toml")
    try:
        lib = pkcs11.lib(module)
    except pkcs11.PKCS11Error as exc:
        raise HsmError(f"cannot load the PKCS#11 module {module}: {exc!r}") from exc
    _loaded[module] = lib
    return lib


class Hsm:
    """The PKCS#11 module of this workspace and the tokens on it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings.hsm
        self.lib: Any = _load(settings)
        self._c = ctypes.CDLL(self.settings.module)
        self._c.C_InitToken.argtypes = [
            ctypes.c_ulong,
            ctypes.c_char_p,
            ctypes.c_ulong,
            ctypes.c_char_p,
        ]
        self._c.C_InitToken.restype = ctypes.c_ulong

    def tokens(self, prefix: str = "") -> list[pkcs11.Token]:
        """Initialised tokens whose label starts with ``prefix``."""
        found = []
        for slot in self.lib.get_slots(token_present=True):
            token = slot.get_token()
            if token.flags & TokenFlag.TOKEN_INITIALIZED and token.label.startswith(prefix):
                found.append(token)
        return found

    def token(self, label: str) -> pkcs11.Token | None:
        matches = [t for t in self.tokens(label) if t.label == label]
        if len(matches) > 1:
            raise HsmError(f"{len(matches)} tokens are labelled {label!r}; labels must be unique")
        return matches[0] if matches else None

    def require(self, label: str, what: str) -> pkcs11.Token:
        token = self.token(label)
        if token is None:
            raise HsmError(
                f"the {what} token {label!r} is not present in {self.settings.module}"
                + ("; run `sealdesk ca init` first" if "CA" in what else "")
            )
        return token

    @contextmanager
    def session(
        self, token: pkcs11.Token, pin: str | None, *, rw: bool = False
    ) -> Iterator[pkcs11.Session]:
        if not pin:
            raise HsmError(f"no PIN for token {token.label!r}; see [hsm] in the README")
        try:
            session = token.open(rw=rw, user_pin=pin)
        except pkcs11.PinIncorrect:
            raise HsmError(f"the PIN for token {token.label!r} is wrong") from None
        except pkcs11.PinLocked:
            raise HsmError(f"token {token.label!r} is locked (too many wrong PINs)") from None
        except (pkcs11.exceptions.TokenNotPresent, pkcs11.DeviceRemoved):
            raise HsmError(f"token {token.label!r} was removed", transient=True) from None
        except (pkcs11.exceptions.SessionCount, pkcs11.DeviceError) as exc:
            raise HsmError(f"token {token.label!r} is busy: {exc!r}", transient=True) from None
        try:
            yield session
        finally:
            session.close()

    def init_token(
        self, label: str, so_pin: str, user_pin: str, *, fresh: bool = False
    ) -> pkcs11.Token:
        """Initialise the token labelled ``label`` again (wiping it), or else a blank one.

        Wiping is how an interrupted issuance starts over on its own key: whatever was made
        on it before the crash is gone with the old PIN that nobody received. ``fresh``: the
        caller knows no token has this label yet, so the search for it (a look at every
        token, slow once thousands are present) is skipped."""
        if len(label.encode()) > LABEL_BYTES:
            raise HsmError(f"token label {label!r} is longer than {LABEL_BYTES} bytes")
        slot = None
        existing = None if fresh else self.token(label)
        if existing is not None:
            slot = existing.slot
        else:
            # newest slots last: a blank token (SoftHSM's spare, a key just plugged in) is
            # found at once instead of after every initialised one
            for candidate in reversed(self.lib.get_slots(token_present=True)):
                if not candidate.get_token().flags & TokenFlag.TOKEN_INITIALIZED:
                    slot = candidate
                    break
        if slot is None:
            raise HsmError("no blank token is present: insert a new USB key", transient=True)
        so = so_pin.encode()
        rv = self._c.C_InitToken(slot.slot_id, so, len(so), label.encode().ljust(LABEL_BYTES, b" "))
        if rv != CKR_OK:
            raise HsmError(f"C_InitToken on slot {slot.slot_id} failed (CKR 0x{rv:x})")
        token = slot.get_token()
        with token.open(rw=True, so_pin=so_pin) as so_session:
            so_session.init_pin(user_pin)
        return token


def token_serial(token: pkcs11.Token) -> str:
    """The token's serial number (the USB key's), as printed on the courier manifest."""
    serial = token.serial
    return (serial.decode("ascii", "replace") if isinstance(serial, bytes) else str(serial)).strip()


@dataclass(frozen=True, slots=True)
class TokenKey:
    """A private key on a token, as a signer: ``sign`` returns the DER signature (X.509/CMS
    form) of SHA-256 over the data. SoftHSM has no CKM_ECDSA_SHA256: EC hashes here."""

    key: Any
    """The token's private key object (python-pkcs11 types it loosely)."""
    key_type: str
    public_key: PublicKey

    def sign(self, data: bytes) -> bytes:
        if self.key_type.startswith("ec"):
            raw = self.key.sign(hashlib.sha256(data).digest(), mechanism=Mechanism.ECDSA)
            return bytes(encode_ecdsa_signature(raw))
        return bytes(self.key.sign(data, mechanism=Mechanism.SHA256_RSA_PKCS))


def key_id(public_key: PublicKey) -> bytes:
    """CKA_ID of a key pair: the SHA-1 of its public key bits (the usual SKI)."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    from asn1crypto.keys import PublicKeyInfo

    return bytes(PublicKeyInfo.load(der).sha1)


def generate_key(session: pkcs11.Session, key_type: str, label: str) -> TokenKey:
    """A key pair generated on the token: private part sensitive and never extractable."""
    private_template = {
        Attribute.SENSITIVE: True,
        Attribute.EXTRACTABLE: False,
        Attribute.PRIVATE: True,
        Attribute.SIGN: True,
    }
    if key_type == "ec-p256":
        params = session.create_domain_parameters(
            KeyType.EC,
            {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")},
            local=True,
        )
        pub, priv = params.generate_keypair(
            store=True, label=label, private_template=private_template
        )
        public = serialization.load_der_public_key(bytes(encode_ec_public_key(pub)))
    elif key_type == "rsa-2048":
        pub, priv = session.generate_keypair(
            KeyType.RSA, 2048, store=True, label=label, private_template=private_template
        )
        public = rsa.RSAPublicNumbers(
            int.from_bytes(pub[Attribute.PUBLIC_EXPONENT], "big"),
            int.from_bytes(pub[Attribute.MODULUS], "big"),
        ).public_key()
    else:
        raise HsmError(f"unknown key type {key_type!r}")
    assert isinstance(public, ec.EllipticCurvePublicKey | rsa.RSAPublicKey)
    ident = key_id(public)
    pub[Attribute.ID] = ident
    priv[Attribute.ID] = ident
    return TokenKey(priv, key_type, public)


def find_key(session: pkcs11.Session, label: str) -> TokenKey | None:
    """The key pair labelled ``label`` on the session's token, if there is one."""
    privs = list(
        session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.LABEL: label})
    )
    if not privs:
        return None
    priv: Any = privs[0]
    pub: Any = session.get_key(ObjectClass.PUBLIC_KEY, label=label)
    if priv.key_type == KeyType.EC:
        public = serialization.load_der_public_key(bytes(encode_ec_public_key(pub)))
        kind = "ec-p256"
    else:
        public = rsa.RSAPublicNumbers(
            int.from_bytes(pub[Attribute.PUBLIC_EXPONENT], "big"),
            int.from_bytes(pub[Attribute.MODULUS], "big"),
        ).public_key()
        kind = "rsa-2048"
    assert isinstance(public, ec.EllipticCurvePublicKey | rsa.RSAPublicKey)
    return TokenKey(priv, kind, public)


def destroy_key(session: pkcs11.Session, label: str) -> None:
    """Remove the key pair labelled ``label`` (a service key being replaced)."""
    for cls in (ObjectClass.PRIVATE_KEY, ObjectClass.PUBLIC_KEY):
        for obj in session.get_objects({Attribute.CLASS: cls, Attribute.LABEL: label}):
            obj.destroy()


def store_certificate(session: pkcs11.Session, label: str, ident: bytes, der: bytes) -> None:
    """Put the certificate on the token beside its key (CKA_ID links them)."""
    from asn1crypto import x509 as asn1_x509
    from pkcs11.constants import CertificateType

    parsed = asn1_x509.Certificate.load(der)
    tbs = parsed["tbs_certificate"]
    session.create_object(
        {
            Attribute.CLASS: ObjectClass.CERTIFICATE,
            Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
            Attribute.TOKEN: True,
            Attribute.LABEL: label,
            Attribute.ID: ident,
            Attribute.SUBJECT: tbs["subject"].dump(),
            Attribute.ISSUER: tbs["issuer"].dump(),
            Attribute.SERIAL_NUMBER: tbs["serial_number"].dump(),
            Attribute.VALUE: der,
        }
    )


def replace_certificate(session: pkcs11.Session, label: str, ident: bytes, der: bytes) -> None:
    """Make ``der`` the token's one certificate labelled ``label``: an older one under the
    label goes, the same one is left as it is (a resumed issuance stores it again)."""
    for old in session.get_objects(
        {Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.LABEL: label}
    ):
        if bytes(old[Attribute.VALUE]) == der:
            return
        old.destroy()
    store_certificate(session, label, ident, der)


def key_without_certificate(token: pkcs11.Token) -> bool:
    """Whether ``token`` holds a public key but no certificate (what an issuance interrupted
    between making the key and storing the certificate leaves)."""
    with token.open() as public:
        keys = list(public.get_objects({Attribute.CLASS: ObjectClass.PUBLIC_KEY}))
        certificates = list(public.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE}))
    return bool(keys) and not certificates


def asn1_certificate(cert: x509.Certificate) -> asn1_x509.Certificate:
    """``cert`` as asn1crypto holds it (what pyHanko and its validator take)."""
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def pdf_signer(
    session: pkcs11.Session,
    key_label: str,
    cert: x509.Certificate,
    chain: list[x509.Certificate],
    key_type: str,
) -> signers.Signer:
    """pyHanko's signer for the key ``key_label`` on the token of ``session``. SoftHSM 2.6
    has no CKM_ECDSA_SHA256, so EC keys sign with the raw mechanism (pyHanko hashes, the
    token signs the digest)."""
    from pyhanko.sign.pkcs11 import PKCS11Signer

    return PKCS11Signer(
        session,
        key_label=key_label,
        signing_cert=asn1_certificate(cert),
        ca_chain=[asn1_certificate(c) for c in chain],
        use_raw_mechanism=key_type.startswith("ec"),
        bulk_fetch=False,
    )
