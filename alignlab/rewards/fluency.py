"""A reader's preference that word lists and repetition cannot win: tone, minus stuffing, loops and disfluency.

    from alignlab.rewards.fluency import fluent_sentiment_score, fluency_parts
    fluent_sentiment_score("Tom saw the happy dog and they had fun.")   # 1.0
    fluent_sentiment_score("great great great great")                    # well below 0

The `sentiment` rule counts positive minus negative words, so "happy happy great kind fun" beats any story:
a judge a policy learns to hack (issue 17: the demo's round-2 policy wrote word lists and "won" 96%). A
person reading children's stories prefers a story whose *tone* is positive, and dislikes stuffing, loops and
broken text. `fluent_sentiment_score` spells that out, term by term:

    tone         +1 more positive than negative words, -1 more negative, 0 otherwise (a story is not twice
                 as pleasant for holding twice the positive words)
    stuffing     -1 when sentiment words are more than `STUFFING_SHARE` (30%) of all words: a word list
    repetition   -0.5 per word trigram that repeats an earlier one ("great great great great": 1.0)
    disfluency   -0.5 per word bigram a fluent writer of this language never produces: a bigram seen neither
                 in the shipped TinyStories excerpt nor in the synthetic stories the SFT data is made of (a
                 count-based language model of the reference text; the pretrained model's perplexity plays
                 the same part for real text)

So a plain fluent positive story (about 1) beats a neutral one (about 0), which beats a negative one (about
-1), and "great great great" (below -3) loses to all of them. The terms use the same word lists as
`alignlab.data.synthetic`; the reference bigrams are built once per process (about 1 s).
"""

from __future__ import annotations

import re
from functools import lru_cache

from alignlab.data.synthetic import NEGATIVE, POSITIVE

_WORD = re.compile(r"[a-z']+")
_POSITIVE, _NEGATIVE = frozenset(POSITIVE), frozenset(NEGATIVE)
STUFFING_SHARE = 0.3
REPEAT_PENALTY = 0.5
DISFLUENCY_PENALTY = 0.5
_REFERENCE_STORIES = 2000  # synthetic pairs per rule in the reference text
_REFERENCE_RULES = ("keyword", "sentiment")  # `longer` writes the same sentences without inserted words


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


@lru_cache(maxsize=1)
def reference_bigrams() -> frozenset[tuple[str, str]]:
    """Word bigrams of the reference text: the shipped TinyStories excerpt plus synthetic stories."""
    from alignlab.data.synthetic import make_pairwise
    from alignlab.paths import tiny_corpus_files

    seen: set[tuple[str, str]] = set()
    texts = [path.read_text(encoding="utf-8") for path in tiny_corpus_files()]
    for rule in _REFERENCE_RULES:
        for pair in make_pairwise(_REFERENCE_STORIES, 12345, rule=rule, sentences=(1, 5)):
            texts += [pair["chosen"], pair["rejected"]]
    for text in texts:
        tokens = _words(text)
        seen.update(zip(tokens, tokens[1:], strict=False))
    return frozenset(seen)


def fluency_parts(text: str) -> dict[str, float]:
    """Each term of the score (unweighted counts) for one text."""
    tokens = _words(text)
    positive = sum(w in _POSITIVE for w in tokens)
    negative = sum(w in _NEGATIVE for w in tokens)
    trigrams = list(zip(tokens, tokens[1:], tokens[2:], strict=False))
    reference = reference_bigrams()
    return {
        "tone": float((positive > negative) - (negative > positive)),
        "stuffing": float(bool(tokens) and (positive + negative) / len(tokens) > STUFFING_SHARE),
        "repeats": float(len(trigrams) - len(set(trigrams))),
        "disfluent_bigrams": float(sum(b not in reference for b in zip(tokens, tokens[1:], strict=False))),
    }


def fluent_sentiment_score(text: str) -> float:
    parts = fluency_parts(text)
    return (parts["tone"] - parts["stuffing"] - REPEAT_PENALTY * parts["repeats"]
            - DISFLUENCY_PENALTY * parts["disfluent_bigrams"])
