"""The learnable synthetic preference sets: valid canonical records that follow their hidden rule."""

from __future__ import annotations

import pytest

from alignlab.data.synthetic import (
    DEFAULT_KEYWORD,
    NEGATIVE,
    POSITIVE,
    load_synthetic,
    make_pairwise,
    make_ratings,
    make_unpaired,
)
from alignlab.data.validation import validate_rows
from alignlab.errors import DataError


def words(text: str) -> list[str]:
    return text.replace(".", "").split()


def test_keyword_rule_holds_and_sides_have_equal_length():
    for pair in make_pairwise(50, seed=1):
        assert DEFAULT_KEYWORD in words(pair["chosen"])
        assert DEFAULT_KEYWORD not in words(pair["rejected"])
        assert len(words(pair["chosen"])) == len(words(pair["rejected"]))


def test_sentiment_and_longer_rules():
    for pair in make_pairwise(30, seed=2, rule="sentiment", margins=True):
        assert any(w in POSITIVE for w in words(pair["chosen"]))
        assert not any(w in NEGATIVE for w in words(pair["chosen"]))
        assert pair["margin"] >= 1
    for pair in make_pairwise(30, seed=2, rule="longer"):
        assert len(pair["chosen"]) > len(pair["rejected"])


def test_deterministic_valid_and_chat_shaped():
    first = make_pairwise(40, seed=3, chat=True)
    assert first == make_pairwise(40, seed=3, chat=True)
    assert first != make_pairwise(40, seed=4, chat=True)
    assert first[0]["prompt"][0]["role"] == "user" and first[0]["chosen"][0]["role"] == "assistant"
    assert validate_rows(enumerate(first, 1), "synthetic", "pairwise").ok
    assert len({p["id"] for p in first}) == 40
    assert validate_rows(enumerate(make_unpaired(20), 1), "synthetic", "unpaired").ok


def test_label_noise_and_agreement():
    pairs = make_pairwise(400, seed=0, annotators=3, label_noise=0.2)
    flipped = sum(DEFAULT_KEYWORD not in words(p["chosen"]) for p in pairs) / len(pairs)
    assert 0.03 < flipped < 0.2  # majority of 3 wrong: 3 p^2 (1-p) + p^3 = 0.104
    assert {p["agreement"] for p in pairs} <= {2 / 3, 1.0}


def test_ratings_follow_marker_counts():
    records = make_ratings(20, seed=0, attributes=("helpfulness", "correctness"), scale=(1, 5))
    assert len(records) == 40 and validate_rows(enumerate(records, 1), "s", "ratings", scale=(1, 5)).ok
    for record in records:
        assert words(record["response"]).count("smart") == record["ratings"]["helpfulness"] - 1
        assert words(record["response"]).count("clear") == record["ratings"]["correctness"] - 1


def test_spec_parsing_and_errors():
    fmt, records = load_synthetic("synthetic:sentiment?n=5&seed=2&chat=1&sentences=1-2")
    assert fmt == "pairwise" and len(records) == 5 and isinstance(records[0]["prompt"], list)
    assert load_synthetic("synthetic:ratings?n=3&attributes=helpfulness")[1][0]["ratings"].keys() == {"helpfulness"}
    assert load_synthetic("synthetic:unpaired-keyword?n=4")[0] == "unpaired"
    with pytest.raises(DataError, match="unknown synthetic set 'nope'"):
        load_synthetic("synthetic:nope")
    with pytest.raises(DataError, match="unknown option 'size'"):
        load_synthetic("synthetic:keyword?size=3")
    with pytest.raises(DataError, match="n='x' is not valid"):
        load_synthetic("synthetic:keyword?n=x")
