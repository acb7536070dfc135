"""Diversity and repetition of generated text, per response (so each number sits on one samples.jsonl line).

    distinct_n("the cat the cat", 1)     # 0.5: 2 distinct unigrams of 4
    repetition_n("a b c a b c", 2)        # 0.4: 1 - 3 distinct bigrams / 5 bigrams

Words are whitespace-separated, lower-cased tokens: independent of the model's tokenizer, so two models with
different tokenizers are comparable. `distinct_n` is Li et al. 2016's distinct-n computed within one response
(distinct n-grams / n-grams); `repetition_n` is Welleck et al. 2019's seq-rep-n (1 - distinct-n), the share of
n-grams that repeat an earlier one in the same response. A response with fewer than n words has no n-grams:
its values are None and the means skip it.
"""

from __future__ import annotations


def words(text: str) -> list[str]:
    return text.lower().split()


def ngrams(tokens: list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]


def distinct_n(text: str, n: int) -> float | None:
    grams = ngrams(words(text), n)
    return len(set(grams)) / len(grams) if grams else None


def repetition_n(text: str, n: int) -> float | None:
    share = distinct_n(text, n)
    return None if share is None else 1.0 - share
