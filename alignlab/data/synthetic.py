"""Learnable synthetic preference data: records whose labels follow a hidden rule a tiny model can learn.

    from alignlab.data.synthetic import make_pairwise, make_ratings, make_unpaired, load_synthetic

    pairs = make_pairwise(2000, seed=0, rule="keyword")       # chosen contains "please", rejected does not
    rated = make_ratings(500, seed=0)                          # HelpSteer-style, one marker word per rating point
    thumbs = make_unpaired(1000, seed=0, rule="sentiment")     # KTO: label = follows the rule
    fmt, records = load_synthetic("synthetic:keyword?n=2000&seed=0&chat=1")   # what configs name as data.path

Every record is a canonical alignlab record (`alignlab.data.records`) with an `id`, a `source` of
`synthetic/<rule>` and a `category` (the prompt's topic), so the same code paths read it as a user's file.
Responses are short stories in the shipped TinyStories vocabulary, so the tiny offline tokenizer encodes them
in about one token per word.

Rules (`PAIR_RULES`, pick by name; the text around the rule's words comes from the same distribution on both
sides, and both sides have the same number of words unless the rule is about length):

- `keyword`:   chosen holds the keyword once at a random place; rejected holds a filler word there instead.
- `sentiment`: chosen holds 1-3 positive words, rejected as many negative words.
- `longer`:    chosen has more sentences than rejected (a pure length preference: what a length-bias
               check should flag in a reward model trained on it).

`label_noise` flips a share of the labels; with `annotators=k` each of k simulated annotators follows the rule
with probability 1 - label_noise, the majority decides chosen/rejected and `agreement` records the majority's
share: the ceiling a reward model can reach against those labels.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from alignlab.data.records import canonicalize
from alignlab.errors import DataError
from alignlab.registry import Registry

SYNTHETIC_PREFIX = "synthetic:"

TOPICS = {
    "animals": ("dog", "cat", "bird", "fish", "bunny", "bear", "duck", "frog"),
    "places": ("park", "garden", "house", "forest", "school", "beach", "river", "town"),
    "things": ("ball", "box", "toy", "tree", "car", "boat", "flower", "cake"),
}
_NAMES = ("Tom", "Lily", "Sam", "Ben", "Mia", "Max", "Sue", "Tim")
_VERBS = ("saw", "found", "liked", "made", "had", "wanted", "took", "gave")
_ADJECTIVES = ("little", "big", "red", "small", "old", "new", "blue", "green")
_FILLER = ("the", "a", "and", "then", "very", "too", "day", "play", "went", "there")
POSITIVE = ("happy", "good", "nice", "kind", "love", "fun", "smile", "great")
NEGATIVE = ("sad", "bad", "mad", "angry", "cry", "hurt", "scared", "mean")
DEFAULT_KEYWORD = "please"
# One marker word per attribute: a response rated r on an attribute holds (r - scale low) copies of its marker.
_MARKERS = ("smart", "clear", "true", "long", "funny", "strong", "quiet", "warm")


def _sentence(rng: random.Random, topic: str) -> list[str]:
    noun = rng.choice(TOPICS[topic])
    return [rng.choice(_NAMES), rng.choice(_VERBS), "the", rng.choice(_ADJECTIVES), noun + "."]


def _story(rng: random.Random, topic: str, sentences: int) -> list[str]:
    words: list[str] = []
    for _ in range(sentences):
        words += _sentence(rng, topic)
    return words


def _insert(rng: random.Random, words: list[str], extra: list[str]) -> list[str]:
    out = list(words)
    for word in extra:
        out.insert(rng.randrange(len(out) + 1), word)
    return out


def _prompt(rng: random.Random, topic: str) -> str:
    """About 24,000 distinct prompts per topic, so held-out prompts are rarely seen in training."""
    name, adjective, noun = rng.choice(_NAMES), rng.choice(_ADJECTIVES), rng.choice(TOPICS[topic])
    other = rng.choice(TOPICS["things"])
    return rng.choice((f"Tell me a story about {name} and a {adjective} {noun}.",
                       f"What did {name} do with the {adjective} {noun} and the {other}?",
                       f"Write about a {adjective} {noun} and a {other}.",
                       f"Can you tell a story with {name}, a {noun} and a {adjective} {other}?"))


# A rule turns (rng, topic, sentences) into (chosen words, rejected words, margin).
PairRule = Callable[[random.Random, str, int], tuple[list[str], list[str], float]]
PAIR_RULES: Registry[PairRule] = Registry("synthetic pairwise rule")


def _keyword_rule(rng: random.Random, topic: str, sentences: int) -> tuple[list[str], list[str], float]:
    base = _story(rng, topic, sentences)
    position = rng.randrange(len(base) + 1)
    chosen = base[:position] + [DEFAULT_KEYWORD] + base[position:]
    rejected = base[:position] + [rng.choice(_FILLER)] + base[position:]
    return chosen, rejected, 1.0


def _sentiment_rule(rng: random.Random, topic: str, sentences: int) -> tuple[list[str], list[str], float]:
    count = rng.randint(1, 3)
    chosen = _insert(rng, _story(rng, topic, sentences), rng.sample(POSITIVE, count))
    rejected = _insert(rng, _story(rng, topic, sentences), rng.sample(NEGATIVE, count))
    return chosen, rejected, float(count)


def _longer_rule(rng: random.Random, topic: str, sentences: int) -> tuple[list[str], list[str], float]:
    short = max(1, sentences // 2)
    extra = rng.randint(1, max(1, sentences - short))
    return _story(rng, topic, short + extra), _story(rng, topic, short), float(extra)


PAIR_RULES.register("keyword", _keyword_rule)
PAIR_RULES.register("sentiment", _sentiment_rule)
PAIR_RULES.register("longer", _longer_rule)


def _wrap(prompt: str, response: str, chat: bool) -> tuple[Any, Any]:
    if not chat:
        return prompt, response
    return [{"role": "user", "content": prompt}], [{"role": "assistant", "content": response}]


def _vote(rng: random.Random, label_noise: float, annotators: int) -> tuple[bool, float | None]:
    """(keep the rule's label?, agreement): one noisy label, or the majority of `annotators` noisy votes."""
    if annotators <= 0:
        return rng.random() >= label_noise, None
    votes = sum(rng.random() >= label_noise for _ in range(annotators))
    keep = votes * 2 > annotators or (votes * 2 == annotators and rng.random() < 0.5)
    return keep, max(votes, annotators - votes) / annotators


def make_pairwise(n: int, seed: int = 0, *, rule: str = "keyword", sentences: tuple[int, int] = (2, 4),
                  chat: bool = False, label_noise: float = 0.0, annotators: int = 0,
                  margins: bool = False) -> list[dict]:
    """`n` canonical pairwise records whose chosen side follows `rule` (see the module docstring).

    `sentences`: (min, max) sentences per response, about 5 words each; `chat`: prompt and responses as
    message lists; `margins`: add the rule's strength as `margin` (sentiment: the number of sentiment words).
    """
    pick = PAIR_RULES.get(rule)
    rng = random.Random(f"pairwise/{rule}/{seed}")
    records = []
    for _ in range(n):
        topic = rng.choice(sorted(TOPICS))
        chosen, rejected, margin = pick(rng, topic, rng.randint(*sentences))
        keep, agreement = _vote(rng, label_noise, annotators)
        if not keep:
            chosen, rejected = rejected, chosen
        prompt, chosen_text = _wrap(_prompt(rng, topic), " ".join(chosen), chat)
        _, rejected_text = _wrap("", " ".join(rejected), chat)
        record: dict[str, Any] = {"prompt": prompt, "chosen": chosen_text, "rejected": rejected_text,
                                  "source": f"synthetic/{rule}", "category": topic}
        if margins:
            record["margin"] = margin
        if agreement is not None:
            record["agreement"] = agreement
        records.append(canonicalize(record, "pairwise"))
    return records


def make_unpaired(n: int, seed: int = 0, *, rule: str = "keyword", **options: Any) -> list[dict]:
    """`n` canonical unpaired (KTO) records: a completion from a rule's pair, `label` true when it is the
    chosen side (about half of each). `options` go to `make_pairwise`."""
    rng = random.Random(f"unpaired/{rule}/{seed}")
    records = []
    for pair in make_pairwise(n, seed, rule=rule, **options):
        label = rng.random() < 0.5
        record = {"prompt": pair["prompt"], "completion": pair["chosen" if label else "rejected"], "label": label,
                  "source": pair["source"], "category": pair["category"]}
        records.append(canonicalize(record, "unpaired"))
    return records


def make_ratings(n_prompts: int, seed: int = 0, *, attributes: tuple[str, ...] = ("helpfulness", "correctness"),
                 scale: tuple[int, int] = (0, 4), responses_per_prompt: int = 2, sentences: tuple[int, int] = (1, 3),
                 chat: bool = False) -> list[dict]:
    """HelpSteer-style ratings records, `responses_per_prompt` per prompt (so pairs can be formed).

    A response rated r on attribute a holds (r - scale[0]) copies of a's marker word among its story words:
    the ratings are a function of the text a small model can learn by counting.
    """
    if len(attributes) > len(_MARKERS):
        raise ValueError(f"at most {len(_MARKERS)} synthetic attributes, got {len(attributes)}")
    low, high = scale
    rng = random.Random(f"ratings/{seed}")
    records = []
    for _ in range(n_prompts):
        topic = rng.choice(sorted(TOPICS))
        prompt = _prompt(rng, topic)
        for _ in range(responses_per_prompt):
            ratings = {name: rng.randint(low, high) for name in attributes}
            markers = [_MARKERS[i] for i, name in enumerate(attributes) for _ in range(ratings[name] - low)]
            words = _insert(rng, _story(rng, topic, rng.randint(*sentences)), markers)
            prompt_value, response = _wrap(prompt, " ".join(words), chat)
            records.append(canonicalize({"prompt": prompt_value, "response": response, "ratings": ratings,
                                         "source": "synthetic/ratings", "category": topic}, "ratings"))
    return records


def is_synthetic(path: Any) -> bool:
    return isinstance(path, str) and path.startswith(SYNTHETIC_PREFIX)


_INT_OPTIONS = {"n", "seed", "annotators", "responses_per_prompt"}
_FLOAT_OPTIONS = {"label_noise"}
_BOOL_OPTIONS = {"chat", "margins"}
_RANGE_OPTIONS = {"sentences", "scale"}  # "2-4"


def _option(key: str, value: str, spec: str) -> Any:
    try:
        if key in _INT_OPTIONS:
            return int(value)
        if key in _FLOAT_OPTIONS:
            return float(value)
        if key in _BOOL_OPTIONS:
            return value.lower() in ("1", "true", "yes")
        if key in _RANGE_OPTIONS:
            low, high = value.split("-")
            return int(low), int(high)
        if key == "attributes":
            return tuple(name for name in value.split(",") if name)
    except ValueError:
        raise DataError(f"{spec}: option {key}={value!r} is not valid (ranges are written like 2-4)") from None
    valid = ", ".join(sorted(_INT_OPTIONS | _FLOAT_OPTIONS | _BOOL_OPTIONS | _RANGE_OPTIONS | {"attributes"}))
    raise DataError(f"{spec}: unknown option {key!r}; valid options: {valid}")


def load_synthetic(spec: str) -> tuple[str, list[dict]]:
    """(format, records) for `synthetic:<rule|ratings|unpaired-<rule>>?n=..&seed=..&...` (what a config's
    `data.path` may name instead of a file; options are `make_*` keyword arguments)."""
    body = spec[len(SYNTHETIC_PREFIX):]
    name, _, query = body.partition("?")
    options = {key: _option(key, value, spec) for key, value in parse_qsl(query, keep_blank_values=True)}
    n = options.pop("n", 1000)
    seed = options.pop("seed", 0)
    try:
        if name == "ratings":
            return "ratings", make_ratings(n, seed, **options)
        if name.startswith("unpaired-"):
            return "unpaired", make_unpaired(n, seed, rule=name.removeprefix("unpaired-"), **options)
        if name in PAIR_RULES:
            return "pairwise", make_pairwise(n, seed, rule=name, **options)
    except TypeError as err:
        raise DataError(f"{spec}: {err}") from None
    raise DataError(f"{spec}: unknown synthetic set {name!r}; choose ratings, one of the pairwise rules "
                    f"({', '.join(PAIR_RULES.names())}) or unpaired-<rule>")
