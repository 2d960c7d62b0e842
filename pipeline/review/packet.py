"""The review packet: one PDF per application, what a reviewer needs at a glance.

A cover (the application, the verdict, the findings coloured by severity, the status and
its due dates), then the evidence of each finding side by side (what the record says, what
was read, the crop it was read from, a seal's unrolled rim), then every page of every
document as a thumbnail with the boxes of what was read. Chinese text is real text in
WenQuanYi Zen Hei (reportlab cannot embed Noto CJK, see ../shared/TRAPS.md), so it can be
selected and searched; every document has a bookmark.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image
from reportlab.lib.colors import Color, HexColor, white
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from pipeline.errors import WorkspaceError
from pipeline.fonts import PDF_FONT, register_pdf_font
from pipeline.model.application import KIND_LABELS as APPLICATION_KINDS
from pipeline.model.messages import DEFAULT, N_, catalogue, translator
from pipeline.review.calendar import beijing
from pipeline.review.evidence import crop
from pipeline.review.wording import CODE_LABELS, action_label, difference_of, told_finding
from pipeline.validate.rules import KIND_NAMES

JPEG_QUALITY = 88
"""Scans and evidence crops in the packet: small print stays crisp at this quality."""
PRINT_DPI = 250
"""An image with more than twice these pixels an inch of paper it is drawn on is reduced by
a whole factor (a phone photo drawn small); a scan's small print and a seal's rim stay
legible printed and zoomed in."""

FONT = PDF_FONT
WIDTH, HEIGHT = A4
MARGIN = 42.0
INK = HexColor("#1f2937")
MUTED = HexColor("#6b7280")
RULE = HexColor("#d1d5db")
SEVERITY = {
    "error": (HexColor("#b91c1c"), HexColor("#fee2e2"), N_("错误")),
    "warning": (HexColor("#b45309"), HexColor("#fef3c7"), N_("警告")),
    "info": (HexColor("#1d4ed8"), HexColor("#dbeafe"), N_("提示")),
}
VERDICT = {
    "clear": (HexColor("#15803d"), N_("通过（无须人工关注）")),
    "flagged": (HexColor("#b91c1c"), N_("需人工核对")),
}
EVIDENCE_FIELDS = (
    ("expected", N_("申请记录")),
    ("found", N_("识别结果")),
)
DETAIL_FIELDS = (
    ("confidence", N_("识别把握（1 为最有把握，不代表名称一致）")),
    ("disagreement", N_("与申请名称的差异分（0 为完全吻合）")),
    ("disagreement_by_character", N_("逐字差异分")),
)
"""Scores, for those who want them: after the plain evidence, in small print."""


@dataclass(frozen=True, slots=True)
class PacketPage:
    """A page image for the packet, already masked, with its boxes drawn."""

    document: int
    page: int
    image: Image.Image | None


@dataclass
class PacketData:
    application: dict[str, Any]
    """id, company, uscc, scheme, kind, status_label, verdict, round, received_by, contact,
    agent (or None), stage_label, since, due, overdue."""
    findings: list[dict[str, Any]]
    documents: list[dict[str, Any]]
    decisions: list[dict[str, Any]] = field(default_factory=list)
    generated: datetime = field(default_factory=datetime.now)


ImageSource = Callable[[int, int, bool], Image.Image | None]
"""(document index, page, with_boxes) → the page image, ID numbers masked."""
RimSource = Callable[[int, dict[str, Any]], Image.Image | None]
"""(document index, seal) → the seal's unrolled rim."""


def wrap(text: str, size: float, width: float) -> list[str]:
    """Lines of ``text`` no wider than ``width`` (Chinese breaks anywhere; Latin at spaces
    where it can)."""
    lines: list[str] = []
    for paragraph in str(text).split("\n"):
        line = ""
        for char in paragraph:
            if pdfmetrics.stringWidth(line + char, FONT, size) <= width:
                line += char
                continue
            cut = line.rfind(" ")
            if char != " " and cut > len(line) // 2 and line[-1:].isascii():
                lines.append(line[:cut])
                line = line[cut + 1 :] + char
            else:
                lines.append(line)
                line = char.lstrip()
        lines.append(line)
    return lines


