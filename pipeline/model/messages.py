"""What a person reads, in their language: gettext catalogues read through Babel.

The source strings are the Chinese the product speaks by default (zh_CN, the language of
the seeds and of most users); ``pipeline/locale/<language>/LC_MESSAGES/sealdesk.po``
translates every one of them (English today; ``make messages`` extracts new ones). A
sentence whose parts are known only at run time is a ``Say``: its source string and its
arguments, kept beside a finding so that it can be told later in the reader's language.
"""

from __future__ import annotations

import functools
import gettext
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "sealdesk"
DEFAULT = "zh_CN"
LANGUAGES = {"zh_CN": "中文", "en": "English"}
"""The languages a person may read, each named in itself (as a language switch shows it)."""


def N_(text: str) -> str:  # noqa: N802 (gettext's name for it)
    """Marks a source string for the catalogue where it is defined; translated where shown."""
    return text


def NP_(context: str, text: str) -> str:  # noqa: N802 (after gettext's N_)
    """Marks a source string said in ``context`` (one word, two senses: 收件 a role, a
    stage); translated where shown with ``pgettext(context, text)``."""
    return text


@functools.cache
def catalogue(language: str) -> gettext.NullTranslations:
    """The translations of ``language`` (the source language and unknown ones translate
    nothing); the .po file is compiled in memory, so no build step can leave it stale."""
    if language not in LANGUAGES or language == DEFAULT:
        return gettext.NullTranslations()
    po = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po.open("rb") as source:
        compiled = read_po(source, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, compiled)  # fuzzy entries are left out: a guess is not a translation
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


Arg = str | int | float | None


@dataclass(frozen=True, slots=True)
class Say:
    """A sentence to be told: a source string with ``{name}`` places and their values,
    which may be sentences themselves (a page's name inside a finding)."""

    text: str
    args: Mapping[str, Arg | Say] = field(default_factory=dict)

    def told(self, language: str = DEFAULT) -> str:
        """The sentence in ``language``."""
        if not self.text:
            return ""  # gettext("") is the catalogue's header, not nothing
        translated = catalogue(language).gettext(self.text)
        values = {k: v.told(language) if isinstance(v, Say) else v for k, v in self.args.items()}
        return translated.format(**values) if values else translated

    def __add__(self, other: Say) -> Say:
        """Two sentences told one after the other (each translated on its own)."""
        return say("{first}{second}", first=self, second=other)

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "args": {k: v.to_json() if isinstance(v, Say) else v for k, v in self.args.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Say:
        args = data.get("args") or {}
        return cls(
            str(data["text"]),
            {k: cls.from_json(v) if isinstance(v, Mapping) else v for k, v in args.items()},
        )


NOTHING = Say("")
"""A sentence that says nothing (an optional part left out)."""


def say(text: str, /, **args: Arg | Say) -> Say:
    """A sentence to be told (extracted into the catalogue like ``_``)."""
    return Say(text, args)


def translator(language: str) -> Callable[[str], str]:
    """``_`` for one reader: the source string in their language."""
    return catalogue(language if language in LANGUAGES else DEFAULT).gettext


def language_of(asked: str | None, accepted: str | None = None) -> str:
    """The language to answer in: one asked for by name (the reader's cookie) if known,
    else the first of an Accept-Language header that we have, else the default."""
    if asked:
        wanted = asked.replace("-", "_")
        for known in LANGUAGES:
            if wanted.lower() in (known.lower(), known.split("_")[0].lower()):
                return known
    for part in sorted(_accepted(accepted or ""), key=lambda p: -p[1]):
        primary = part[0].split("-")[0].lower()
        for known in LANGUAGES:
            if known.split("_")[0].lower() == primary:
                return known
    return DEFAULT


def _accepted(header: str) -> list[tuple[str, float]]:
    """An Accept-Language header's languages with their weights, in the order given."""
    found = []
    for item in header.split(","):
        name, _, params = item.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        if name and name != "*" and weight > 0:
            found.append((name, weight))
    return found
