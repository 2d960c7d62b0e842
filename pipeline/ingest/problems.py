"""Why a file was refused: a short code for machines and a sentence for people."""

from __future__ import annotations

from enum import StrEnum

from pipeline.model.messages import N_, Say, say


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


REFUSALS = {
    FileProblem.EMPTY: N_("文件是空的（0 字节）：请申请人重新发送。"),
    FileProblem.TOO_LARGE: N_("文件超过大小上限：请申请人压缩或分成几个文件发送。"),
    FileProblem.UNSUPPORTED_TYPE: (
        N_("不是 PDF、JPEG、PNG 或 TIFF 文件：请申请人以其中一种格式发送扫描件。")
    ),
    FileProblem.TRUNCATED: N_("文件不完整（传输中断）：请申请人重新发送。"),
    FileProblem.CORRUPT: N_("文件已损坏，无法打开：请申请人重新扫描或导出后发送。"),
    FileProblem.ENCRYPTED: N_("文件设有密码或已加密：请申请人发送未加密的文件。"),
    FileProblem.TOO_MANY_PAGES: N_("页数超过上限：请申请人只发送所需的材料。"),
    FileProblem.DECOMPRESSION_BOMB: (
        N_("文件解开后大得异常，可能有害，已拒收：请申请人重新扫描后发送。")
    ),
    FileProblem.IMAGE_TOO_LARGE: N_("图像尺寸过大：请申请人以 300 dpi 重新扫描。"),
    FileProblem.IMAGE_TOO_SMALL: (
        N_("图像太小，看不清：请申请人以 300 dpi 重新扫描（短边至少 300 像素）。")
    ),
    FileProblem.UNREADABLE: N_("无法读取该文件：请申请人重新扫描或换一种格式发送。"),
    FileProblem.TOO_COSTLY: (
        N_("打开该文件超出了时间或内存的限制：请申请人重新扫描为普通 PDF 或图像后发送。")
    ),
}
"""What a person is told of each refusal, what to ask the sender for (source strings of the
catalogue; the English detail, with its numbers, stays in the finding's evidence and the
command line's output)."""


def refusal(code: str | None) -> Say:
    """The refusal for ``code`` (a FileProblem value) as a sentence to be told."""
    try:
        return say(REFUSALS[FileProblem(code or "")])
    except ValueError:
        return say("无法读取该文件：请申请人重新发送。")


class InvalidFile(Exception):
    """Raised inside the readers; turned into a value (a finding) where intake catches it."""

    def __init__(self, problem: FileProblem, message: str) -> None:
        self.problem = problem
        self.message = message
        super().__init__(f"{problem.value}: {message}")
