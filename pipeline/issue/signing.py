"""PDF signatures through pyHanko with keys on PKCS#11 tokens, to PAdES baseline B-LT.

Every signature carries a signature time-stamp (B-T) from the CA's own RFC 3161 service,
whose key is on the issuing CA's token (:class:`TokenTimeStamper`), or from an outside
service when ``[profile] tsa_url`` names one. Then :func:`add_long_term` puts the chains'
certificates and a CRL signed *after* that time-stamp into the document's security store
(DSS): B-LT, so the signature can be judged offline long after the signer's certificate
expired (a CRL from before the signature cannot show it was unrevoked when signed, and
ETSI EN 319 102-1 validators refuse it). The signers come from
``pipeline.issue.hsm.pdf_signer`` (the keys stay on their tokens).
"""

from __future__ import annotations

import asyncio
import io
import secrets
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from asn1crypto import cms, tsp
from asn1crypto import x509 as asn1_x509
from PIL import Image
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.stamp import StaticStampStyle
from pyhanko_certvalidator import ValidationContext

T = TypeVar("T")

SIGNATURE_BYTES = 32768
"""Room for the CMS signature: a three-level chain, signed attributes and a time-stamp
token carrying its own chain fit with room to spare."""


@dataclass(frozen=True, slots=True)
class Stamp:
    """A visible signature: an image at ``box`` (points, x1 y1 x2 y2) on page ``page``
    (negative counts from the end)."""

    image: Image.Image
    box: tuple[float, float, float, float]
    page: int = -1


class TokenTimeStamper(TimeStamper):
    """An RFC 3161 time-stamping authority in process: the time-stamp token is a CMS
    SignedData over a TSTInfo, signed by ``signer`` (the CA's time-stamping key, on its
    token) with the ESS signing-certificate-v2 attribute RFC 5816 asks for."""

    def __init__(self, signer: signers.Signer, policy: str) -> None:
        super().__init__(include_nonce=True)  # type: ignore[no-untyped-call]
        self.signer = signer
        self.policy = policy

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        cert = self.signer.signing_cert
        assert cert is not None
        info: dict[str, object] = {
            "version": "v1",
            "policy": self.policy,
            "message_imprint": req["message_imprint"],
            "serial_number": secrets.randbits(127),
            "gen_time": datetime.now(UTC).replace(microsecond=0),
            "accuracy": {"seconds": 1},
            "tsa": asn1_x509.GeneralName(name="directory_name", value=cert.subject),
        }
        if req["nonce"].native is not None:
            info["nonce"] = req["nonce"]
        content = cms.EncapsulatedContentInfo(
            {
                "content_type": "tst_info",
                "content": cms.ParsableOctetString(tsp.TSTInfo(info).dump()),
            }
        )
        token = await self.signer.async_sign_general_data(
            content, "sha256", detached=False, use_cades=True
        )
        return tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token})


def run_sync(work: Coroutine[Any, Any, T]) -> T:
    """pyHanko's coroutine run to its end from plain code, also where the calling thread
    already runs an event loop (a browser driver, an async flow), in which asyncio.run
    refuses: then in a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(work)
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, work).result()


def long_term_context(
    roots: list[asn1_x509.Certificate],
    intermediates: list[asn1_x509.Certificate],
    crls: list[bytes],
) -> ValidationContext:
    """What is embedded beside a signature: the chain to ``roots`` and the CRLs that show
    it unrevoked (the CA's own, published by the same batch; nothing is fetched)."""
    from asn1crypto import crl as asn1_crl

    return ValidationContext(
        trust_roots=roots,
        other_certs=intermediates,
        crls=[asn1_crl.CertificateList.load(c) for c in crls],
        allow_fetching=False,
        revocation_mode="hard-fail",
    )


def _points(box: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
    x1, y1, x2, y2 = (round(v) for v in box)
    return x1, y1, x2, y2


def sign_pdf(
    pdf: bytes,
    signer: signers.Signer,
    *,
    field_name: str,
    reason: str,
    timestamper: TimeStamper | None = None,
    location: str = "",
    stamp: Stamp | None = None,
    tsa_url: str = "",
) -> bytes:
    """The PDF with one more signature, PAdES (ETSI.CAdES.detached), over the whole file,
    time-stamped by ``timestamper`` (or the service at ``tsa_url``)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=True)
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
        timestamper=timestamper or (HTTPTimeStamper(tsa_url) if tsa_url else None),
        stamp_style=style,
        new_field_spec=field_spec,
    )
    out = io.BytesIO()
    # a fixed reservation spares pyHanko a dry-run signature to estimate the size
    run_sync(pdf_signer.async_sign_pdf(writer, output=out, bytes_reserved=SIGNATURE_BYTES))
    return out.getvalue()


def add_long_term(pdf: bytes, context: ValidationContext) -> bytes:
    """``pdf`` with the validation data of its newest signature and that signature's
    time-stamp (certificates, CRLs from ``context``) added to its DSS, in an incremental
    update after the signature (which it leaves intact)."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.dss import async_add_validation_info

    reader = PdfFileReader(io.BytesIO(pdf), strict=True)
    signature = reader.embedded_regular_signatures[-1]
    out = io.BytesIO()
    run_sync(async_add_validation_info(signature, context, output=out))
    return out.getvalue()
