"""Arabic text normalisation: the one place every Arabic-aware component folds its text.

Used by the data audit's deduplication, the judges (refusal, toxicity), the annotation search engine and the
Arabic evaluation suites, so that the same word written two ways matches everywhere. What is folded, and why:

| what                          | examples                | becomes | why                                       |
|-------------------------------|-------------------------|---------|-------------------------------------------|
| alef forms                    | أ إ آ ٱ                 | ا       | hamza seats are often omitted in dialect  |
| alef maqsura                  | ى                       | ي       | Egyptian writing swaps the two freely     |
| taa marbuta                   | ة                       | ه       | written as haa in informal text           |
| diacritics (tashkeel)         | U+064B..U+065F, U+0670  | removed | rarely written; optional when present     |
| Quranic annotation marks      | U+06D6..U+06ED          | removed |                                           |
| tatweel (kashida)             | ـ                       | removed | elongation is typographic, not lexical    |
| Arabic-Indic / Persian digits | ٠١٢٣٤٥٦٧٨٩ / ۰۱۲۳۴۵۶۷۸۹ | 0-9     | the same number in any script             |

These are the folds of the usual Arabic search analyzers (Lucene's ArabicNormalizer, CAMeL Tools'
`normalize_*` helpers). Text in other scripts passes through unchanged, so the function is safe to apply to
any string. `fold` adds Unicode NFKC and case folding for language-independent matching.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["ARABIC_CHARS", "fold", "has_arabic", "normalize_arabic"]

ARABIC_CHARS = re.compile(r"[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]")

_DIACRITICS = re.compile(r"[\u064B-\u065F\u0670\u06D6-\u06ED\u0640]")  # tashkeel, dagger alef, marks, tatweel
_TABLE = str.maketrans(
    {
        "\u0623": "\u0627",  # أ
        "\u0625": "\u0627",  # إ
        "\u0622": "\u0627",  # آ
        "\u0671": "\u0627",  # ٱ
        "\u0649": "\u064A",  # ى -> ي
        "\u0629": "\u0647",  # ة -> ه
        **{chr(0x0660 + d): str(d) for d in range(10)},  # Arabic-Indic digits
        **{chr(0x06F0 + d): str(d) for d in range(10)},  # Extended (Persian/Urdu) digits
    }
)


def normalize_arabic(text: str) -> str:
    """Fold Arabic spelling variants (alef forms, alef maqsura, taa marbuta, diacritics, tatweel, digits)."""
    return _DIACRITICS.sub("", text).translate(_TABLE)


def fold(text: str) -> str:
    """NFKC + Unicode case folding + Arabic normalisation: the key two spellings of one word share."""
    # NFKC first: it maps Arabic presentation forms (U+FB50..U+FEFF) to the base letters folded below.
    return normalize_arabic(unicodedata.normalize("NFKC", text).casefold())


def has_arabic(text: str) -> bool:
    """True when the text holds at least one Arabic-script character."""
    return ARABIC_CHARS.search(text) is not None
