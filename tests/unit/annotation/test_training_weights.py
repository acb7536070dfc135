"""What pulled agreement means for training: a single annotator's label weighs `single_annotator_weight`.

The pull writes `agreement: null` for a record one annotator answered (nothing to agree with); the reward
model's `example_weight: agreement` and DPO/KTO's `data.weighting.source: agreement` read that, not 1.0.
"""

from __future__ import annotations

import pytest

from alignlab.algorithms.preference_data import example_trust
from alignlab.algorithms.rm_data import example_weights
from alignlab.config.dpo import WeightingSection
from alignlab.config.rm import RMSection

PANEL = {"agreement": 1.0, "annotators": ["a", "b", "c"]}
SPLIT = {"agreement": 0.6667, "annotators": ["a", "b", "c"]}
SINGLE = {"agreement": None, "annotators": ["a"]}
UNKNOWN = {"prompt": "no annotation information at all"}


def test_reward_model_weights_single_annotator_pairs_by_the_config():
    assert RMSection().single_annotator_weight == 0.5
    assert example_weights([PANEL, SPLIT, SINGLE, UNKNOWN], "agreement") == [1.0, 0.6667, 0.5, 1.0]
    assert example_weights([SINGLE], "agreement", single_annotator_weight=0.2) == [0.2]
    assert example_weights([SINGLE], "none") is None


def test_dpo_trust_maps_agreement_and_single_annotators_separately():
    weighting = WeightingSection(source="agreement")
    assert weighting.single_annotator_weight == 0.5
    trust = example_trust([PANEL, SPLIT, SINGLE, UNKNOWN], weighting, "train.jsonl")
    assert trust == pytest.approx([1.0, 2 * 0.6667 - 1, 0.5, 1.0])
    only_singles = example_trust([SINGLE, SINGLE], WeightingSection(source="agreement", single_annotator_weight=0.0),
                                 "train.jsonl")
    assert only_singles == [0.0, 0.0]  # a split of single labels is weighting data, not "no agreement field"
