"""Why a file was refused: a short code for machines and a sentence for people."""

from __future__ import annotations

from enum import StrEnum


class FileProblem(StrEnum):
    EMPTY = "empty"
    TOO_LARGE = "too_large"
    UNSUPPORTED_TYPE = "unsupported_type"
    TRUNCATED = "truncated"
    CORRUPT = "corrupt"
    ENCRYPTED = "encrypted"
    TOO_MANY_PAGES = "too_many_pages"
    DECOMPRESSION_BOMB = "decompression_bomb"
    IMAGE_TOO_LARGE = "image_too_large"
    IMAGE_TOO_SMALL = "image_too_small"
    UNREADABLE = "unreadable"
    TOO_COSTLY = "too_costly"
    """Opening it overran a limit of the isolated reader (time, memory) or crashed it."""


class InvalidFile(Exception):
    """Raised inside the readers; turned into a value (a finding) where intake catches it."""

    def __init__(self, problem: FileProblem, message: str) -> None:
        self.problem = problem
        self.message = message
        super().__init__(f"{problem.value}: {message}")
