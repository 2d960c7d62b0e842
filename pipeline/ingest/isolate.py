"""Opening an untrusted file in a child process held to hard limits.

Files come from outside: a crafted PDF or image can ask the decoder for gigabytes, loop in
its object graph or simply crash PDFium or Pillow, which are C code. The parent process (a
Prefect flow holding a database session, the web app) must survive all of it. So the
probe and every page's rendering run in a fresh ``python -m pipeline.ingest.isolate``
that first limits itself (address space, CPU seconds, bytes written), renders each page to
a PNG in a private folder and reports in JSON lines; the parent also holds a wall-clock
limit. A child that dies or overruns makes the file ``too_costly`` with a sentence saying
which limit it hit; the other files of the batch go on.

The child imports only this package (Pillow, PDFium, NumPy): about 0.2 s a file.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageChops

from pipeline.config import IngestLimits
from pipeline.ingest.problems import FileProblem, InvalidFile
from pipeline.ingest.read import FileProbe, probe_file, render_pages

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ChildLimits:
    """What one file may cost to open. A 200-page colour scan renders in about a minute on
    one core in under 700 MB; these leave room for that and refuse what is far beyond it."""

    memory_bytes: int = 3 * 2**30
    """Address space of the child (PDFium and Pillow reserve more than they touch)."""
    cpu_seconds: int = 300
    wall_seconds: float = 420.0
    written_bytes: int = 4 * 2**30
    """The largest file the child may write (one rendered page PNG)."""


@dataclass(frozen=True, slots=True)
class IsolatedPage:
    """A page the child rendered: its PNG (in the caller's temporary folder) or why not."""

    index: int
    png: Path | None
    width: int
    height: int
    dpi: int | None
    text: str | None = None
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class Opened:
    probe: FileProbe
    pages: tuple[IsolatedPage, ...]
    peak_rss_bytes: int = 0
    """The child's peak resident memory, as its kernel counted it."""
    seconds: float = 0.0


@contextmanager
def open_isolated(
    path: Path, limits: IngestLimits, child: ChildLimits = ChildLimits()
) -> Iterator[Opened]:
    """Probe ``path`` and render its pages in a limited child; the page PNGs live until
    the ``with`` block ends. Raises :class:`InvalidFile` for a file refused as a whole."""
    with tempfile.TemporaryDirectory(prefix="sealdesk-open-") as scratch:
        yield open_into(path, limits, Path(scratch), child)


def open_into(
    path: Path, limits: IngestLimits, out: Path, child: ChildLimits = ChildLimits()
) -> Opened:
    """As :func:`open_isolated`, the page PNGs written into ``out`` (made if need be), which
    the caller removes."""
    out.mkdir(parents=True, exist_ok=True)
    # the child works in ``out``: a relative path would be looked for there
    request = {
        "path": str(path.absolute()),
        "out": str(out.absolute()),
        "limits": asdict(limits),
        "child": asdict(child),
    }
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
        "OMP_NUM_THREADS": "1",
        "LANG": "C.UTF-8",
    }
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline.ingest.isolate"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=out,
        env=env,
        start_new_session=True,  # its own process group, killed whole on overrun
    )
    try:
        stdout, stderr = process.communicate(json.dumps(request).encode(), child.wall_seconds)
    except subprocess.TimeoutExpired:
        _kill(process)
        raise InvalidFile(
            FileProblem.TOO_COSTLY,
            f"opening the file took longer than {child.wall_seconds:g} s and was stopped; "
            "it may be damaged or built to exhaust the reader: ask the sender for a new scan",
        ) from None
    seconds = time.monotonic() - started
    reports = _reports(stdout)
    refused = next((r for r in reports if r["kind"] == "refused"), None)
    if refused is not None:
        raise InvalidFile(FileProblem(refused["problem"]), refused["message"])
    probe = next((r for r in reports if r["kind"] == "probe"), None)
    done = next((r for r in reports if r["kind"] == "done"), None)
    if process.returncode != 0 or probe is None or done is None:
        raise _died(process.returncode, stderr, child)
    pages = tuple(
        IsolatedPage(
            r["index"],
            out / r["png"] if r.get("png") else None,
            r.get("width", 0),
            r.get("height", 0),
            r.get("dpi"),
            r.get("text"),
            r.get("problem"),
        )
        for r in reports
        if r["kind"] == "page"
    )
    file_probe = FileProbe(
        probe["media_type"], probe["size"], probe["page_count"], tuple(probe["warnings"])
    )
    return Opened(file_probe, pages, int(done.get("peak_rss_bytes", 0)), seconds)


