"""Distinct-n and repetition, hand-computed."""

from __future__ import annotations

import pytest

from alignlab.eval.text_stats import distinct_n, repetition_n


def test_hand_computed_values():
    assert distinct_n("the cat the cat", 1) == 0.5          # {the, cat} of 4
    assert distinct_n("The cat the CAT", 2) == pytest.approx(2 / 3)  # the-cat, cat-the, the-cat
    assert repetition_n("a b c a b c", 2) == pytest.approx(1 - 3 / 5)
    assert distinct_n("one", 2) is None and repetition_n("", 4) is None
