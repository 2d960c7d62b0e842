"""The hostile corpus (tests/hostile/make.py) through intake as one batch: every kind gets
an honest outcome with a clear message, in time, and the good files around them are read."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import IngestLimits
from pipeline.ingest.isolate import ChildLimits, open_isolated
from pipeline.ingest.problems import FileProblem, InvalidFile
from pipeline.model.application import ApplicationRecord
from pipeline.workspace import Workspace
from tests import makefiles
from tests.hostile import harness
from tests.hostile.make import KINDS


def test_the_corpus_has_at_least_forty_kinds() -> None:
    assert len(KINDS) >= 40
    assert len({k.file for k in KINDS}) == len(KINDS)


def test_every_hostile_kind_gets_an_honest_outcome_and_the_batch_goes_on(
    workspace: Workspace, record: ApplicationRecord, tmp_path: Path
) -> None:
    result = harness.run(workspace, record, tmp_path)
    failed = [f"{r.kind}: {r.why}" for r in result.rows if not r.passed]
    assert not failed, "\n".join(failed)
    assert len(result.rows) == len(KINDS)
    assert result.batch_went_on


def test_a_reader_that_overruns_its_memory_is_stopped_with_a_reason(tmp_path: Path) -> None:
    # the child starts in well under 100 MiB of address space (it probes the file within
    # it); rendering an A4 page at 300 dpi and writing its PNG needs some 120 MiB
    scan = makefiles.scanned_pdf(tmp_path / "scan.pdf")
    with (
        pytest.raises(InvalidFile) as refused,
        open_isolated(scan, IngestLimits(), ChildLimits(memory_bytes=100 * 2**20)),
    ):
        pass
    assert refused.value.problem is FileProblem.TOO_COSTLY
    assert "100 MiB" in refused.value.message


def test_a_reader_that_overruns_its_time_is_killed(tmp_path: Path) -> None:
    scan = makefiles.scanned_pdf(tmp_path / "scan.pdf", pages=3)
    with (
        pytest.raises(InvalidFile) as refused,
        open_isolated(scan, IngestLimits(), ChildLimits(wall_seconds=0.05)),
    ):
        pass
    assert refused.value.problem is FileProblem.TOO_COSTLY
    assert "longer than 0.05 s" in refused.value.message


def test_pages_rendered_in_isolation_match_the_in_process_reader(tmp_path: Path) -> None:
    from PIL import Image

    from pipeline.ingest import probe_file, render_pages

    scan = makefiles.scanned_pdf(tmp_path / "scan.pdf", pages=2)
    limits = IngestLimits()
    direct = list(render_pages(scan, probe_file(scan, limits), limits))
    with open_isolated(scan, limits) as opened:
        assert opened.probe.page_count == 2
        for page, isolated in zip(direct, opened.pages, strict=True):
            assert isolated.png is not None and page.image is not None
            with Image.open(isolated.png) as image:
                assert image.size == page.image.size
                # a page without colour is kept as one channel: the same pixels
                assert image.mode == "L"
                assert image.convert("RGB").tobytes() == page.image.convert("RGB").tobytes()
            assert isolated.dpi == page.dpi == 300


def test_a_page_with_colour_keeps_its_three_channels(tmp_path: Path) -> None:
    from PIL import Image, ImageDraw

    page = makefiles.page_image("stamped")
    ImageDraw.Draw(page).ellipse((300, 300, 500, 500), outline=(200, 30, 40), width=8)
    page.save(tmp_path / "stamped.png")
    with open_isolated(tmp_path / "stamped.png", IngestLimits()) as opened:
        (isolated,) = opened.pages
        assert isolated.png is not None
        with Image.open(isolated.png) as image:
            assert image.mode == "RGB"
            assert image.getpixel((400, 304)) == (200, 30, 40)


def test_a_relative_path_is_opened_from_where_the_caller_stands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader works in its own folder; `sealdesk intake rec.json scan.pdf` gave it a
    path relative to the caller's."""
    makefiles.scanned_pdf(tmp_path / "scan.pdf")
    monkeypatch.chdir(tmp_path)
    with open_isolated(Path("scan.pdf"), IngestLimits()) as opened:
        assert opened.probe.page_count == 1 and opened.pages[0].png is not None
