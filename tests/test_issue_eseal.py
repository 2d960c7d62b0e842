"""The e-seal reads back: our own seal reader, with the real OCR engine, gets the company
name exactly from the image issuance draws, also after it is placed on a page as the
visible signature of the sealed form and rendered again.

"""

from __future__ import annotations

import io
import itertools

import numpy as np
import pypdfium2
import pytest
from PIL import Image

from pipeline.extract.engines import make_engine
from pipeline.extract.ocr import OcrEngine
from pipeline.extract.seals import detect_and_read
from pipeline.issue.eseal import ESEAL_DPI, eseal_design, eseal_image, eseal_png


@pytest.fixture(scope="module")
def engine() -> OcrEngine:
    return make_engine("rapidocr", threads=1)


def _on_page(seal: Image.Image, dpi: int = 300) -> np.ndarray:
    scaled = seal.resize(
        (round(seal.width * dpi / ESEAL_DPI), round(seal.height * dpi / ESEAL_DPI)),
        Image.Resampling.LANCZOS,
    )
    page = Image.new("RGB", (2480, 3508), "white")
    page.paste(scaled, (1500, 2500), scaled)
    return np.asarray(page)


@pytest.mark.parametrize(
    ("name", "style"),
    [
        ("北京示例信息科技有限公司", None),
        ("华信（北京）电子科技股份有限公司", {}),
        ("内蒙古草原蒙牛乳业集团股份有限公司呼和浩特分公司", None),
        ("深圳嘉禾通信设备有限责任公司", {"shape": "oval", "inscription": "合同专用章"}),
    ],
)
def test_the_eseal_reads_back_exactly(
    engine: OcrEngine, name: str, style: dict[str, str] | None
) -> None:
    design = eseal_design(name, style)
    loaded = Image.open(io.BytesIO(eseal_png(design)))
    assert "transparency" in loaded.info and round(loaded.info["dpi"][0]) == ESEAL_DPI
    png = loaded.convert("RGBA")
    assert png.getpixel((2, 2))[3] == 0  # paper is transparent
    (seal,) = detect_and_read(_on_page(png), engine)
    assert seal.text == name
    assert seal.owner == "company"
    assert seal.shape == (style or {}).get("shape", "round")
    if seal.shape == "round":
        assert seal.inscription == ((style or {}).get("inscription") or "认证专用章")


def test_the_sealed_form_reads_back_after_rendering(engine: OcrEngine) -> None:
    """Drawn into a PDF at 42 mm by reportlab and rendered at 300 dpi, as a reviewer's
    scanner or viewer would see it."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    name = "上海恒通机械设备有限公司"
    seal = eseal_image(eseal_design(name))
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4)
    canvas.drawImage(ImageReader(seal), 130 * mm, 40 * mm, 42 * mm, 42 * mm, mask="auto")
    canvas.save()
    page = pypdfium2.PdfDocument(out.getvalue())[0]
    image = page.render(scale=300 / 72).to_pil().convert("RGB")
    (read,) = detect_and_read(np.asarray(image), engine)
    assert read.text == name and read.inscription == "认证专用章"


def test_generated_company_names_read_back_from_the_pdf_stamp(engine: OcrEngine) -> None:
    """Names as the corpus generator makes them (place names in brackets one time in
    seven), at the 300 dpi the sealed PDFs carry, upright as they are placed."""
    import random

    from fixtures.corpus.identity import REGIONS, company_name
    from pipeline.issue.eseal import stamp_image

    rng = random.Random(2026)
    misses = []
    for _ in range(12):
        name = company_name(rng, rng.choice(REGIONS))
        page = Image.new("RGB", (2480, 3508), "white")
        seal = stamp_image(eseal_design(name))
        page.paste(seal, (1500, 2500), seal)
        found = detect_and_read(np.asarray(page), engine)
        if not found or (found[0].text, found[0].inscription) != (name, "认证专用章"):
            misses.append((name, found[0].text if found else None))
    assert misses == []


@pytest.mark.parametrize("length", [2, 10, 14, 27, 39])
def test_a_name_of_any_length_stays_clear_of_the_ring(length: int) -> None:
    """The complaint: a long name's first and last characters touched the ring. Condensed
    to their arc as an engraver does, every character keeps more than a millimetre from
    the ring's inner edge, and neighbours barely touch (a few pixels at 300 dpi)."""
    import numpy as np

    from pipeline.issue.seal_image import name_masks

    name = ("内蒙古自治区呼和浩特市新城区远航汽车零部件销售有限责任公司分公司" * 2)[: length - 2]
    design = eseal_design(name + "公司")
    masks = [np.asarray(m) > 64 for m in name_masks(design, 300, 1)]
    size = masks[0].shape[0]
    centre, inner = size / 2, size / 2 - size * design.ring
    for mask in masks:
        ys, xs = np.nonzero(mask)
        reach = np.hypot(xs - centre + 0.5, ys - centre + 0.5).max()
        assert (inner - reach) / 300 * 25.4 > 1.0
    assert all(int((a & b).sum()) <= 10 for a, b in itertools.pairwise(masks))
