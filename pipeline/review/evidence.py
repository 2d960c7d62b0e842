"""What a reviewer looks at: the stored page images of an application, the crops the
findings point to, the boxes of what was read, with every ID number masked but its last
four characters (the image shows the number, so the pixels are covered, not just the text).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageDraw

from pipeline.errors import NotFound
from pipeline.records.applications import page_image_sha
from pipeline.records.database import Session
from pipeline.store import FileStore

log = logging.getLogger(__name__)

ID_FIELDS = ("id_number", "agent_id_number", "contact_id_number")
"""Fields holding a citizen ID number: masked wherever a page is shown."""
KEEP = 4
"""Characters of an ID number left readable (the last four)."""

FIELD_COLOUR = (37, 99, 235)
SEAL_COLOUR = (22, 163, 74)
FLAG_COLOUR = (220, 38, 38)


@dataclass(frozen=True, slots=True)
class Box:
    bbox: tuple[int, int, int, int]
    colour: tuple[int, int, int]
    label: str = ""


def mask_id(value: Any) -> str:
    text = str(value or "")
    return "*" * max(0, len(text) - KEEP) + text[-KEEP:] if text else ""


def page_image(
    session: Session, store: FileStore, app_id: str, source: str, page: int
) -> Image.Image | None:
    """The stored rendering of page ``page`` (1-based) of the file received as ``source``."""
    sha = page_image_sha(session, app_id, source, page - 1)
    if sha is None:
        return None
    try:
        with Image.open(store.path_of(sha)) as image:
            return image.convert("RGB")
    except (OSError, Image.DecompressionBombError, NotFound) as exc:  # damaged in the store
        log.error("page %d of %s (%s): stored image unreadable: %s", page, source, app_id, exc)
        return None


def id_boxes(document: dict[str, Any], page: int) -> list[tuple[int, int, int, int]]:
    """Boxes of the ID numbers read on ``page`` of a document (see ``mask_pixels``)."""
    notes = document.get("field_notes") or {}
    boxes = []
    for name in ID_FIELDS:
        note = notes.get(name) or {}
        if note.get("bbox") and note.get("page", document.get("page")) == page:
            boxes.append(tuple(int(v) for v in note["bbox"]))
    return boxes  # type: ignore[return-value]


def mask_pixels(image: Image.Image, boxes: Iterable[tuple[int, int, int, int]]) -> Image.Image:
    """Cover each ID number but its last four characters (on a copy; ``image`` itself comes
    back when there is none). The box runs along the number (or down it, on a page that was
    turned): the covered share is the first 14 of 18."""
    boxes = list(boxes)
    if not boxes:
        return image
    out = image.copy()
    draw = ImageDraw.Draw(out)
    share = (18 - KEEP) / 18
    for x0, y0, x1, y1 in boxes:
        if x1 - x0 >= y1 - y0:
            draw.rectangle((x0, y0, x0 + share * (x1 - x0), y1), fill=(90, 90, 90))
        else:  # a number read down the page: its start is at the top or the bottom
            draw.rectangle((x0, y0, x1, y0 + share * (y1 - y0)), fill=(90, 90, 90))
    return out


def crop(image: Image.Image, bbox: Iterable[float], margin: float = 0.12) -> Image.Image:
    x0, y0, x1, y1 = (float(v) for v in bbox)
    pad = margin * max(x1 - x0, y1 - y0)
    return image.crop(
        (
            max(0, int(x0 - pad)),
            max(0, int(y0 - pad)),
            min(image.width, int(x1 + pad)),
            min(image.height, int(y1 + pad)),
        )
    )


def draw_boxes(image: Image.Image, boxes: Iterable[Box]) -> Image.Image:
    out = image.copy()
    draw = ImageDraw.Draw(out)
    width = max(3, image.width // 400)
    for box in boxes:
        draw.rectangle(box.bbox, outline=box.colour, width=width)
    return out


def document_boxes(
    document: dict[str, Any],
    page: int,
    flagged: frozenset[tuple[int, ...]] | set[tuple[int, ...]] = frozenset(),
) -> list[Box]:
    """The boxes of what was read on ``page`` of a document: field lines (blue), seals
    (green), and anything a finding points at (red)."""
    boxes = []
    for name, note in (document.get("field_notes") or {}).items():
        bbox = note.get("bbox") if isinstance(note, dict) else None
        if bbox and note.get("page", document.get("page")) == page:
            box = tuple(int(v) for v in bbox)
            colour = FLAG_COLOUR if box in flagged else FIELD_COLOUR
            boxes.append(Box(box, colour, name))  # type: ignore[arg-type]
    for seal in document.get("seals") or []:
        if seal.get("bbox") and seal.get("page", document.get("page")) == page:
            box = tuple(int(v) for v in seal["bbox"])
            colour = FLAG_COLOUR if box in flagged else SEAL_COLOUR
            boxes.append(Box(box, colour, seal.get("text") or "seal"))  # type: ignore[arg-type]
    return boxes


def shown_page(
    session: Session,
    store: FileStore,
    app_id: str,
    document: dict[str, Any],
    page: int,
    flagged: frozenset[tuple[int, ...]] | set[tuple[int, ...]] = frozenset(),
) -> Image.Image | None:
    """A page as a reviewer sees it: ID numbers masked, boxes drawn."""
    image = page_image(session, store, app_id, document["source"], page)
    if image is None:
        return None
    image = mask_pixels(image, id_boxes(document, page))
    return draw_boxes(image, document_boxes(document, page, flagged))