class _Writer:
    """A canvas with a cursor running down the page."""

    def __init__(self, canvas: Canvas, title: str, scratch: Path, language: str) -> None:
        self.canvas = canvas
        self.language = language
        self._ = translator(language)
        """The packet's words in its reader's language."""
        self.title = title
        self.scratch = scratch
        """Where the images are encoded before they are drawn (one file each)."""
        self.images = 0
        self.y = HEIGHT - MARGIN
        self.number = 1

    def text(self, x: float, y: float, text: str, size: float = 10, colour: Color = INK) -> None:
        self.canvas.setFont(FONT, size)
        self.canvas.setFillColor(colour)
        self.canvas.drawString(x, y, text)

    def paragraph(
        self,
        text: str,
        size: float = 10,
        x: float = MARGIN,
        width: float | None = None,
        colour: Color = INK,
    ) -> None:
        width = width or WIDTH - MARGIN - x
        for line in wrap(text, size, width):
            self.need(size * 1.5)
            self.text(x, self.y - size, line, size, colour)
            self.y -= size * 1.45

    def need(self, height: float) -> None:
        if self.y - height < MARGIN + 20:
            self.new_page()

    def new_page(self) -> None:
        self.footer()
        self.canvas.showPage()
        self.number += 1
        self.y = HEIGHT - MARGIN

    def footer(self) -> None:
        self.canvas.setStrokeColor(RULE)
        self.canvas.line(MARGIN, MARGIN, WIDTH - MARGIN, MARGIN)
        self.text(MARGIN, MARGIN - 14, self.title, 8, MUTED)
        self.canvas.setFont(FONT, 8)
        self.canvas.drawRightString(
            WIDTH - MARGIN, MARGIN - 14, self._("第 {page} 页").format(page=self.number)
        )

    def heading(self, text: str, key: str, level: int = 0, size: float = 15) -> None:
        self.need(size * 3)
        self.canvas.bookmarkPage(key, fit="XYZ", top=self.y + 4)
        self.canvas.addOutlineEntry(text, key, level=level)
        self.text(MARGIN, self.y - size, text, size)
        self.y -= size * 1.9

    def image(self, image: Image.Image, x: float, width: float, height: float) -> float:
        """Draw ``image`` inside width × height at the cursor; the height it took."""
        scale = min(width / image.width, height / image.height)
        w, h = image.width * scale, image.height * scale
        picture = image if image.mode == "RGB" else image.convert("RGB")
        factor = int(picture.width / (w / 72 * PRINT_DPI))
        if factor >= 2:  # by a whole factor: a box filter, a hundredth of a second
            picture = picture.reduce(factor)
        # a JPEG file: reportlab copies it into the PDF as it is; from memory (an
        # ImageReader) it decodes the pixels again and hashes them to name the image
        self.images += 1
        path = self.scratch / f"image-{self.images:05d}.jpg"
        picture.save(path, format="JPEG", quality=JPEG_QUALITY)
        self.canvas.drawImage(str(path), x, self.y - h, w, h, preserveAspectRatio=True, mask=None)
        self.canvas.setStrokeColor(RULE)
        self.canvas.rect(x, self.y - h, w, h, stroke=1, fill=0)
        return h


def render_packet(
    data: PacketData, pages: ImageSource, rims: RimSource, out: Path, language: str = DEFAULT
) -> Path:
    """Write the packet to ``out`` in ``language`` (through a temporary name, so a
    half-written packet never stands as the packet)."""
    register_pdf_font()
    _ = translator(language)
    app = data.application
    partial = out.with_name(f".{out.name}.partial")
    canvas = Canvas(str(partial), pagesize=A4, pageCompression=1)
    canvas.setTitle(_("审核材料 {id} {company}").format(id=app["id"], company=app["company"]))
    canvas.setAuthor("sealdesk")
    canvas.setSubject(_("电子签章申请审核材料包"))
    with tempfile.TemporaryDirectory(prefix="sealdesk-packet-") as scratch:
        title = _("{id}  {company}  · sealdesk 审核材料").format(
            id=app["id"], company=app["company"]
        )
        _write(_Writer(canvas, title, Path(scratch), language), data, pages, rims)
        try:
            canvas.save()
            partial.replace(out)
        except OSError as exc:  # a full disk: no half packet left behind, under either name
            partial.unlink(missing_ok=True)
            raise WorkspaceError(
                f"cannot write the review packet {out.name}: {exc.strerror or exc}; free "
                "space in the workspace and make it again (nothing was left half-written)"
            ) from exc
    return out


