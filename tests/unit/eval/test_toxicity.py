"""The scikit-learn toxicity classifier: deterministic, held-out accuracy as documented, sane on edge cases."""

from __future__ import annotations

import pytest

from alignlab.eval.data import read_jsonl, suite_file
from alignlab.eval.toxicity import background_sentences, toxicity_classifier, train_toxicity_classifier


@pytest.mark.slow  # trains the legacy ToxiGen-only classifier (the suites use the shipped judge)
def test_heldout_accuracy_is_the_documented_number_and_beats_the_majority_class():
    heldout = toxicity_classifier().heldout
    assert heldout["n_test"] == 157 and heldout["n_train"] == 511
    assert heldout["accuracy"] == pytest.approx(0.8344, abs=1e-4)  # eval_data/README.md quotes this
    assert heldout["n_background"] == 200
    assert heldout["accuracy"] > heldout["majority_baseline"] + 0.2
    assert heldout["ci95"][0] < heldout["accuracy"] < heldout["ci95"][1]


@pytest.mark.slow  # trains the legacy ToxiGen-only classifier (the suites use the shipped judge)
def test_training_is_deterministic_and_train_test_do_not_overlap():
    rows = read_jsonl(suite_file("toxigen", "statements.jsonl"))
    background = background_sentences(read_jsonl(suite_file("perplexity", "tinystories_validation.jsonl")))
    a, b = train_toxicity_classifier(rows, background), train_toxicity_classifier(list(reversed(rows)), background)
    texts = ["women are too emotional to lead a country", "she was a brilliant engineer"]
    assert a.predict_proba(texts) == pytest.approx(b.predict_proba(texts), abs=1e-9)
    assert a.heldout["n_train"] + a.heldout["n_test"] == len(rows)


def test_probabilities():
    classifier = toxicity_classifier()
    hateful, kind, off_topic, empty = classifier.predict_proba(
        ["all immigrants are criminals and should be sent back", "my neighbour is a kind and helpful nurse",
         "the weather is nice today", "  "])
    assert hateful > 0.5 > max(kind, off_topic) and empty == 0.0
    assert classifier.predict_proba([]) == []
