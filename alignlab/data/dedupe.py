"""Exact and near-duplicate detection for preference records.

- *Exact* duplicates have the same content fields (`records.CONTENT_FIELDS`: for pairwise, prompt, chosen
  and rejected). Only a 16-byte hash of each record is kept, so a million rows cost ~100 MB rather than a
  copy of the text. Ids, metadata and annotations are ignored: the same pair collected twice is one
  example counted twice.
- *Near* duplicates are equal after `normalize_text` (Unicode NFKC, case-folded, Arabic spelling variants
  folded, punctuation removed, whitespace collapsed): the same pair re-typed, re-cased, re-punctuated or
  written with another alef, taa marbuta or diacritics.

The in-memory dedupe hash is xxHash3-128 (from `xxhash`, which `datasets` already requires; ~10x faster
than BLAKE2b on short rows); it is never written anywhere, so it may differ from the stable BLAKE2b digest
that ids use (`records.content_digest`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator

from alignlab.data.arabic import fold
from alignlab.data.records import CONTENT_FIELDS, content_key, text_of

try:
    from xxhash import xxh3_128_digest as _fast_hash
except ImportError:  # pragma: no cover - xxhash comes with datasets; this keeps dedupe working without it
    def _fast_hash(data: bytes) -> bytes:
        return hashlib.blake2b(data, digest_size=16).digest()

_PUNCTUATION = re.compile(r"[^\w\s]+")


def dedupe_key_function(fmt: str = "pairwise") -> Callable[[dict], bytes]:
    """A function record -> 16-byte key, equal for exact duplicates (fast path for all-string pairs)."""
    if fmt != "pairwise":
        return lambda record: _fast_hash(content_key(record, fmt))

    def pairwise_key(record: dict) -> bytes:
        prompt, chosen, rejected = record["prompt"], record["chosen"], record["rejected"]
        if type(prompt) is str and type(chosen) is str and type(rejected) is str:
            # Same bytes as content_key builds, without its generic per-field loop.
            key = f"s{len(prompt)}:{prompt}s{len(chosen)}:{chosen}s{len(rejected)}:{rejected}"
            return _fast_hash(key.encode("utf-8", "surrogatepass"))
        return _fast_hash(content_key(record, fmt))

    return pairwise_key


def normalize_text(text: str) -> str:
    """Text reduced to what a reader would call "the same words": NFKC, case-folded, Arabic spelling variants
    folded (`alignlab.data.arabic.fold`: alef forms, alef maqsura, taa marbuta, diacritics, tatweel, digits),
    no punctuation, single spaces."""
    return " ".join(_PUNCTUATION.sub(" ", fold(text)).split())


def near_key(record: dict, fmt: str = "pairwise") -> bytes:
    """16-byte key of the normalized text of a record's content fields (equal for near duplicates)."""
    parts = [normalize_text(text_of(record.get(name))) for name in CONTENT_FIELDS[fmt]
             if name not in ("ranks", "label")]
    return _fast_hash("\x1f".join(parts).encode("utf-8", "surrogatepass"))


def drop_exact_duplicates(records: Iterable[dict], fmt: str = "pairwise") -> Iterator[dict]:
    """The records with every repeat of earlier content removed (the first occurrence is kept)."""
    key = dedupe_key_function(fmt)
    seen: set[bytes] = set()
    for record in records:
        digest = key(record)
        if digest not in seen:
            seen.add(digest)
            yield record