def _write(writer: _Writer, data: PacketData, pages: ImageSource, rims: RimSource) -> None:
    _cover(writer, data)
    attention = [f for f in data.findings if f.get("document") is not None]
    if attention:
        writer.new_page()
        writer.heading(writer._("证据（{n} 项）").format(n=len(attention)), "evidence")
        for index, finding in enumerate(_by_severity(attention)):
            _evidence(writer, data, finding, index, pages, rims)
    for index, document in enumerate(data.documents):
        writer.new_page()
        _document_pages(writer, index, document, pages, data)
    writer.footer()


def _by_severity(findings: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    order = {"error": 0, "warning": 1, "info": 2}
    yield from sorted(findings, key=lambda f: order.get(f["severity"], 3))


def _cover(w: _Writer, data: PacketData) -> None:
    app = data.application
    _ = w._
    pgettext = catalogue(w.language).pgettext
    w.canvas.bookmarkPage("cover")
    w.canvas.addOutlineEntry(_("封面与结论"), "cover", level=0)
    w.text(MARGIN, w.y - 12, _("电子签章申请 · 审核材料包"), 11, MUTED)
    w.y -= 34
    w.text(MARGIN, w.y - 8, str(app["company"]), 20)
    w.y -= 26
    w.text(MARGIN, w.y - 8, f"{app['id']}    " + _("第 {n} 轮").format(n=app["round"]), 12, MUTED)
    w.y -= 26
    colour, label = VERDICT.get(str(app.get("verdict")), (MUTED, N_("未检查")))
    w.canvas.setFillColor(colour)
    w.canvas.roundRect(MARGIN, w.y - 34, WIDTH - 2 * MARGIN, 34, 6, stroke=0, fill=1)
    counts = {s: sum(1 for f in data.findings if f["severity"] == s) for s in SEVERITY}
    w.text(MARGIN + 12, w.y - 22, _("检查结论：") + _(label), 14, white)
    summary = _("错误 {errors}   警告 {warnings}   提示 {notes}").format(
        errors=counts["error"], warnings=counts["warning"], notes=counts["info"]
    )
    w.canvas.setFont(FONT, 11)
    w.canvas.drawRightString(WIDTH - MARGIN - 12, w.y - 21, summary)
    w.y -= 52
    due = app.get("due")
    kind = _(APPLICATION_KINDS.get(app["kind"], app["kind"]))
    waiting = (
        _("{stage}，应于 {due} 前完成").format(stage=_(app["stage_label"]), due=beijing(due))
        + (_("（已逾期）") if app.get("overdue") else "")
        if due is not None
        else _("无")
    )
    rows = [
        (_("统一社会信用代码"), app.get("uscc") or "—", False),
        (_("业务"), f"{app['scheme'].upper()} · {kind}", False),
        (pgettext("heading", "联系人"), app.get("contact") or "—", False),
        (pgettext("heading", "经办人（代理人）"), app.get("agent") or _("无"), False),
        (_("收件人"), app.get("received_by") or "—", False),
        (_("状态"), _(app["status_label"]) if app.get("status_label") else "—", False),
        (_("待办"), waiting, bool(app.get("overdue"))),
    ]
    for key, value, overdue in rows:
        w.text(MARGIN, w.y - 10, key, 10, MUTED)
        w.text(MARGIN + 120, w.y - 10, str(value), 10, SEVERITY["error"][0] if overdue else INK)
        w.y -= 18
    for decision in data.decisions:
        what = action_label(f"review.{decision['stage']}.{decision['decision']}", w.language)
        said = _("{at}  {what}（{actor}）").format(
            at=beijing(decision["at"]), what=what, actor=decision["actor"]
        )
        if decision.get("remarks"):
            said += _("：") + decision["remarks"]
        w.paragraph(said, 9, colour=MUTED)
        for over in decision.get("overrides") or []:
            w.paragraph(
                "    "
                + _("确认第 {n} 项 {code} 不影响通过：{remark}").format(
                    n=over["finding"],
                    code=_(CODE_LABELS.get(over["code"], over["code"])),
                    remark=over["remark"],
                ),
                9,
                colour=MUTED,
            )
    w.y -= 12
    w.text(MARGIN, w.y - 13, _("发现的问题（{n}）").format(n=len(data.findings)), 13)
    w.y -= 26
    _findings_table(w, data.findings)
    w.y -= 8
    w.paragraph(
        _(
            "生成于 {at}（北京时间）。身份证号码仅显示后四位。"
            "红框：发现问题所指之处；蓝框：识别的字段；绿框：识别的印章。"
        ).format(at=beijing(data.generated)),
        8,
        colour=MUTED,
    )


def _findings_table(w: _Writer, findings: list[dict[str, Any]]) -> None:
    if not findings:
        w.paragraph(w._("无。"), 10, colour=MUTED)
        return
    columns = (MARGIN, MARGIN + 46, MARGIN + 176, WIDTH - MARGIN)
    for finding in _by_severity(findings):
        strong, pale, label = SEVERITY.get(finding["severity"], (MUTED, white, "?"))
        message = wrap(told_finding(finding, w.language), 9, columns[3] - columns[2] - 8)
        title = wrap(w._(CODE_LABELS.get(finding["code"], finding["code"])), 8.5, 122)
        height = max(20.0, 12.0 * max(len(message), len(title)) + 8)
        w.need(height + 2)
        w.canvas.setFillColor(pale)
        w.canvas.rect(MARGIN, w.y - height, WIDTH - 2 * MARGIN, height, stroke=0, fill=1)
        w.canvas.setFillColor(strong)
        w.canvas.rect(MARGIN, w.y - height, 4, height, stroke=0, fill=1)
        w.text(columns[0] + 10, w.y - 14, w._(label), 9, strong)
        for i, line in enumerate(title):
            w.text(columns[1], w.y - 14 - 12 * i, line, 8.5, INK)
        for i, line in enumerate(message):
            w.text(columns[2], w.y - 14 - 12 * i, line, 9, INK)
        w.y -= height + 2


def _evidence(
    w: _Writer,
    data: PacketData,
    finding: dict[str, Any],
    index: int,
    pages: ImageSource,
    rims: RimSource,
) -> None:
    strong, pale, label = SEVERITY.get(finding["severity"], (MUTED, white, "?"))
    evidence = finding.get("evidence") or {}
    w.need(240)
    key = f"finding-{index}"
    w.canvas.bookmarkPage(key, fit="XYZ", top=w.y + 4)
    _ = w._
    label = _(label)
    title = _(CODE_LABELS.get(finding["code"], finding["code"]))
    w.canvas.addOutlineEntry(f"{label} {title}", key, level=1)
    w.canvas.setFillColor(pale)
    w.canvas.rect(MARGIN, w.y - 22, WIDTH - 2 * MARGIN, 22, stroke=0, fill=1)
    w.text(MARGIN + 8, w.y - 15, f"{label}  {title}", 11, strong)
    w.y -= 30
    sentence = told_finding(finding, w.language)
    if sentence:
        w.paragraph(sentence, 10)
    plain = difference_of(finding["code"], evidence, w.language)
    if plain:
        w.paragraph(_("与申请记录相比：") + plain, 10)
    w.y -= 4
    left = (WIDTH - 2 * MARGIN) * 0.42
    top = w.y
    for fields, size, colour in ((EVIDENCE_FIELDS, 10, INK), (DETAIL_FIELDS, 7, MUTED)):
        for name, caption in fields:
            value = evidence.get(name)
            if value in (None, "", []):
                continue
            w.paragraph(_(caption), min(8, size), width=left - 10, colour=MUTED)
            w.y -= 1
            w.paragraph(_shown(value, _), size, width=left - 10, colour=colour)
            w.y -= 3
    w.text(MARGIN, w.y - 8, _("检查项代码") + f" {finding['code']}", 7, MUTED)
    w.y -= 12
    text_bottom = w.y
    w.y = top
    image_bottom = top
    doc_index, page = finding.get("document"), finding.get("page")
    bbox = evidence.get("bbox")
    if doc_index is not None and page and bbox:
        image = pages(int(doc_index), int(page), False)
        if image is not None:
            x = MARGIN + left
            width = WIDTH - MARGIN - x
            used = w.image(crop(image, bbox), x, width, 150)
            w.y -= used + 6
            if finding["code"].startswith("seal"):
                seal = _seal_at(data.documents[int(doc_index)], bbox)
                rim = rims(int(doc_index), seal) if seal is not None else None
                if rim is not None:
                    w.text(x, w.y - 9, _("印章外圈展开"), 8, MUTED)
                    w.y -= 12
                    used = w.image(rim, x, width, 40)
                    w.y -= used
            image_bottom = w.y
    w.y = min(text_bottom, image_bottom) - 16
    w.canvas.setStrokeColor(RULE)
    w.canvas.line(MARGIN, w.y + 8, WIDTH - MARGIN, w.y + 8)


def _shown(value: Any, _: Callable[[str], str]) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, list | tuple):
        return _("、").join(_pair(v) if isinstance(v, list | tuple) else str(v) for v in value)
    return str(value)


