"""The Arabic dialect classifier: the shipped artifact, its card, training on hand-made data, the audit's
per-language / per-dialect breakdown."""

from __future__ import annotations

import json

import pytest

from alignlab.data import audit_file
from alignlab.data.dialect import (
    DIALECTS,
    char_ngrams,
    dialect_classifier,
    language_of,
    load_classifier,
    save_classifier,
    train_dialect_classifier,
)
from tests.unit.data.helpers import pair, write_lines

EGYPTIAN = ["ازيك يا باشا عامل ايه النهارده", "انا مش عارف اعمل ايه دلوقتي خالص", "الفيلم ده حلو اوي بجد",
            "عايز اروح البيت بدري عشان تعبان", "هو فين الكتاب بتاعي يا عم", "مش فاهم انت بتقول ايه"]
LEVANTINE = ["شو عم تعمل هلق يا زلمة", "بدي روح عالبيت بكير منشان تعبان", "كيفك شو أخبارك اليوم",
             "هيدا الفيلم كتير حلو والله", "وين الكتاب تبعي يا خيي", "ما بعرف شو بدي قلك"]


def test_char_ngrams_are_word_bounded_and_normalised():
    grams = char_ngrams("أحمد")
    assert " ا" in grams and "د " in grams and "أ" not in "".join(grams)  # alef folded, word padded
    assert not char_ngrams("https://t.co/x @user 123")                    # URLs, mentions, digits dropped


def test_language_of():
    assert [language_of(t) for t in ("مرحبا", "hello", "12 !")] == ["ar", "en", "other"]


def test_training_on_hand_made_dialects_separates_them(tmp_path):
    train = [{"text": t, "dialect": "egypt"} for t in EGYPTIAN] + [{"text": t, "dialect": "levant"} for t in LEVANTINE]
    test = [{"text": "انا مش عايز اروح", "dialect": "egypt"}, {"text": "شو بدك تعمل هلق", "dialect": "levant"}]
    classifier = train_dialect_classifier(train, test)
    assert classifier.labels == ("egypt", "levant")
    assert classifier.predict(["انا مش عايز اروح", "شو بدك تعمل هلق", "no Arabic here"]) == ["egypt", "levant", None]
    assert classifier.card["heldout"]["accuracy"] == 1.0
    save_classifier(classifier, tmp_path)
    loaded = load_classifier(tmp_path)  # arrays only: np.load(allow_pickle=False) must read it
    assert loaded.predict(["انا مش عايز اروح"]) == ["egypt"] and loaded.card == json.loads(
        (tmp_path / "dialect_classifier.json").read_text(encoding="utf-8"))


def test_shipped_classifier_card_and_obvious_cases():
    classifier = dialect_classifier()
    heldout = classifier.card["heldout"]
    assert classifier.labels == DIALECTS and heldout["n_test"] == 3000
    assert 0.0 < heldout["accuracy"] <= 1.0 and set(heldout["per_dialect"]) == set(DIALECTS)
    assert classifier.predict(["هو انت مش عارف ازاي تعمل كده يا عم؟ ده انا قلتلك امبارح"]) == ["egypt"]


def test_audit_breaks_rows_down_by_language_and_dialect(tmp_path):
    rows = [pair(f"{text} {n}?", "نعم", "لا") for n, text in enumerate(EGYPTIAN[:4])]
    rows += [pair(f"What is {n}+{n}?", str(2 * n), "7") for n in range(2)]
    report = audit_file(write_lines(tmp_path / "mixed.jsonl", rows), "pairwise")
    languages = {e["name"]: e["rows"] for e in report["breakdown"]["language"]}
    assert languages == {"ar": 4, "en": 2}
    dialects = {e["name"]: e["rows"] for e in report["breakdown"]["dialect"]}
    assert dialects["(none)"] == 2 and sum(dialects.values()) == 6
    assert report["dialect_classifier"]["accuracy"] == pytest.approx(dialect_classifier().card["heldout"]["accuracy"])


def test_audit_of_english_data_has_no_dialect_card(tmp_path):
    report = audit_file(write_lines(tmp_path / "en.jsonl", [pair(), pair("Hi?", "Hello", "Go away")]), "pairwise")
    assert report["dialect_classifier"] is None and report["breakdown"]["dialect"] == []


def test_audit_verdict_names_a_dominant_dialect(tmp_path):
    rows = [pair(f"{EGYPTIAN[n % 6]} رقم {n}؟", "نعم", "لا") for n in range(24)]
    report = audit_file(write_lines(tmp_path / "egy.jsonl", rows), "pairwise")
    read = {e["name"]: e["rows"] for e in report["breakdown"]["dialect"]}
    assert sum(read.values()) == 24
    verdict = next((v for v in report["verdicts"] if "Arabic prompts" in v), "")
    top = max(read, key=read.get)
    assert top in verdict and "held-out accuracy" in verdict