def _kill(process: subprocess.Popen[bytes]) -> None:
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()


def _reports(stdout: bytes) -> list[dict[str, Any]]:
    reports = []
    for line in stdout.splitlines():
        try:
            report = json.loads(line)
        except ValueError:
            continue  # a C library's stray print
        if isinstance(report, dict) and "kind" in report:
            reports.append(report)
    return reports


def _died(returncode: int | None, stderr: bytes, child: ChildLimits) -> InvalidFile:
    tail = stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
    log.warning("file reader child ended with %s: %s", returncode, " | ".join(tail))
    signals = {
        -signal.SIGXCPU: f"it needed more than {child.cpu_seconds} s of processor time",
        -signal.SIGKILL: "it was stopped by the system (out of memory)",
        -signal.SIGXFSZ: f"a page would have been larger than {child.written_bytes >> 20} MiB",
        -signal.SIGSEGV: "the reader crashed on it",
        -signal.SIGABRT: (
            "the reader gave up on it (out of its "
            f"{child.memory_bytes >> 20} MiB of memory, or a damaged structure)"
        ),
    }
    if any("MemoryError" in line or "std::bad_alloc" in line for line in tail):
        why = f"it needed more than {child.memory_bytes >> 20} MiB of memory"
    else:
        why = signals.get(returncode or 0, f"the reader failed on it (exit status {returncode})")
    return InvalidFile(
        FileProblem.TOO_COSTLY,
        f"the file could not be opened safely: {why}. It may be damaged or built to harm "
        "the reader: ask the sender for a new scan",
    )


def _limit_self(child: ChildLimits) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (child.memory_bytes, child.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (child.cpu_seconds, child.cpu_seconds + 5))
    resource.setrlimit(resource.RLIMIT_FSIZE, (child.written_bytes, child.written_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _without_colour(image: Image.Image) -> Image.Image:
    """A page with no colour in it (a greyscale scan) as one channel: the same pixels, a
    third of the bytes to write, store and decode again; anything else as it is."""
    if image.mode != "RGB":
        return image
    red, green, blue = image.split()
    if ImageChops.difference(red, green).getbbox() or ImageChops.difference(green, blue).getbbox():
        return image
    return red


def _child_main() -> int:
    request = json.loads(sys.stdin.read())
    _limit_self(ChildLimits(**request["child"]))
    limits = IngestLimits(**request["limits"])
    path, out = Path(request["path"]), Path(request["out"])

    def report(kind: str, **fields: Any) -> None:
        sys.stdout.write(json.dumps({"kind": kind, **fields}, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    try:
        probe = probe_file(path, limits)
        report(
            "probe",
            media_type=probe.media_type,
            size=probe.size,
            page_count=probe.page_count,
            warnings=list(probe.warnings),
        )
        for page in render_pages(path, probe, limits):
            if page.image is None:
                report("page", index=page.index, problem=page.problem, dpi=page.dpi, text=page.text)
                continue
            name = f"page-{page.index + 1:04d}.png"
            dpi = (page.dpi, page.dpi) if page.dpi else None
            _without_colour(page.image).save(
                out / name, format="PNG", compress_level=3, **({"dpi": dpi} if dpi else {})
            )
            width, height = page.image.size
            page.image.close()
            report(
                "page",
                index=page.index,
                png=name,
                width=width,
                height=height,
                dpi=page.dpi,
                text=page.text,
            )
    except InvalidFile as bad:
        report("refused", problem=bad.problem.value, message=bad.message)
        return 0
    except MemoryError:
        sys.stderr.write("MemoryError\n")
        return 1
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    report("done", peak_rss_bytes=peak)
    return 0


if __name__ == "__main__":
    sys.exit(_child_main())