def _pair(pair: list[Any] | tuple[Any, ...]) -> str:
    """A character and its figure (disagreement_by_character): 网 1.59."""
    return " ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in pair)


def _seal_at(document: dict[str, Any], bbox: Any) -> dict[str, Any] | None:
    for seal in document.get("seals") or []:
        if list(seal.get("bbox") or []) == list(bbox):
            return dict(seal)
    return None


def _document_pages(
    w: _Writer, index: int, document: dict[str, Any], pages: ImageSource, data: PacketData
) -> None:
    _ = w._
    kind = _(KIND_NAMES.get(document["kind"], document["kind"]))
    count = int(document.get("pages") or 1)
    first = int(document["page"])
    span = (
        _("第 {page} 页").format(page=first)
        if count == 1
        else _("第 {first}–{last} 页").format(first=first, last=first + count - 1)
    )
    w.heading(_("文件 {n}：{kind}").format(n=index + 1, kind=kind), f"document-{index}", 0, 14)
    w.paragraph(
        _("第 {round} 轮 {source}，{span}；识别为{kind}（置信度 {confidence}）").format(
            round=document.get("round", 1),
            source=document["source"],
            span=span,
            kind=kind,
            confidence=format(document.get("confidence", 0), ".2f"),
        ),
        9,
        colour=MUTED,
    )
    flagged = sum(1 for f in data.findings if f.get("document") == index)
    if flagged:
        said = _("本文件有 {n} 项发现，见证据部分。").format(n=flagged)
        w.paragraph(said, 9, colour=SEVERITY["warning"][0])
    w.y -= 6
    width = WIDTH - 2 * MARGIN
    tallest = HEIGHT - 2 * MARGIN - 60  # a whole packet page, but for its header and footer
    for page in range(first, first + count):
        image = pages(index, page, True)
        if image is None:
            w.paragraph(_("第 {page} 页：没有可显示的图像。").format(page=page), 9, colour=MUTED)
            continue
        # each scanned page as large as the paper allows, to be read printed: on a page of
        # its own unless what is left of this one holds it nearly whole
        height = min(tallest, width * image.height / image.width)
        if w.y - MARGIN - 40 < height * 0.9:
            w.new_page()
        height = min(height, w.y - MARGIN - 40)
        w.text(MARGIN, w.y - 9, _("第 {page} 页").format(page=page), 8, MUTED)
        w.y -= 12
        used = w.image(image, MARGIN, width, height)
        w.y -= used + 12
