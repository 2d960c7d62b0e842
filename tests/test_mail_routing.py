"""The mailroom's rules and the hot folder's pickup, without OCR (hand-made reads)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from pipeline.mail.inbox import clear_taken, inbox_lock, inbox_of, ready_entries
from pipeline.mail.mailroom import ReceivedBatch, scan_files
from pipeline.mail.route import BLANK, ROUTED, UNROUTED, Known, RouteRead, plan_routes
from pipeline.workspace import Workspace

A, B, C = "CQC-2026-000001", "CQC-2026-000002", "MOF-2026-000003"
USCC_A, USCC_B = "91110108MA01ABCD2H", "91350200MA2XYZ1234"
KNOWN = Known({A: USCC_A, B: USCC_B}, {C: "issued (已制证)"})


def form(app: str | None = None, printed: str | None = None, uscc: str | None = None) -> RouteRead:
    return RouteRead("application_form", qr=app, printed_id=printed, uscc=uscc)


def page(kind: str = "id_card_copy", uscc: str | None = None) -> RouteRead:
    return RouteRead(kind, uscc=uscc)


def states(routes: list) -> list[tuple[str, str | None]]:  # type: ignore[type-arg]
    return [(r.state, r.application_id) for r in routes]


def test_pages_follow_their_form_until_the_next_one() -> None:
    routes = plan_routes(
        [form(A), page("business_licence", USCC_A), page(), form(B), page()], KNOWN
    )
    assert states(routes) == [(ROUTED, A)] * 3 + [(ROUTED, B)] * 2
    assert "QR code" in routes[0].how and routes[1].how == f"follows the form of {A}"


def test_a_misfiled_page_goes_where_its_credit_code_says() -> None:
    routes = plan_routes([form(A), page("business_licence", USCC_B), page()], KNOWN)
    assert states(routes) == [(ROUTED, A), (ROUTED, B), (ROUTED, A)]
    assert "credit code" in routes[1].how and f"follows the form of {A}" in routes[1].how


def test_a_form_whose_qr_did_not_decode_falls_back_to_the_printed_id_then_the_code() -> None:
    assert states(plan_routes([form(printed=B), page()], KNOWN)) == [(ROUTED, B)] * 2
    assert states(plan_routes([form(uscc=USCC_A), page()], KNOWN)) == [(ROUTED, A)] * 2
    # the QR names an unknown application; its printed id is a known one
    routes = plan_routes([form("CQC-2026-999999", printed=A)], KNOWN)
    assert states(routes) == [(ROUTED, A)] and "printed application id" in routes[0].how


def test_what_cannot_be_routed_waits_in_the_queue_with_the_reason() -> None:
    routes = plan_routes(
        [page(), form("CQC-2026-999999"), page(), form(C), page(), None, form(A)], KNOWN
    )
    assert [r.state for r in routes] == [UNROUTED] * 6 + [ROUTED]
    assert "no application form comes before it" in routes[0].how
    assert "CQC-2026-999999, which is not known" in routes[1].how
    assert "follows the form on page 2, which cannot be routed" in routes[2].how
    assert f"{C}, which is issued" in routes[3].how
    assert routes[5].how == "the page could not be read"


def test_a_page_before_any_form_is_routed_by_its_own_credit_code() -> None:
    assert states(plan_routes([page("business_licence", USCC_B), form(A)], KNOWN)) == [
        (ROUTED, B),
        (ROUTED, A),
    ]


def test_a_credit_code_shared_by_two_open_applications_decides_nothing() -> None:
    known = Known({A: USCC_A, B: USCC_A})
    routes = plan_routes([page("business_licence", USCC_A)], known)
    assert states(routes) == [(UNROUTED, None)]
    assert "names no single open application" in routes[0].how
    routes = plan_routes([form(uscc=USCC_A)], known)
    assert states(routes) == [(UNROUTED, None)] and "2 open applications" in routes[0].how


def test_blank_pages_go_with_their_form_and_never_wait_in_the_queue() -> None:
    blank = RouteRead("other", blank=True)
    assert states(plan_routes([blank, form(A), blank], KNOWN)) == [
        (BLANK, None),
        (ROUTED, A),
        (BLANK, A),
    ]


def test_a_folder_is_scanned_in_name_order_without_hidden_files(tmp_path: Path) -> None:
    for name in ("page-0002.jpg", "page-0001.jpg", ".DS_Store", "page-0010.jpg"):
        (tmp_path / name).write_bytes(b"x")
    single = tmp_path / "one.pdf"
    single.write_bytes(b"%PDF-")
    names = [p.name for p in scan_files([tmp_path])]
    assert names == ["one.pdf", "page-0001.jpg", "page-0002.jpg", "page-0010.jpg"]


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    for p in [path, *path.rglob("*")] if path.is_dir() else [path]:
        os.utime(p, (then, then))


def test_the_inbox_takes_only_what_has_settled(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    settled, fresh, partial = inbox / "a.pdf", inbox / "b.pdf", inbox / "c.pdf.part"
    folder = inbox / "scanner-0001"
    folder.mkdir()
    for path in (settled, fresh, partial, folder / "p1.jpg", folder / "p2.jpg"):
        path.write_bytes(b"x")
    for path in (settled, partial):
        _age(path, 120)
    _age(folder, 200)
    (inbox / "refused").mkdir()
    _age(inbox / "refused", 120)
    assert ready_entries(inbox, 30) == [folder, settled]  # oldest first
    (folder / "p3.jpg").write_bytes(b"x")  # the scanner is still writing into the folder
    assert ready_entries(inbox, 30) == [settled]


def test_taken_files_leave_the_inbox_only_once_stored(workspace: Workspace) -> None:
    inbox = inbox_of(workspace)
    kept, lost = inbox / "kept.pdf", inbox / "lost.pdf"
    kept.write_bytes(b"%PDF-1.4 kept")
    lost.write_bytes(b"%PDF-1.4 lost")
    sha = workspace.store.put_path(kept)
    batch = ReceivedBatch(
        "M1",
        (),
        (
            {"name": "kept.pdf", "sha256": sha, "problem": None},
            {"name": "lost.pdf", "sha256": None, "problem": "over the size limit"},
        ),
    )
    done = clear_taken(workspace, kept, batch)
    assert done == {"kept.pdf": "stored"} and not kept.exists()
    done = clear_taken(workspace, lost, batch)
    assert done["lost.pdf"].startswith("refused") and not lost.exists()
    assert (inbox / "refused" / "lost.pdf").read_bytes() == b"%PDF-1.4 lost"
    why = inbox / "refused" / "lost.pdf.why.txt"
    assert why.read_text().strip() == "over the size limit"


def test_two_pickups_never_hold_the_inbox_at_once(workspace: Workspace) -> None:
    with inbox_lock(workspace) as first, inbox_lock(workspace) as second:
        assert first and not second
    with inbox_lock(workspace) as again:
        assert again


@pytest.mark.parametrize("value", [None, ""])
def test_an_empty_read_routes_nowhere(value: str | None) -> None:
    routes = plan_routes([RouteRead("other", qr=value or None, printed_id=value)], KNOWN)
    assert states(routes) == [(UNROUTED, None)]
