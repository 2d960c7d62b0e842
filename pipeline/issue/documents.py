"""The PDFs issuance writes: the electronic certificate (电子版证书), the PIN letter for the
courier, and the application form the customer's new key e-seals.

Drawn with reportlab in WenQuanYi Zen Hei (selectable Chinese). What the verifier relies on
is also in the document's keywords (``sealdesk-serial=… sealdesk-version=…``), covered by
the signature like everything else in the file.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import qrcode
from PIL import Image
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from pipeline.fonts import register_pdf_font

SHANGHAI = ZoneInfo("Asia/Shanghai")
WIDTH, HEIGHT = A4
INK = HexColor("#111827")
MUTED = HexColor("#4b5563")
RED = HexColor("#b91c1c")
KEYWORD_PREFIX = "sealdesk-"


@dataclass(frozen=True, slots=True)
class CertificateFacts:
    company_name: str
    uscc: str
    serial: str
    version: int
    not_before: datetime
    not_after: datetime
    application_id: str
    issuer: str
    key_type: str
    key_serial: str
    verify_url: str


def keywords(facts: CertificateFacts) -> str:
    return (
        f"{KEYWORD_PREFIX}serial={facts.serial} {KEYWORD_PREFIX}version={facts.version} "
        f"{KEYWORD_PREFIX}uscc={facts.uscc} {KEYWORD_PREFIX}application={facts.application_id}"
    )


def parse_keywords(text: str) -> dict[str, str]:
    found = {}
    for word in text.split():
        if word.startswith(KEYWORD_PREFIX) and "=" in word:
            key, value = word[len(KEYWORD_PREFIX) :].split("=", 1)
            found[key] = value
    return found


def _date(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y年%m月%d日 %H:%M")


def grouped(serial: str) -> str:
    s = serial.upper()
    return " ".join(s[i : i + 4] for i in range(0, len(s), 4))


def _qr(url: str) -> Image.Image:
    code = qrcode.QRCode(border=1, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(url)
    code.make(fit=True)
    image: Image.Image = code.make_image(fill_color="black", back_color="white").get_image()
    return image


def certificate_pdf(facts: CertificateFacts, seal: Image.Image, statement_issuer: str) -> bytes:
    """The electronic certificate: who, which certificate, how long, which version, the
    e-seal, and how anyone verifies it. One A4 page."""
    font = register_pdf_font()
    out = io.BytesIO()
    c = Canvas(out, pagesize=A4, pageCompression=1)
    c.setTitle(f"电子签章证书 {facts.company_name} 第{facts.version}版")
    c.setAuthor(facts.issuer)
    c.setSubject(f"{facts.company_name} {facts.uscc}")
    c.setKeywords(keywords(facts))
    c.setCreator("sealdesk")
    c.setStrokeColor(RED)
    c.setLineWidth(2)
    c.rect(15 * mm, 15 * mm, WIDTH - 30 * mm, HEIGHT - 30 * mm)
    c.setLineWidth(0.6)
    c.rect(17 * mm, 17 * mm, WIDTH - 34 * mm, HEIGHT - 34 * mm)
    c.setFillColor(INK)
    c.setFont(font, 26)
    c.drawCentredString(WIDTH / 2, HEIGHT - 45 * mm, "电子签章证书")
    c.setFont(font, 12)
    c.setFillColor(MUTED)
    c.drawCentredString(WIDTH / 2, HEIGHT - 53 * mm, "Electronic Seal Certificate")
    rows = [
        ("单位名称", facts.company_name),
        ("统一社会信用代码", facts.uscc),
        ("证书序列号", grouped(facts.serial)),
        ("有效期", f"{_date(facts.not_before)} 至 {_date(facts.not_after)}（北京时间）"),
        ("版本号", f"第 {facts.version} 版"),
        ("申请编号", facts.application_id),
        ("密钥", f"{facts.key_type.upper()}，USB-Key 序列号 {facts.key_serial}"),
        ("签发机构", facts.issuer),
    ]
    y = HEIGHT - 75 * mm
    for label, value in rows:
        c.setFont(font, 11)
        c.setFillColor(MUTED)
        c.drawRightString(62 * mm, y, label)
        c.setFillColor(INK)
        c.setFont(font, 12 if label != "单位名称" else 14)
        c.drawString(68 * mm, y, value)
        y -= 10 * mm
    seal_size = 42 * mm
    c.drawImage(
        ImageReader(seal),
        WIDTH - 30 * mm - seal_size,
        y - seal_size + 2 * mm,
        seal_size,
        seal_size * seal.height / seal.width,
        mask="auto",
    )
    c.setFont(font, 10)
    c.setFillColor(MUTED)
    c.drawString(25 * mm, y - 2 * mm, "电子签章印模（实际尺寸 42 mm）：")
    qr_size = 32 * mm
    qr_y = 40 * mm
    c.drawImage(ImageReader(_qr(facts.verify_url)), 25 * mm, qr_y, qr_size, qr_size)
    text = c.beginText(25 * mm + qr_size + 6 * mm, qr_y + qr_size - 4 * mm)
    text.setFont(font, 10)
    text.setFillColor(INK)
    for line in (
        "验证方式：扫描左侧二维码，或访问",
        facts.verify_url,
        "或在命令行运行：sealdesk verify 本文件.pdf",
        "本文件经签发机构施加数字签名，签名覆盖全文；",
        "任何改动都会使签名失效。",
    ):
        text.textLine(line)
    c.drawText(text)
    c.setFont(font, 8.5)
    c.setFillColor(MUTED)
    statement = (
        f"本电子版证书经 {statement_issuer} 施加数字签名，依据《中华人民共和国电子签名法》，"
        "合法有效，可在线验证。仅保证当前版本的证书内容有效；如证书信息变更而生成新的电子版证书，"
        "将替代本版本，以在线查询的最终版本号为准。"
    )
    _wrapped(c, statement, font, 8.5, 25 * mm, 30 * mm, WIDTH - 50 * mm)
    c.showPage()
    c.save()
    return out.getvalue()


def _wrapped(
    c: Canvas, text: str, font: str, size: float, x: float, y: float, width: float
) -> None:
    from reportlab.pdfbase import pdfmetrics

    line = ""
    lines = []
    for char in text:
        if pdfmetrics.stringWidth(line + char, font, size) > width:
            lines.append(line)
            line = ""
        line += char
    lines.append(line)
    for i, part in enumerate(lines):
        c.drawString(x, y - i * size * 1.4, part)


def _lines(c: Canvas, lines: list[str], top: float, step: float) -> float:
    """Draw ``lines`` down from ``top`` at the left margin; the y under the last one."""
    y = top
    for line in lines:
        c.drawString(25 * mm, y, line)
        y -= step
    return y


def pin_letter_pdf(
    *,
    company_name: str,
    application_id: str,
    contact: dict[str, str],
    key_serial: str,
    token_label: str,
    pin: str,
    issuer: str,
) -> bytes:
    """The PIN letter (密码信封) that travels with the USB key: the only place the PIN is."""
    font = register_pdf_font()
    out = io.BytesIO()
    c = Canvas(out, pagesize=A4, pageCompression=1)
    c.setTitle(f"USB-Key 密码函 {application_id}")
    c.setFillColor(INK)
    c.setFont(font, 20)
    c.drawString(25 * mm, HEIGHT - 35 * mm, "USB-Key 用户密码函（请妥善保管，勿与他人共享）")
    c.setFont(font, 11)
    lines = [
        f"单位名称：{company_name}",
        f"申请编号：{application_id}",
        f"收件人：{contact.get('name', '')}  电话：{contact.get('phone', '')}",
        f"地址：{contact.get('address', '')} {contact.get('postcode', '')}",
        f"USB-Key 序列号：{key_serial}（标签 {token_label}）",
    ]
    y = _lines(c, lines, HEIGHT - 55 * mm, 8 * mm)
    c.setFont(font, 14)
    c.drawString(25 * mm, y - 6 * mm, "用户 PIN：")
    c.setFont("Courier-Bold", 22)
    c.drawString(55 * mm, y - 7 * mm, pin)
    c.setFont(font, 10)
    c.setFillColor(MUTED)
    c.drawString(
        25 * mm, y - 22 * mm, "首次使用请立即修改 PIN。连续输错多次将锁定 USB-Key，需申请补办。"
    )
    c.drawString(25 * mm, y - 29 * mm, f"签发机构：{issuer}")
    c.showPage()
    c.save()
    return out.getvalue()


def images_pdf(pages: list[Path] | list[Image.Image], title: str) -> bytes:
    """A PDF of page images, each on A4's width (the forms are A4), each kept
    as a JPEG. Written by ReportLab: Pillow's own PDF writer gives object 0 generation
    65536, which strict readers (pyHanko's) refuse."""
    from reportlab.lib.utils import ImageReader

    out = io.BytesIO()
    c = Canvas(out, pageCompression=1)
    c.setTitle(title)
    for page in pages:
        image = (page if isinstance(page, Image.Image) else Image.open(page)).convert("RGB")
        jpeg = io.BytesIO()
        image.save(jpeg, format="JPEG", quality=80)
        jpeg.seek(0)
        # on A4's width whatever the scan's resolution (forms are A4; a 200 dpi photo laid
        # at 300 dpi made a page two thirds the size)
        width = A4_POINTS[0]
        height = width * image.height / image.width
        c.setPageSize((width, height))
        c.drawImage(ImageReader(jpeg), 0, 0, width, height)
        c.showPage()
    c.save()
    return out.getvalue()


def summary_form_pdf(record: dict[str, object], facts: CertificateFacts) -> bytes:
    """When no scan of the form is on file: a one-page application summary to e-seal."""
    font = register_pdf_font()
    out = io.BytesIO()
    c = Canvas(out, pagesize=A4, pageCompression=1)
    c.setTitle(f"申请书 {facts.application_id}")
    c.setFillColor(INK)
    c.setFont(font, 18)
    c.drawCentredString(WIDTH / 2, HEIGHT - 35 * mm, "电子签章申请书（电子版）")
    c.setFont(font, 11)
    company = record.get("company") if isinstance(record.get("company"), dict) else {}
    contact = record.get("contact") if isinstance(record.get("contact"), dict) else {}
    assert isinstance(company, dict) and isinstance(contact, dict)
    lines = [
        f"申请编号：{facts.application_id}",
        f"公司名称：{company.get('name', '')}",
        f"统一社会信用代码：{company.get('uscc', '')}",
        f"联系人：{contact.get('name', '')}",
        f"证书序列号：{grouped(facts.serial)}",
    ]
    _lines(c, lines, HEIGHT - 55 * mm, 9 * mm)
    c.drawString(25 * mm, 80 * mm, "申请单位（电子签章）：")
    c.showPage()
    c.save()
    return out.getvalue()


FORM_STAMP_MM = 42.0
"""The e-seal's size on the sealed application form."""
MM = 72 / 25.4
A4_POINTS = (595.0, 842.0)
SCAN_DPI = 300


def stamp_box(
    paper_seal: list[int] | None, page: Image.Image | None = None
) -> tuple[float, float, float, float]:
    """Where the e-seal goes on the form's last page (points, x1 y1 x2 y2 from the lower
    left, on the page :func:`images_pdf` makes of ``page``): the place nearest the
    company's paper seal (without one, the lower right, where forms ask for the seal) whose
    42 mm square covers the least print, found on the page image itself. Black print
    (text, a table's lines, a signature) weighs ten times the paper seal's red ink: the
    e-seal may lean on the paper seal where that keeps it off the text. Without the image:
    beside the paper seal (left, else above), else the lower right."""
    side = FORM_STAMP_MM * MM
    if page is None:
        return _stamp_box_blind(paper_seal, side)
    points = A4_POINTS[0] / page.width  # images_pdf lays every page on A4's width
    scale = max(1, round(page.width / 200))  # about 200 px across
    dark, red = _ink(page, scale)
    rows, cols = dark.shape
    cell = max(1, round(side / points / scale))
    margin = round(12 * MM / points / scale)
    if rows < cell + 2 * margin or cols < cell + 2 * margin:
        return _stamp_box_blind(paper_seal, side)
    covered = 10 * _in_squares(dark, cell) + _in_squares(red, cell)
    ys, xs = np.mgrid[0 : covered.shape[0], 0 : covered.shape[1]]
    if paper_seal:
        x0, y0, x1, y1 = (v / scale for v in paper_seal)
        target = ((x0 + x1) / 2 - cell / 2, (y0 + y1) / 2 - cell / 2)
    else:
        target = (cols - margin - cell, rows * 0.7)
    distance = np.hypot(xs - target[0], ys - target[1]) / max(rows, cols)
    inside = (ys >= margin) & (xs >= margin)
    inside &= (ys <= rows - margin - cell) & (xs <= cols - margin - cell)
    # one per cent of the square in black print costs a tenth of the page's length of walk
    cost = np.where(inside, covered + distance, np.inf)
    y, x = np.unravel_index(int(np.argmin(cost)), cost.shape)
    left, top = x * scale * points, y * scale * points
    height = page.height * points
    return (left, height - top - side, left + side, height - top)


def _in_squares(ink: np.ndarray, cell: int) -> np.ndarray:
    """The share of each ``cell``-wide square (by its top-left corner) that is inked."""
    total = np.pad(ink.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    inked = (
        total[cell:, cell:] - total[:-cell, cell:] - total[cell:, :-cell] + total[:-cell, :-cell]
    )
    share: np.ndarray = inked / (cell * cell)
    return share


def _ink(page: Image.Image, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """Black print and coloured ink (a red seal) at 1/``scale`` of the scan, as 0 or 1."""
    rgb = np.asarray(page.convert("RGB").reduce(scale), dtype=np.int16)
    spread = rgb.max(axis=2) - rgb.min(axis=2)
    coloured = spread > 60
    dark = (rgb.min(axis=2) < 150) & ~coloured
    return dark.astype(np.float64), coloured.astype(np.float64)


def _stamp_box_blind(
    paper_seal: list[int] | None, side: float
) -> tuple[float, float, float, float]:
    width, height = A4_POINTS
    if paper_seal:
        x0, y0, _, y1 = (v * 72 / SCAN_DPI for v in paper_seal)
        middle = height - (y0 + y1) / 2
        bottom = min(max(middle - side / 2, 15 * MM), height - 15 * MM - side)
        if x0 - 8 * MM - side >= 15 * MM:
            return (x0 - 8 * MM - side, bottom, x0 - 8 * MM, bottom + side)
        top_of_seal = height - y0
        if top_of_seal + 5 * MM + side <= height - 15 * MM:
            left = min(max(x0, 15 * MM), width - 15 * MM - side)
            return (left, top_of_seal + 5 * MM, left + side, top_of_seal + 5 * MM + side)
    return (width - 25 * MM - side, 60 * MM, width - 25 * MM, 60 * MM + side)
