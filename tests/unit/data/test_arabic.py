"""Arabic normalisation (`alignlab.data.arabic`) and its use in near-duplicate detection."""

from __future__ import annotations

import pytest

from alignlab.data.arabic import fold, has_arabic, normalize_arabic
from alignlab.data.dedupe import near_key, normalize_text


@pytest.mark.parametrize(("text", "expected"), [
    ("أحمد إبراهيم آمال ٱلله", "احمد ابراهيم امال الله"),   # alef forms
    ("مستشفى على", "مستشفي علي"),                             # alef maqsura -> yaa
    ("مدرسة جميلة", "مدرسه جميله"),                           # taa marbuta -> haa
    ("مُحَمَّدٌ", "محمد"),                                      # diacritics
    ("جمـــيل", "جميل"),                                      # tatweel
    ("٢٠٢٤ و ۱۳۹۹", "2024 و 1399"),                           # Arabic-Indic and Persian digits
    ("Hello, World ١", "Hello, World 1"),                      # other scripts pass through
])
def test_normalize_arabic(text, expected):
    assert normalize_arabic(text) == expected


def test_fold_adds_nfkc_and_case_folding():
    assert fold("ﻻ") == "لا"                                   # presentation form (NFKC) -> base letters
    assert fold("Straße ＡＢＣ") == "strasse abc"
    assert fold("إزيك يا مُنى") == fold("ازيك يا منى") == "ازيك يا مني"


def test_has_arabic():
    assert has_arabic("hello مرحبا") and not has_arabic("hello 123")


def test_near_duplicates_ignore_arabic_spelling_variants():
    first = {"prompt": "ما هي عاصمة مصر؟", "chosen": "القاهرة.", "rejected": "الإسكندرية"}
    variant = {"prompt": "ما هى عاصمه مصر", "chosen": "القاهره", "rejected": "الاسكندريه!"}
    different = {"prompt": "ما هي عاصمة لبنان؟", "chosen": "بيروت", "rejected": "صيدا"}
    assert near_key(first) == near_key(variant) != near_key(different)
    assert normalize_text("  Hello,   WORLD! ") == "hello world"
