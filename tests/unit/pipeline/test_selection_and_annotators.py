"""Batch selection by ensemble spread / disagreement, and simulated annotators whose noise and position bias
show up in the agreement statistics."""

from __future__ import annotations

import random

import numpy as np
import pytest

from alignlab.annotation.simulated import SimulatedAnnotators, panel_agreement, rule_outcome
from alignlab.data.synthetic import make_pairwise
from alignlab.errors import ConfigError
from alignlab.pipeline.candidates import GenerateOptions, disagreement, select, uncertainty


def test_uncertainty_is_the_spread_of_member_reward_differences():
    # 3 members, 2 pairs (a, b interleaved): members agree on pair 0 (diff 1 each), disagree on pair 1
    members = np.array([[2.0, 1.0, 0.0, 3.0],
                        [1.5, 0.5, 3.0, 0.0],
                        [1.0, 0.0, 1.0, 1.0]])
    spread = uncertainty(members)
    assert spread[0] == pytest.approx(0.0)
    assert spread[1] == pytest.approx(np.std([-3.0, 3.0, 0.0]))


def test_disagreement_ranks_opposite_preferences_first():
    policy = np.array([2.0, -2.0, 1.0, 0.0])
    reward = np.array([2.0, 2.0, -1.0, 0.0])
    ranked = np.argsort(-disagreement(policy, reward))
    assert set(ranked[:2]) == {1, 2}  # the policy prefers one answer, the reward model the other


def test_select_without_reward_model_is_a_seeded_random_batch():
    pairs = [{"prompt": str(i), "responses": ["a", "b"]} for i in range(10)]
    options = GenerateOptions(pool=10, batch=4)
    first, info = select(pairs, options, None, seed=1)
    again, _ = select(pairs, options, None, seed=1)
    assert info == {"strategy": "random"} and len(first) == 4 and first == again


def _shuffled_candidates(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for index, pair in enumerate(make_pairwise(n, seed=seed, rule="sentiment")):
        responses = [pair["chosen"], pair["rejected"]]
        if rng.random() < 0.5:
            responses.reverse()
        out.append({"id": f"c{index}", "prompt": pair["prompt"], "responses": responses})
    return out


def test_rule_outcome_judges_any_two_texts():
    assert rule_outcome("sentiment", "a happy kind dog", "a sad dog") == 1.0
    assert rule_outcome("sentiment", "a sad dog", "a happy dog") == 0.0
    assert rule_outcome("sentiment", "a dog", "a cat") == 0.5
    assert rule_outcome("keyword", "please give", "give") == 1.0


def test_perfect_panel_agrees_fully_and_follows_the_rule():
    records = SimulatedAnnotators(rule="sentiment", annotators=3, noise=0.0, seed=0).annotate(_shuffled_candidates(200))
    stats = panel_agreement(records)
    assert stats["krippendorff_alpha"] == pytest.approx(1.0)
    assert stats["majority_matches_rule"] == 1.0 and stats["mean_agreement"] == 1.0
    record = records[0]
    assert set(record) >= {"id", "prompt", "chosen", "rejected", "agreement", "annotators", "metadata"}
    assert rule_outcome("sentiment", record["chosen"], record["rejected"]) == 1.0


def test_noise_lowers_agreement_and_position_bias_is_measurable():
    candidates = _shuffled_candidates(400)
    clean = panel_agreement(SimulatedAnnotators(annotators=3, noise=0.0).annotate(candidates))
    noisy = panel_agreement(SimulatedAnnotators(annotators=3, noise=0.4).annotate(candidates))
    assert noisy["krippendorff_alpha"] < 0.75 < clean["krippendorff_alpha"]
    assert noisy["majority_matches_rule"] < 1.0
    biased = panel_agreement(SimulatedAnnotators(annotators=3, noise=0.0, position_bias=[0.0, 0.0, 0.6])
                             .annotate(candidates))
    shares = {name: a["first_position_share"] for name, a in biased["per_annotator"].items()}
    assert shares["sim-3"] > 0.7 and abs(shares["sim-1"] - 0.5) < 0.08  # the biased rater stands out
    assert biased["per_annotator"]["sim-3"]["agreement_with_majority"] < \
        biased["per_annotator"]["sim-1"]["agreement_with_majority"]


def test_a_single_rater_records_no_agreement_rather_than_a_unanimous_one():
    records = SimulatedAnnotators(rule="sentiment", annotators=1, noise=0.0, seed=0).annotate(_shuffled_candidates(20))
    assert all(r.get("agreement") is None and len(r["annotators"]) == 1 for r in records)
    assert panel_agreement(records)["mean_agreement"] is None


def test_bad_panel_settings_are_one_line():
    with pytest.raises(ConfigError, match="noise: 2 values for 3 annotators"):
        SimulatedAnnotators(annotators=3, noise=[0.1, 0.2])
    with pytest.raises(ConfigError, match="position_bias"):
        SimulatedAnnotators(position_bias=1.5)


def test_argilla_source_without_a_server_is_one_line_and_mirror_never_fails(tmp_path, monkeypatch):
    from alignlab.config.pipeline import PipelineConfig, StageSpec
    from alignlab.data.io import write_jsonl
    from alignlab.errors import AlignlabError
    from alignlab.pipeline.annotate import ArgillaOptions, mirror_to_argilla, run_annotate
    from alignlab.pipeline.stages import StageContext

    monkeypatch.delenv("ALIGNLAB_ARGILLA_API_KEY", raising=False)
    write_jsonl(tmp_path / "c.jsonl", _shuffled_candidates(4))
    spec = StageSpec(name="annotate", kind="annotate", config={
        "source": "argilla", "argilla": {"state_dir": str(tmp_path / "state"), "timeout_s": 1, "poll_s": 0.5}})
    pipeline = PipelineConfig.model_validate({"run": {"name": "p"}, "stages": [spec.model_dump()]})
    context = StageContext(key="annotate@r1", spec=spec, round=1, dir=tmp_path / "stage", pipeline=pipeline,
                           inputs={"candidates": [{"candidates": str(tmp_path / "c.jsonl")}]}, echo=lambda _: None)
    with pytest.raises(AlignlabError) as err:
        run_annotate(context)
    assert "\n" not in str(err.value) and "API key" in str(err.value)
    mirrored = mirror_to_argilla(context, ArgillaOptions(state_dir=tmp_path / "state"), str(tmp_path / "c.jsonl"))
    assert mirrored["pushed"] is False and "API key" in mirrored["reason"]
