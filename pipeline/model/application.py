"""The application record: exactly ``application.schema.json`` (a copy of the shared spec).

An invalid record is refused with every problem named, never half-accepted. What the schema
allows but the seeds forbid (an invalid credit code, a payer that is not the company) is not
refused here: it becomes a finding in the check report, where a reviewer sees it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, ValidationError

from pipeline.errors import InvalidRecord
from pipeline.model.messages import N_

KIND_LABELS = {"new": N_("申请"), "renewal": N_("更新"), "replacement": N_("补办")}
APPLICATION_ID = re.compile(r"[A-Z0-9]{2,4}-\d{4}-\d{6}")
"""An application id as the application systems print it (CQC-2026-000123)."""


@dataclass(frozen=True, slots=True)
class ApplicationRecord:
    """A validated application record; ``data`` is the record exactly as submitted."""

    data: dict[str, Any]

    @property
    def application_id(self) -> str:
        return str(self.data["application_id"])

    @property
    def scheme(self) -> str:
        return str(self.data["scheme"])

    @property
    def kind(self) -> str:
        return str(self.data["kind"])

    @property
    def company_name(self) -> str:
        return str(self.data["company"]["name"])

    @property
    def company_uscc(self) -> str:
        return str(self.data["company"].get("uscc") or "")

    @property
    def contact_name(self) -> str:
        return str(self.data["contact"]["name"])

    @property
    def foreign(self) -> bool:
        """A company registered abroad: a registration certificate instead of a licence."""
        return bool(self.data["company"].get("foreign"))

    @property
    def contact(self) -> dict[str, Any]:
        return dict(self.data["contact"])

    @property
    def agent(self) -> dict[str, Any] | None:
        """The agent applying for the company, if one does (an authorization letter then)."""
        agent = self.data.get("agent")
        return dict(agent) if isinstance(agent, dict) else None

    @property
    def payment(self) -> dict[str, Any] | None:
        paid = self.data.get("payment")
        return dict(paid) if isinstance(paid, dict) else None

    @property
    def order(self) -> dict[str, Any]:
        return dict(self.data.get("order") or {})

    @property
    def keys(self) -> int:
        """How many keys the order asks for (one unless it says)."""
        return int(self.order.get("keys", 1) or 1)

    def canonical_json(self) -> str:
        return json.dumps(self.data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    def digest(self) -> str:
        """sha256 of the canonical JSON: tells a changed resubmission from the same one."""
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()


@cache
def application_schema() -> dict[str, Any]:
    text = resources.files("pipeline.schemas").joinpath("application.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def _is_date(value: object) -> bool:
    return not isinstance(value, str) or bool(date.fromisoformat(value))


def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if "T" not in value.upper():
        raise ValueError("a date-time needs a time part, e.g. 2026-11-21T09:30:00+08:00")
    return bool(datetime.fromisoformat(value.replace("Z", "+00:00")))


def _format_checker() -> FormatChecker:
    """Our own date checks: jsonschema's date-time check needs a package we do not ship."""
    checker = FormatChecker(formats=())
    checker.checks("date", raises=ValueError)(_is_date)
    checker.checks("date-time", raises=ValueError)(_is_date_time)
    return checker


def record_problems(data: object) -> list[str]:
    """Every way ``data`` breaks the schema, one readable line each (empty when valid)."""
    validator = Draft202012Validator(application_schema(), format_checker=_format_checker())
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    return [_describe(error) for error in errors]


def _describe(error: ValidationError) -> str:
    where = ".".join(str(p) for p in error.absolute_path) or "(record)"
    if error.validator == "oneOf" and error.context:
        # agent / payment: "null or an object"; say what is wrong with the object.
        inner = [e for e in error.context if e.validator != "type"] or list(error.context)
        return f"{where}: " + "; ".join(sorted({_describe(e).split(": ", 1)[1] for e in inner}))
    return f"{where}: {error.message}"


def parse_record(data: object, source: str = "application record") -> ApplicationRecord:
    problems = record_problems(data)
    if problems:
        raise InvalidRecord(source, problems)
    assert isinstance(data, dict)
    return ApplicationRecord(data=data)


def load_record(path: Path) -> ApplicationRecord:
    """Read and validate an application record file; :class:`InvalidRecord` names every fault."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidRecord(str(path), [f"cannot read the file: {exc.strerror or exc}"]) from exc
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise InvalidRecord(str(path), [f"not UTF-8 text (byte {exc.start})"]) from exc
    except json.JSONDecodeError as exc:
        problem = f"not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        raise InvalidRecord(str(path), [problem]) from exc
    return parse_record(data, str(path))
