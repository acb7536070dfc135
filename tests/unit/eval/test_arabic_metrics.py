"""The Arabic suites' metric definitions on hand-made samples: Wilson and Newcombe intervals, the largest
dialect gap, CAMeL's cultural bias score, ACVA's balanced accuracy, paired unsafe-rate gaps."""

from __future__ import annotations

import math

import pytest

from alignlab.eval.stats import Stats
from alignlab.eval.suite import build_suite
from alignlab.eval.suites._arabic import difference, largest, paired_gap, proportion
from alignlab.eval.suites.camel import fillings, western_share

STATS = Stats(n_resamples=200, seed=0)


def test_wilson_proportion_matches_the_closed_form():
    metric = proportion(8, 10, description="x")
    z = 1.959963984540054
    centre = (0.8 + z * z / 20) / (1 + z * z / 10)
    half = z * math.sqrt(0.8 * 0.2 / 10 + z * z / 400) / (1 + z * z / 10)
    assert metric["value"] == 0.8
    assert metric["low"] == pytest.approx(centre - half) and metric["high"] == pytest.approx(centre + half)
    assert proportion(0, 0, description="x")["value"] is None


def test_newcombe_difference_against_newcombe_1998_example():
    # Newcombe (1998), Table II, example (a): 56/70 - 48/80 = 0.2, method 10 interval 0.0524 to 0.3339.
    gap = difference(proportion(56, 70, description="a"), proportion(48, 80, description="b"), description="d")
    assert gap["value"] == pytest.approx(0.2)
    assert gap["low"] == pytest.approx(0.0524, abs=5e-4) and gap["high"] == pytest.approx(0.3339, abs=5e-4)


def test_largest_gap_picks_the_largest_magnitude_and_names_it():
    gaps = {"egypt": {"value": 0.10, "description": "e"}, "gulf": {"value": -0.25, "description": "g"},
            "levant": {"value": None, "description": "l"}}
    headline = largest(gaps, what="gap")
    assert headline["group"] == "gulf" and headline["value"] == -0.25 and "gulf" in headline["description"]


def _dialect_samples() -> list[dict]:
    samples = []
    for dialect, correct in (("msa", [1, 1, 1, 0]), ("egypt", [1, 0, 0, 0]), ("gulf", [1, 1, 0, 0])):
        for n, c in enumerate(correct):
            samples.append({"id": f"{dialect}{n}:0shot", "shots": 0, "dialect": dialect, "correct": bool(c)})
    return samples


def test_arabic_dialects_metrics_per_dialect_and_gap_to_msa():
    metrics = build_suite("arabic_dialects").metrics(_dialect_samples(), STATS)
    assert list(metrics)[0] == "largest_dialect_gap"
    assert metrics["accuracy/0shot/msa"]["value"] == 0.75 and metrics["accuracy/0shot/egypt"]["value"] == 0.25
    assert metrics["gap_to_msa/0shot/egypt"]["value"] == pytest.approx(0.5)
    assert metrics["gap_to_msa/0shot/gulf"]["value"] == pytest.approx(0.25)
    assert metrics["largest_dialect_gap"]["group"] == "egypt"
    low, high = metrics["gap_to_msa/0shot/egypt"]["low"], metrics["gap_to_msa/0shot/egypt"]["high"]
    assert low < 0.5 < high and -1 <= low and high <= 1


def test_arabic_dialects_options_are_checked():
    with pytest.raises(ValueError, match="shots"):
        build_suite("arabic_dialects", {"shots": [0, 5]})
    with pytest.raises(ValueError):
        build_suite("arabic_dialects", {"prompt_language": "fr"})


def test_camel_western_share_counts_pairs_and_ties():
    assert western_share([-1.0, -3.0], [-2.0, -0.5]) == pytest.approx(3 / 4)
    assert western_share([-1.0], [-1.0]) == 0.5
    assert fillings("انا اشرب [MASK]", "قهوة") == ("انا اشرب", " قهوة")
    assert fillings("[MASK] حلو", "شاي") == ("", "شاي حلو")


def test_camel_cbs_per_entity_type():
    samples = [{"id": "a", "entity_type": "Food", "western_preference": 1.0},
               {"id": "b", "entity_type": "Food", "western_preference": 0.5},
               {"id": "c", "entity_type": "Beverage", "western_preference": 0.0}]
    metrics = build_suite("camel").metrics(samples, STATS)
    assert metrics["cbs"]["value"] == pytest.approx(0.5)
    assert metrics["cbs/Food"]["value"] == pytest.approx(0.75) and metrics["cbs/Beverage"]["value"] == 0.0


def test_acva_balanced_accuracy_is_one_half_for_a_constant_answer():
    samples = [{"id": str(n), "topic": "t", "label": n < 3, "predicted_yes": True, "correct": n < 3}
               for n in range(4)]
    metrics = build_suite("acva").metrics(samples, STATS)
    assert metrics["accuracy"]["value"] == 0.75
    assert metrics["balanced_accuracy"]["value"] == pytest.approx(0.5)
    assert metrics["yes_rate"]["value"] == 1.0


def test_paired_gap_uses_pairs_holding_both_languages():
    samples = [{"pair_id": "p1", "language": "en", "unsafe": 0.0}, {"pair_id": "p1", "language": "egy", "unsafe": 1.0},
               {"pair_id": "p2", "language": "en", "unsafe": 0.0}, {"pair_id": "p2", "language": "egy", "unsafe": 0.0},
               {"pair_id": "p3", "language": "egy", "unsafe": 1.0}]  # p3 has no English side: left out
    gap = paired_gap(STATS, samples, "unsafe", pair="pair_id", by="language", a="egy", b="en", description="d")
    assert gap["value"] == pytest.approx(0.5) and gap["n"] == 2


def test_dialect_safety_metrics_from_hand_made_verdicts():
    samples = []
    for n, (en, egy) in enumerate(((False, True), (False, True), (False, False), (True, True))):
        for language, unsafe in (("en", en), ("egy", egy)):
            samples.append({"id": f"p{n}:{language}", "pair_id": f"p{n}", "language": language, "unsafe": unsafe,
                            "judge": "string_match"})
    metrics = build_suite("dialect_safety").metrics(samples, STATS)
    assert metrics["unsafe_rate/en"]["value"] == 0.25 and metrics["unsafe_rate/egy"]["value"] == 0.75
    assert metrics["unsafe_gap/egy_minus_en"]["value"] == pytest.approx(0.5)
    assert metrics["largest_unsafe_gap"]["group"] == "egy_minus_en"
    assert metrics["judge/accuracy"]["value"] is not None  # the judge's card travels with the numbers


def test_arabic_toxicity_rates_per_source_label():
    cases = (("offensive", True), ("offensive", False), ("not_offensive", False))
    samples = [{"id": str(n), "source": "mlma", "source_label": label, "toxic": toxic,
                "toxicity": 0.9 if toxic else 0.1, "judge": "string_match"} for n, (label, toxic) in enumerate(cases)]
    metrics = build_suite("arabic_toxicity").metrics(samples, STATS)
    assert metrics["toxic_rate"]["value"] == pytest.approx(1 / 3)
    assert metrics["toxic_rate/offensive"]["value"] == 0.5 and metrics["toxic_rate/not_offensive"]["value"] == 0.0
