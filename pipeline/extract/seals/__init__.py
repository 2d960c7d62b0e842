"""Seals on a page: found by their red ink, read by unrolling the ring.

Finding: pixels much redder than they are green or blue, closed into blobs, kept when a
blob has a seal's size and an ellipse's outline. Reading: the ink alone (redness, so the
black print underneath drops out) is unrolled around the centre into a strip in which the
rim text runs left to right, upright; the strip is cut at its gaps, the longest run is the
name, a short run on the far side is the code (upside down, so turned), and the middle,
once the seal is turned upright, holds the inscription.
"""

from pipeline.extract.seals.find import find_seals
from pipeline.extract.seals.read import Seal, detect_and_read, read_seal, unrolled_rim
from pipeline.extract.seals.text import clean_rim_read, is_authority

__all__ = [
    "Seal",
    "clean_rim_read",
    "detect_and_read",
    "find_seals",
    "is_authority",
    "read_seal",
    "unrolled_rim",
]
