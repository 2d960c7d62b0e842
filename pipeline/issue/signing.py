"""PDF signatures through pyHanko with keys on PKCS#11 tokens (PAdES baseline B; B-T when
a time-stamp service is configured).

SoftHSM 2.6 has no CKM_ECDSA_SHA256, so EC keys sign with the raw mechanism
(``use_raw_mechanism=True``: pyHanko hashes, the token signs the digest).
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass

import pkcs11
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from PIL import Image
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.pkcs11 import PKCS11Signer
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.stamp import StaticStampStyle


def asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))


SIGNATURE_BYTES = 16384
"""Room for the CMS signature: certificates of a three-level chain, signed attributes and
(when configured) a time-stamp token fit with room to spare."""


def token_signer(
    session: pkcs11.Session,
    key_label: str,
    cert: x509.Certificate,
    chain: list[x509.Certificate],
    key_type: str,
) -> PKCS11Signer:
    return PKCS11Signer(
        session,
        key_label=key_label,
        signing_cert=asn1(cert),
        ca_chain=[asn1(c) for c in chain],
        use_raw_mechanism=key_type.startswith("ec"),
        bulk_fetch=False,
    )


@dataclass(frozen=True, slots=True)
class Stamp:
    """A visible signature: an image at ``box`` (points, x1 y1 x2 y2) on page ``page``
    (negative counts from the end)."""

    image: Image.Image
    box: tuple[float, float, float, float]
    page: int = -1


def _points(box: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
    x1, y1, x2, y2 = (round(v) for v in box)
    return x1, y1, x2, y2


def sign_pdf(
    pdf: bytes,
    signer: PKCS11Signer,
    *,
    field_name: str,
    reason: str,
    location: str = "",
    stamp: Stamp | None = None,
    tsa_url: str = "",
) -> bytes:
    """The PDF with one more signature, PAdES (ETSI.CAdES.detached), over the whole file."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location or None,
    )
    field_spec = None
    style = None
    if stamp is not None:
        pages = int(writer.root["/Pages"]["/Count"])
        field_spec = fields.SigFieldSpec(
            field_name, on_page=stamp.page % pages, box=_points(stamp.box)
        )
        style = StaticStampStyle(
            background=PdfImage(stamp.image), border_width=0, background_opacity=1.0
        )
    pdf_signer = signers.PdfSigner(
        meta,
        signer=signer,
        timestamper=HTTPTimeStamper(tsa_url) if tsa_url else None,
        stamp_style=style,
        new_field_spec=field_spec,
    )
    out = io.BytesIO()
    # a fixed reservation spares pyHanko a dry-run signature to estimate the size
    asyncio.run(pdf_signer.async_sign_pdf(writer, output=out, bytes_reserved=SIGNATURE_BYTES))
    return out.getvalue()
