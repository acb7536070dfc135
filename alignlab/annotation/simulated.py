"""Simulated annotators: several noisy raters who follow a hidden preference rule, for offline demos and tests.

    panel = SimulatedAnnotators(rule="sentiment", annotators=3, noise=0.1, position_bias=0.1, seed=0)
    records = panel.annotate(candidates)       # candidates rows: {"prompt", "responses": [a, b], ...}
    panel.prefers(prompt, text_a, text_b)      # the rule's own verdict: 1.0 a, 0.0 b, 0.5 tie

The hidden rules are `alignlab.data.synthetic`'s pairwise rules turned into a score any text has, so the raters
judge arbitrary texts (a policy's generated candidates), not only pairs the rule generated:

- `keyword`:   how often the keyword ("please") occurs (more is better);
- `sentiment`: positive words minus negative words (`synthetic.POSITIVE`, `synthetic.NEGATIVE`);
- `longer`:    the number of sentences;
- `fluent_sentiment`: what a reader of the stories prefers (`alignlab.rewards.fluency`): a positive tone
  (+1, negative -1), minus word stuffing, repeated trigrams and bigrams no fluent text holds, so word lists
  and "great great great" lose to a plain fluent answer. The demo's annotators follow this one: under
  `sentiment` a policy wins by writing lists of positive words (a judge it can hack).

`RULE_DATA` names the `alignlab.data.synthetic` pair set whose stories match a rule (the SFT data of a pipeline).

Each rater sees the pair in a per-record presentation order (shuffled, recorded in `metadata.order` as the
Argilla templates do). A rater with noise `noise` answers at random with that probability; with probability
`position_bias` they pick whatever was shown first; otherwise they follow the rule (a tie under the rule is a
coin flip). `noise` and `position_bias` may be one number or one per rater, so a panel can hold a careless
rater. The majority decides chosen/rejected; each record keeps its `agreement` (the majority's share),
`annotators` and per-rater votes in `metadata`, exactly the shape `alignlab annotate pull` writes, so the
agreement statistics (`alignlab.metrics.agreement`), the data audit and agreement-aware DPO measure them.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from alignlab.data.records import canonicalize, text_of
from alignlab.data.synthetic import DEFAULT_KEYWORD, NEGATIVE, POSITIVE
from alignlab.errors import ConfigError
from alignlab.registry import Registry

_WORD = re.compile(r"[a-z']+")
_POSITIVE, _NEGATIVE = frozenset(POSITIVE), frozenset(NEGATIVE)

RuleScore = Callable[[str], float]
RULE_SCORES: Registry[RuleScore] = Registry("hidden preference rule")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def keyword_score(text: str) -> float:
    return float(_words(text).count(DEFAULT_KEYWORD))


def sentiment_score(text: str) -> float:
    words = _words(text)
    return float(sum(w in _POSITIVE for w in words) - sum(w in _NEGATIVE for w in words))


def sentence_score(text: str) -> float:
    return float(len([part for part in re.split(r"[.!?]+", text) if part.strip()]))


RULE_SCORES.register("keyword", keyword_score)
RULE_SCORES.register("sentiment", sentiment_score)
RULE_SCORES.register("longer", sentence_score)
RULE_SCORES.register("fluent_sentiment", "alignlab.rewards.fluency:fluent_sentiment_score")
RULE_DATA = {"fluent_sentiment": "sentiment"}  # rule -> synthetic pair set; others share their rule's name


def rule_outcome(rule: str, first: Any, second: Any) -> float:
    """The hidden rule's verdict on two responses: 1.0 the first is better, 0.0 the second, 0.5 a tie."""
    score = RULE_SCORES.get(rule)
    a, b = score(text_of(first)), score(text_of(second))
    return 0.5 if a == b else float(a > b)


def _per_rater(value: float | Sequence[float], annotators: int, name: str) -> list[float]:
    values = [float(value)] * annotators if isinstance(value, int | float) else [float(v) for v in value]
    if len(values) != annotators:
        raise ConfigError(f"{name}: {len(values)} values for {annotators} annotators; give one number or one per "
                          "annotator")
    if any(not 0.0 <= v <= 1.0 for v in values):
        raise ConfigError(f"{name}: {values}: each value is a probability between 0 and 1")
    return values


