"""Exact and near duplicates, and the stable content ids."""

from __future__ import annotations

from alignlab.data import canonicalize, content_digest, drop_exact_duplicates, near_key, normalize_text, record_id
from alignlab.data.dedupe import _fast_hash, dedupe_key_function
from alignlab.data.records import content_key
from tests.unit.data.helpers import CONVERSATION, pair


def test_content_ids_are_stable_and_ignore_annotations():
    assert record_id(pair()) == record_id(pair(source="x", metadata={"a": 1}))
    assert record_id(pair()) != record_id(pair(chosen="44"))
    assert record_id(pair(id="given")) == "given"
    # Fixed forever: ids written into shipped files must not change between versions.
    assert record_id(pair()) == "pairwise-" + content_digest(pair()).hex()[:16]
    assert len(content_digest(pair())) == 16


def test_length_prefixes_keep_field_boundaries_apart():
    assert content_digest(pair(prompt="ab", chosen="c")) != content_digest(pair(prompt="a", chosen="bc"))


def test_fast_pairwise_key_equals_generic_key():
    key = dedupe_key_function("pairwise")
    for record in (pair(), pair(prompt="東京 ✓ naïve"), pair(prompt=CONVERSATION)):
        assert key(record) == _fast_hash(content_key(record))


def test_drop_exact_duplicates_keeps_first():
    rows = [pair(id="1"), pair(id="2", chosen="x"), pair(id="3"), pair(id="4", source="other")]
    assert [r["id"] for r in drop_exact_duplicates(rows)] == ["1", "2"]


def test_near_duplicates_ignore_case_punctuation_and_spacing():
    assert normalize_text("  Hello,   WORLD!! ") == "hello world"
    assert normalize_text("ﬁne") == "fine"  # NFKC folds the ligature
    assert near_key(pair(prompt="What is 2+2?")) == near_key(pair(prompt="what is 2 + 2"))
    assert near_key(pair()) != near_key(pair(chosen="five"))


def test_canonicalize_orders_fields_and_keeps_unknown_keys_in_metadata():
    record = canonicalize({"rejected": "5", "note": "n", "chosen": "4", "prompt": "q", "metadata": {"a": 1}})
    assert list(record) == ["id", "prompt", "chosen", "rejected", "metadata"]
    assert record["metadata"] == {"a": 1, "note": "n"}
    assert record["id"] == record_id(pair("q"))
