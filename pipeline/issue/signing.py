"""PDF signatures through pyHanko with keys on PKCS#11 tokens (PAdES baseline B; B-T when
a time-stamp service is configured).

The signer comes from ``pipeline.issue.hsm.pdf_signer`` (the key stays on its token).
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass

from PIL import Image
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.stamp import StaticStampStyle

SIGNATURE_BYTES = 16384
"""Room for the CMS signature: certificates of a three-level chain, signed attributes and
(when configured) a time-stamp token fit with room to spare."""


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
    signer: signers.Signer,
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
