"""Which application each page of a mail batch belongs to.

A batch scan is the envelopes' contents one after another: each application's form first
(its QR code names the application), then that application's other documents. So a page
belongs to the form before it, until the next form. Fallbacks, in order: the application id
printed on a form whose QR code did not decode, and a credit code that names exactly one
application. A page whose own credit code names another application than the form before
it was misfiled in the envelope: it goes to the application its credit code names. What
cannot be routed (no form before it and nothing on it that names an application; a form
whose application is unknown or closed, and the pages after it) waits in the exception
queue for a person.

``read_for_routing`` is the read (one page, in a worker); ``plan_routes`` decides, without
any I/O, from the reads and what the database knows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.model.application import APPLICATION_ID

ROUTED, UNROUTED, ASSIGNED, BLANK = "routed", "unrouted", "assigned", "blank"


@dataclass(frozen=True, slots=True)
class RouteRead:
    """What routing needs from a page."""

    kind: str
    qr: str | None = None
    """The application id in the form's QR code."""
    printed_id: str | None = None
    """An application id printed on the page."""
    uscc: str | None = None
    """A credit code on the page, only when its check character is right and not guessed."""
    blank: bool = False

    @property
    def is_form(self) -> bool:
        return self.kind == "application_form" or self.qr is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "qr": self.qr,
            "printed_id": self.printed_id,
            "uscc": self.uscc,
            "blank": self.blank,
        }


def read_for_routing(path: str, engine: str) -> RouteRead:
    """The routing read of a stored page image: the form's QR code first (no OCR needed
    when it decodes); otherwise the page's text, without its seals."""
    from pipeline.extract.page import extract_page, read_qr
    from pipeline.extract.stored import engine_here, load_page

    image = load_page(Path(path))
    qr = read_qr(image)
    if qr is not None:
        return RouteRead("application_form", qr=qr)
    page = extract_page(image, engine_here(engine), seals=False)
    printed = page.fields.get("application_id")
    code = page.fields.get("uscc")
    note = page.notes.get("uscc", {})
    sure = isinstance(code, str) and note.get("valid") is True and not note.get("guessed")
    return RouteRead(
        page.kind,
        qr=None,
        printed_id=printed
        if isinstance(printed, str) and APPLICATION_ID.fullmatch(printed)
        else None,
        uscc=code if sure else None,
        blank=page.blank,
    )


@dataclass(frozen=True, slots=True)
class Known:
    """What the database knows: applications that take mail now (by id, with their credit
    code), and those that exist but do not (by id, with why)."""

    open: Mapping[str, str]
    """application id → its credit code, for applications that take files now."""
    closed: Mapping[str, str] = field(default_factory=dict)
    """application id → why it takes no files (e.g. "approved (复核通过)")."""

    def by_uscc(self, code: str) -> list[str]:
        return sorted(a for a, c in self.open.items() if c == code)


@dataclass(frozen=True, slots=True)
class Route:
    state: str
    """routed, unrouted or blank."""
    application_id: str | None
    how: str


def _target(read: RouteRead, known: Known) -> tuple[str | None, str]:
    """The application a form names, or None and why not."""
    reasons = []
    for label, value in (("QR code", read.qr), ("printed application id", read.printed_id)):
        if not value:
            continue
        if value in known.open:
            return value, f"its {label} {value}"
        why = known.closed.get(value)
        reasons.append(
            f"its {label} names {value}, which " + (f"is {why}" if why else "is not known")
        )
    if read.uscc:
        owners = known.by_uscc(read.uscc)
        if len(owners) == 1:
            return owners[0], f"its credit code {read.uscc}"
        reasons.append(
            f"its credit code {read.uscc} names "
            + (f"{len(owners)} open applications" if owners else "no open application")
        )
    if not reasons:
        reasons.append("neither its QR code nor an application id or credit code could be read")
    return None, "; ".join(reasons)


def plan_routes(reads: Sequence[RouteRead | None], known: Known) -> list[Route]:
    """One route per page, in batch order. ``None``: the page could not be read."""
    routes: list[Route] = []
    current: str | None = None
    current_why = "no application form comes before it"
    for position, read in enumerate(reads, start=1):
        if read is None:
            routes.append(Route(UNROUTED, None, "the page could not be read"))
            continue
        if read.is_form:
            current, how = _target(read, known)
            if current is None:
                current_why = f"it follows the form on page {position}, which cannot be routed"
                routes.append(Route(UNROUTED, None, how))
            else:
                current_why = ""
                routes.append(Route(ROUTED, current, how))
            continue
        if read.blank:
            routes.append(Route(BLANK, current, "blank page"))
            continue
        owners = known.by_uscc(read.uscc) if read.uscc else []
        if len(owners) == 1 and owners[0] != current:
            where = f"it follows the form of {current}" if current else "no form comes before it"
            routes.append(Route(ROUTED, owners[0], f"its credit code {read.uscc} ({where})"))
            continue
        if current is not None:
            routes.append(Route(ROUTED, current, f"follows the form of {current}"))
            continue
        if read.printed_id and read.printed_id in known.open:
            routes.append(
                Route(ROUTED, read.printed_id, f"printed application id {read.printed_id}")
            )
            continue
        detail = (
            f"its credit code {read.uscc} names no single open application"
            if read.uscc
            else "it names no application"
        )
        routes.append(Route(UNROUTED, None, f"{current_why}, and {detail}"))
    return routes
