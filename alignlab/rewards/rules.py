"""Rule rewards: small, exact functions of the completion text, picked by name (`rewards: [{rule: NAME}]`).

    keyword        1 when the completion holds `keyword` (default "please", the `synthetic:keyword` rule), else 0
    sentiment      (#positive words - #negative words), the `synthetic:sentiment` rule's word lists, clipped to
                   [-clip, clip]
    fluent_sentiment  a reader's preference (`alignlab.rewards.fluency`): positive tone, minus word stuffing,
                   repeated trigrams and disfluent bigrams; word lists and repetition score below plain text
    length         -|words - target| / target: 0 at `target` words, lower further away
    exact_answer   1 when the completion (stripped, case-folded) equals the row's `answer` column (or holds it,
                   with `contains: true`), else 0

A rule is registered as a factory: `RULES.get(name)(**args)` returns the reward function, so a config's
`args:` are checked (unknown ones are a one-line error) when the rewards are built, before any model loads.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Sequence
from typing import Any

from alignlab.data.synthetic import DEFAULT_KEYWORD, NEGATIVE, POSITIVE
from alignlab.errors import ConfigError
from alignlab.registry import Registry

RewardFunction = Callable[..., list[float]]
RULES: Registry[Callable[..., RewardFunction]] = Registry("rule reward")

_WORD = re.compile(r"[A-Za-z']+")


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def keyword(keyword: str = DEFAULT_KEYWORD) -> RewardFunction:
    target = keyword.lower()

    def reward(prompts: Sequence[Any], completions: Sequence[str], **_: Any) -> list[float]:
        return [1.0 if target in words(text) else 0.0 for text in completions]

    return reward


def sentiment(clip: float = 3.0) -> RewardFunction:
    positive, negative = set(POSITIVE), set(NEGATIVE)

    def reward(prompts: Sequence[Any], completions: Sequence[str], **_: Any) -> list[float]:
        out = []
        for text in completions:
            tokens = words(text)
            score = sum(w in positive for w in tokens) - sum(w in negative for w in tokens)
            out.append(float(max(-clip, min(clip, score))))
        return out

    return reward


def length(target: int = 20) -> RewardFunction:
    if target < 1:
        raise ConfigError(f"rule length: target must be >= 1 word, got {target}")

    def reward(prompts: Sequence[Any], completions: Sequence[str], **_: Any) -> list[float]:
        return [-abs(len(words(text)) - target) / target for text in completions]

    return reward


def fluent_sentiment() -> RewardFunction:
    from alignlab.rewards.fluency import fluent_sentiment_score

    def reward(prompts: Sequence[Any], completions: Sequence[str], **_: Any) -> list[float]:
        return [fluent_sentiment_score(text) for text in completions]

    return reward


def exact_answer(contains: bool = False) -> RewardFunction:
    def reward(prompts: Sequence[Any], completions: Sequence[str], answer: Sequence[Any] | None = None,
               **_: Any) -> list[float]:
        if answer is None:
            raise ConfigError("rule exact_answer needs an `answer` column in the prompt data")
        out = []
        for text, expected in zip(completions, answer, strict=True):
            got, want = text.strip().casefold(), str(expected).strip().casefold()
            out.append(1.0 if (want in got if contains else got == want) else 0.0)
        return out

    return reward


for _name, _factory in (("keyword", keyword), ("sentiment", sentiment), ("length", length),
                        ("exact_answer", exact_answer), ("fluent_sentiment", fluent_sentiment)):
    RULES.register(_name, _factory)


def make_rule(name: str, args: dict[str, Any], where: str) -> RewardFunction:
    """The reward function of rule `name` with `args`; unknown or mistyped args are a one-line ConfigError."""
    factory = RULES.get(name)
    accepted = inspect.signature(factory).parameters
    unknown = sorted(set(args) - set(accepted))
    if unknown:
        raise ConfigError(f"{where}: rule {name} has no argument {unknown[0]!r} "
                          f"(valid: {', '.join(accepted) or 'none'})")
    function = factory(**args)
    function.__name__ = name
    return function
