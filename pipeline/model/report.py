"""The check report, as ``shared/spec/check-report.md`` defines it (a public interface).

Names here are the contract's; add freely, never rename.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pipeline.model.messages import Say


class Severity(StrEnum):
    ERROR = "error"
    """The application cannot be approved as it stands."""
    WARNING = "warning"
    """A person must look: an uncertain read, a near match."""
    INFO = "info"
    """Recorded, no action."""


class Code(StrEnum):
    INVALID_FILE = "invalid_file"
    UNREADABLE_PAGE = "unreadable_page"
    DOCUMENT_MISSING = "document_missing"
    NAME_MISMATCH = "name_mismatch"
    SEAL_MISSING = "seal_missing"
    SEAL_NAME_MISMATCH = "seal_name_mismatch"
    USCC_INVALID = "uscc_invalid"
    USCC_MISMATCH = "uscc_mismatch"
    ID_NUMBER_INVALID = "id_number_invalid"
    ID_EXPIRED = "id_expired"
    ID_NAME_MISMATCH = "id_name_mismatch"
    LICENCE_EXPIRED = "licence_expired"
    PAYER_MISMATCH = "payer_mismatch"
    CHECK_INCOMPLETE = "check_incomplete"
    """Added to the contract: some checks did not run, so a person must do them by eye."""
    ID_NUMBER_MISMATCH = "id_number_mismatch"
    """Added: an ID card's number differs from the one the record gives for that person."""
    PAYMENT_MISSING = "payment_missing"
    """Added: finance has recorded no remittance for the application yet."""
    PAYMENT_AMOUNT_MISMATCH = "payment_amount_mismatch"
    """Added: the amount received differs from the order's fee."""
    APPLICATION_ID_MISMATCH = "application_id_mismatch"
    """Added: the form's printed or QR application id is another application's."""
    SIGNATURE_MISSING = "signature_missing"
    """Added: no signature where the form must be signed."""
    ID_REGION_UNKNOWN = "id_region_unknown"
    """Added: an ID number's region code is not one GB/T 2260 has ever had (a warning)."""
    USCC_HELD_BY_OTHER_NAME = "uscc_held_by_other_name"
    """Added: a valid certificate of this credit code names another company; issuing would
    revoke it as superseded (an error: a person confirms a renamed company, or rejects)."""
    DOCUMENT_REPLACED = "document_replaced"
    """Added: an earlier round's document replaced by a later round's (info; the round
    rule, ``usecases.report.in_force``)."""


@dataclass(frozen=True, slots=True)
class Finding:
    code: Code
    severity: Severity
    message: str
    document: int | None = None
    page: int | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    wording: Say | None = None
    """The message as a sentence to be told in another language (``message`` is it told in
    the default one, as the contract has it)."""

    @classmethod
    def told(cls, code: Code, severity: Severity, wording: Say, **where: Any) -> Finding:
        """A finding whose message is ``wording`` told in the default language."""
        return cls(code, severity, wording.told(), wording=wording, **where)

    def to_json(self) -> dict[str, Any]:
        found = {
            "code": self.code.value,
            "severity": self.severity.value,
            "message": self.message,
            "document": self.document,
            "page": self.page,
            "evidence": self.evidence,
        }
        if self.wording is not None:
            found["wording"] = self.wording.to_json()
        return found


@dataclass(frozen=True, slots=True)
class DocumentEntry:
    source: str
    page: int
    kind: str
    confidence: float
    fields: dict[str, Any] = field(default_factory=dict)
    seals: tuple[dict[str, Any], ...] = ()
    pages: int = 1
    """Added to the contract: how many pages of ``source`` the document spans."""
    field_notes: dict[str, Any] = field(default_factory=dict)
    """Added: per field, what OCR read, corrections by check character, confidence, bbox."""
    rotation: list[int] = field(default_factory=list)
    """Added: quarter turns each page needed to read upright."""
    round: int = 1
    """Added: the round (first submission 1, each resubmission one more) whose file this
    document came in."""

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "page": self.page,
            "kind": self.kind,
            "confidence": self.confidence,
            "fields": self.fields,
            "seals": list(self.seals),
            "pages": self.pages,
            "field_notes": self.field_notes,
            "rotation": self.rotation,
            "round": self.round,
        }


@dataclass(frozen=True, slots=True)
class CheckReport:
    application_id: str
    findings: tuple[Finding, ...]
    documents: tuple[DocumentEntry, ...]

    @property
    def verdict(self) -> str:
        """``clear`` only when nothing needs a person's attention; never an approval."""
        attention = (Severity.ERROR, Severity.WARNING)
        return "flagged" if any(f.severity in attention for f in self.findings) else "clear"

    def to_json(self) -> dict[str, Any]:
        return {
            "application_id": self.application_id,
            "verdict": self.verdict,
            "findings": [f.to_json() for f in self.findings],
            "documents": [d.to_json() for d in self.documents],
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False, indent=2)
