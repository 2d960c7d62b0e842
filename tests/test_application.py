"""The application record is exactly the shared schema; an invalid one names every problem."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from pipeline.errors import InvalidRecord
from pipeline.model.application import (
    application_schema,
    load_record,
    parse_record,
    record_problems,
)
from tests.conftest import REPO, SAMPLE_RECORD

SHARED_SCHEMA = REPO.parent / "shared" / "spec" / "application.schema.json"


def test_packaged_schema_is_the_shared_spec() -> None:
    if not SHARED_SCHEMA.exists():
        pytest.skip("shared/ is not beside this checkout")
    assert application_schema() == json.loads(SHARED_SCHEMA.read_text(encoding="utf-8"))


def test_sample_record_is_valid() -> None:
    record = load_record(SAMPLE_RECORD)
    assert record.application_id == "CQC-2026-000101"
    assert record.company_name == "北京示例信息科技有限公司"


def test_every_problem_is_named_at_once(record_data: dict[str, Any]) -> None:
    record_data["application_id"] = "cqc-26-1"
    del record_data["contact"]
    record_data["company"]["nickname"] = "示例"
    record_data["kind"] = "renew"
    record_data["submitted_at"] = "2026-11-02"
    record_data["payment"] = {"payer_name": "张伟"}
    problems = record_problems(record_data)
    text = "\n".join(problems)
    assert len(problems) == 6, text
    for fragment in (
        "application_id",
        "'contact' is a required property",
        "nickname",
        "kind",
        "submitted_at",
        "amount_cny",
    ):
        assert fragment in text


def test_parse_refuses_with_the_problems(record_data: dict[str, Any]) -> None:
    record_data["contact"]["postcode"] = "1000"
    with pytest.raises(InvalidRecord) as caught:
        parse_record(record_data, "app.json")
    assert caught.value.problems == ["contact.postcode: '1000' does not match '^[0-9]{6}$'"]
    assert "app.json" in str(caught.value)


@pytest.mark.parametrize(
    ("content", "says"),
    [(b"{not json", "not JSON"), (b"\xff\xfe\x00garbage", "not UTF-8"), (b"[]", "object")],
)
def test_unreadable_record_files(tmp_path: Path, content: bytes, says: str) -> None:
    path = tmp_path / "app.json"
    path.write_bytes(content)
    with pytest.raises(InvalidRecord) as caught:
        load_record(path)
    assert says in str(caught.value)


def test_missing_record_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidRecord, match="cannot read"):
        load_record(tmp_path / "nowhere.json")


def test_digest_ignores_key_order(record_data: dict[str, Any]) -> None:
    reordered = copy.deepcopy(dict(reversed(list(record_data.items()))))
    assert parse_record(record_data).digest() == parse_record(reordered).digest()
    record_data["contact"]["phone"] = "010-00000000"
    assert parse_record(record_data).digest() != parse_record(reordered).digest()