@dataclass
class SimulatedAnnotators:
    """A panel of `annotators` noisy raters following `rule` (see the module docstring)."""

    rule: str = "sentiment"
    annotators: int = 3
    noise: float | Sequence[float] = 0.1
    position_bias: float | Sequence[float] = 0.0
    seed: int = 0
    names: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        RULE_SCORES.check(self.rule)
        if self.annotators < 1:
            raise ConfigError(f"annotators: {self.annotators}: a panel needs at least one rater")
        self.noise = _per_rater(self.noise, self.annotators, "noise")
        self.position_bias = _per_rater(self.position_bias, self.annotators, "position_bias")
        self.names = self.names or [f"sim-{i + 1}" for i in range(self.annotators)]

    def prefers(self, first: Any, second: Any) -> float:
        return rule_outcome(self.rule, first, second)

    def vote(self, rng: random.Random, rater: int, shown: tuple[Any, Any]) -> int:
        """The position (0 = shown first, 1 = second) rater `rater` picks."""
        if rng.random() < self.noise[rater]:
            return rng.randrange(2)
        if rng.random() < self.position_bias[rater]:
            return 0
        truth = self.prefers(*shown)
        return rng.randrange(2) if truth == 0.5 else int(truth == 0.0)

    def annotate(self, candidates: Iterable[dict], *, source: str = "simulated") -> list[dict]:
        """Canonical pairwise records for candidate rows with two responses (more: the first two)."""
        records = []
        for index, row in enumerate(candidates):
            responses = row["responses"]
            if len(responses) < 2:
                continue
            key = row.get("id") or index
            rng = random.Random(f"simulated/{self.rule}/{self.seed}/{key}")
            order = [0, 1] if rng.random() < 0.5 else [1, 0]
            shown = (responses[order[0]], responses[order[1]])
            votes = {name: order[self.vote(rng, rater, shown)] for rater, name in enumerate(self.names)}
            records.append(self._record(row, responses, votes, order, source))
        return records

    def _record(self, row: dict, responses: Sequence[Any], votes: dict[str, int], order: list[int],
                source: str) -> dict:
        for_first = sum(v == 0 for v in votes.values())
        if for_first * 2 == len(votes):  # an even panel split: the first-listed rater breaks it
            best = next(iter(votes.values()))
        else:
            best = 0 if for_first * 2 > len(votes) else 1
        winners = sum(v == best for v in votes.values())
        models = row.get("models") or [None, None]
        metadata: dict[str, Any] = {
            "soft_label": round(winners / len(votes), 4), "order": order,
            "chosen_position": "a" if order[0] == best else "b",
            "votes": {"chosen": winners, "tie": 0, "rejected": len(votes) - winners},
            "rater_votes": {name: "chosen" if v == best else "rejected" for name, v in votes.items()},
            "rater_picks": dict(votes),  # response index each rater picked (for chance-corrected agreement)
            "rater_positions": {name: "a" if order[0] == v else "b" for name, v in votes.items()},
            "rule_outcome": self.prefers(responses[best], responses[1 - best]),
        }
        if any(models):
            metadata["models"] = {"chosen": models[best], "rejected": models[1 - best]}
        for key in ("scores", "selection", "round"):
            if row.get(key) is not None:
                metadata[key] = row[key]
        record = {"prompt": row["prompt"], "chosen": responses[best], "rejected": responses[1 - best],
                  # One rater is no panel: no agreement (as for human annotation), not a unanimous 1.0.
                  "agreement": round(winners / len(votes), 4) if len(votes) > 1 else None,
                  "annotators": sorted(votes),
                  "source": source, "metadata": metadata}
        if row.get("category"):
            record["category"] = row["category"]
        return canonicalize(record, "pairwise")


def mean_agreement(records: Sequence[dict]) -> float | None:
    """Mean agreement over the records that have one (single-annotator records have none); None when none do."""
    values = [r["agreement"] for r in records if r.get("agreement") is not None]
    return round(sum(values) / len(values), 4) if values else None


def panel_agreement(records: Sequence[dict]) -> dict[str, Any]:
    """Agreement of a simulated panel on its records: Krippendorff's alpha and Fleiss' kappa over the raters'
    picks (by response, not position), each rater's agreement with the majority and share of first-position
    picks (0.5 = no position bias), and how often the majority matches the hidden rule (ties left out)."""
    from alignlab.metrics.agreement import codes_for, counts_from_labels, fleiss_kappa, krippendorff_alpha

    if not records:
        return {"records": 0}
    names = sorted({name for r in records for name in r["metadata"]["rater_votes"]})
    by_rater = [[r["metadata"]["rater_picks"].get(name) for r in records] for name in names]
    labels = [[picks[name] for name in names if name in picks]
              for picks in (r["metadata"]["rater_picks"] for r in records)]
    decided = [r for r in records if r["metadata"]["rule_outcome"] != 0.5]
    out: dict[str, Any] = {
        "records": len(records), "annotators": len(names),
        "mean_agreement": mean_agreement(records),
        "krippendorff_alpha": _round(krippendorff_alpha(codes_for(by_rater, [0, 1]))),
        "fleiss_kappa": _round(fleiss_kappa(counts_from_labels(labels, [0, 1])[0])),
        "majority_matches_rule": round(sum(r["metadata"]["rule_outcome"] == 1.0 for r in decided) / len(decided), 4)
        if decided else None,
        "rule_ties": len(records) - len(decided),
        "per_annotator": {},
    }
    for name in names:
        mine = [r["metadata"] for r in records if name in r["metadata"]["rater_votes"]]
        out["per_annotator"][name] = {
            "agreement_with_majority": round(sum(m["rater_votes"][name] == "chosen" for m in mine) / len(mine), 4),
            "first_position_share": round(sum(m["rater_positions"][name] == "a" for m in mine) / len(mine), 4),
        }
    return out


def _round(value: float) -> float | None:
    return None if value != value else round(float(value), 4)  # NaN (undefined) -> None
