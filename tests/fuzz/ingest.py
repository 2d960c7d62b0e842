"""Fuzz the ingest path (probe and render of PDF, JPEG, PNG, TIFF) with atheris.

    .venv/bin/python -m tests.fuzz.ingest [-max_total_time=600] [CORPUS_DIR ...]

Each input goes through ``tests.fuzz.target.take``: the only acceptable failures are a
refusal (:class:`InvalidFile`, with a reason) and a page's own ``problem``; any other
exception is a bug that would have shown staff a Python error instead of a sentence. A
crash found is fixed and its input kept in ``tests/fuzz/regressions/``, which
``tests/test_fuzz.py`` replays. Pillow's and pypdfium2's Python layers are instrumented
for coverage, with ours.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    import PIL.Image  # noqa: F401  (its plugins instrumented)

    from tests.fuzz.target import seeds, take

SCRATCH = Path(tempfile.mkdtemp(prefix="sealdesk-fuzz-")) / "input"


def main() -> None:
    args = sys.argv[1:]
    corpus = [a for a in args if not a.startswith("-")]
    if not corpus:
        corpus = [os.environ.get("SEALDESK_FUZZ_CORPUS", ".fuzz-corpus")]
        args.append(corpus[0])
    for folder in map(Path, corpus):
        if not folder.is_dir() or not any(folder.iterdir()):
            seeds(folder)
    atheris.Setup([sys.argv[0], *args], lambda data: take(data, SCRATCH))
    atheris.Fuzz()


if __name__ == "__main__":
    main()
