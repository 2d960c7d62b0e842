"""Feed the hostile corpus to intake as one batch and judge each file's outcome.

Used by ``tests/test_hostile.py`` and by ``scripts/hardening`` (the table in the README).
A kind passes when its outcome is one of the honest ones ``make.KINDS`` names, a refusal
says in words what was wrong and what to do (no traceback, no exception's repr), an
accepted file carries the warning it must, and it took less than the reader's wall limit.
The batch passes when the good files before and after the hostile ones were read.
"""

from __future__ import annotations

import resource
import time
from dataclasses import dataclass
from pathlib import Path

from pipeline.ingest.isolate import ChildLimits
from pipeline.model.application import ApplicationRecord
from pipeline.usecases.intake import REJECTED_FILE, FileOutcome, display_name, intake_application
from pipeline.workspace import Workspace
from tests import makefiles
from tests.hostile.make import ACCEPTED, Kind, make_all

UNCLEAR = ("Traceback", "Error(", "Exception(", "errno", "<", "0x")
"""Signs that a message is a program's, not a sentence for the person reading it."""


@dataclass(frozen=True, slots=True)
class Row:
    kind: str
    outcome: str
    seconds: float
    passed: bool
    why: str
    """What went wrong when it did not pass; the message shown otherwise."""


@dataclass(frozen=True, slots=True)
class Result:
    rows: tuple[Row, ...]
    batch_went_on: bool
    seconds: float
    child_peak_mb: float
    """The largest resident memory any isolated reader reached (the kernel's count)."""


def judge(kind: Kind, outcome: FileOutcome, limit: float) -> Row:
    got = ACCEPTED if outcome.outcome != REJECTED_FILE else (outcome.problem_code or "?")
    message = outcome.problem or "; ".join(outcome.warnings) or "read"
    why = ""
    if got not in kind.outcomes:
        why = f"expected {' or '.join(sorted(kind.outcomes))}, got {got}: {message}"
    elif got != ACCEPTED and (len(message) < 20 or any(s in message for s in UNCLEAR)):
        why = f"unclear message: {message!r}"
    elif got == ACCEPTED and kind.warns and not any(kind.warns in w for w in outcome.warnings):
        why = f"accepted without a warning about {kind.warns!r}"
    elif got == ACCEPTED and not outcome.pages:
        why = "accepted without pages"
    elif not outcome.name.isprintable():
        why = f"its name is shown with control characters: {outcome.name!r}"
    elif outcome.seconds > limit:
        why = f"took {outcome.seconds:.1f} s, over {limit:.0f} s"
    return Row(kind.name, got, outcome.seconds, not why, why or message)


def run(workspace: Workspace, record: ApplicationRecord, folder: Path) -> Result:
    made = make_all(folder / "hostile")
    first = makefiles.scanned_pdf(folder / "good-first.pdf", pages=1)
    last = makefiles.jpeg(folder / "good-last.jpg")
    paths = [first, *(path for _, path in made), last]
    started = time.perf_counter()
    result = intake_application(workspace, record, paths, "hardening")
    seconds = time.perf_counter() - started
    by_name = {o.name: o for o in result.files}
    limit = ChildLimits().wall_seconds + 30
    rows = []
    for kind, path in made:
        outcome = by_name.get(display_name(path))
        if outcome is None:
            rows.append(Row(kind.name, "lost", 0.0, False, "no outcome for this file"))
            continue
        rows.append(judge(kind, outcome, limit))
    ends = [by_name.get(display_name(p)) for p in (first, last)]
    went_on = all(o is not None and o.outcome != REJECTED_FILE and o.pages for o in ends)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return Result(tuple(rows), went_on, seconds, peak)
