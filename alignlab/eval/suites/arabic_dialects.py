"""Arabic dialect robustness: one task (tweet sentiment) in MSA, Egyptian, Gulf, Levantine and Maghrebi Arabic,
scored by log-likelihood; accuracy per dialect and each dialect's gap to MSA.

Data: ArSarcasm-v2 (Abu Farha, Zaghouani & Magdy 2021, WANLP; MIT), whose tweets carry dialect and sentiment
labels. Shipped: a balanced subset, 20 tweets per dialect x sentiment (all of a smaller cell: Maghrebi has 43
tweets in all), 280 tweets; three short MSA training tweets (one per sentiment) are the few-shot examples.

Prompt (`prompt_language`, stated in every sample and in the config): an instruction, `shots` labelled examples,
then the tweet; the three answers (positive / negative / neutral, in the prompt's language) are scored by their
log-likelihood per UTF-8 byte (`score: per_byte`, lm-evaluation-harness's `acc_norm`; the Arabic answers differ
in length, and a summed log-likelihood mostly picks the shortest) or summed (`score: sum`, its `acc`), and the
best one is the prediction. Samples keep both.
Each `shots` value in the options is a separate pass over the same tweets (samples carry `shots`).

Metrics, per shots setting k:
- `accuracy/{k}shot/{dialect}`: share correct, Wilson 95% interval;
- `gap_to_msa/{k}shot/{dialect}`: accuracy(MSA) - accuracy(dialect), Newcombe's hybrid score interval
  (independent groups); > 0 = the model understands the dialect worse than MSA;
- `largest_dialect_gap/{k}shot`, and the headline `largest_dialect_gap` (the smallest k): the gap of largest
  magnitude and which dialect it is. Chance is 1/3 per dialect (the subset is balanced by sentiment).

ASTD cross-check (Nabil, Aly & Atiya 2015; mostly Egyptian tweets). ASTD is licensed GPL-2.0, whose copyleft
terms cannot be folded into this Apache-2.0 repository, so alignlab does **not** ship it: set
`eval.options.arabic_dialects.astd_path` to your copy of ASTD's `data/Tweets.txt` and the suite adds up to
`astd_per_class` POS/NEG/NEUTRAL tweets per class (chosen by hash; OBJ tweets left out) as dialect
`egypt_astd`, with its own accuracy and gap to MSA. Without it the suite prints one line and runs without ASTD.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from alignlab.config.base import StrictModel
from alignlab.errors import DataError
from alignlab.eval.data import read_jsonl, suite_file
from alignlab.eval.stats import Stats
from alignlab.eval.suite import MODEL, DataSource
from alignlab.eval.suites._arabic import difference, grouped_proportions, largest

SOURCE = DataSource(
    folder="arabic_dialects", files=("arsarcasm_v2_balanced.jsonl", "fewshot_msa.jsonl"),
    dataset="ArSarcasm-v2 (iabufarha/ArSarcasm-v2): tweets with dialect and sentiment labels", license="MIT",
    citation="Abu Farha, Zaghouani & Magdy 2021, WANLP",
    subsample="20 per dialect x sentiment (280; Maghrebi 40); 3 MSA training tweets as few-shot examples",
)
ASTD = DataSource(
    folder="arabic_dialects", files=(), dataset="ASTD (mahmoudnabil/ASTD), optional Egyptian cross-check read from "
    "options.astd_path", license="GPL-2.0 (not shipped)", citation="Nabil, Aly & Atiya 2015, EMNLP",
    terms="user-supplied; GPL-2.0 data is not redistributed inside this Apache-2.0 project",
)
SENTIMENTS = ("POS", "NEG", "NEU")
ASTD_LABELS = {"POS": "POS", "NEG": "NEG", "NEUTRAL": "NEU"}
PROMPTS = {
    "ar": {"instruction": "صنّف مشاعر التغريدة: إيجابية أو سلبية أو محايدة.", "tweet": "التغريدة", "label": "المشاعر",
           "answers": {"POS": "إيجابية", "NEG": "سلبية", "NEU": "محايدة"}},
    "en": {"instruction": "Classify the sentiment of the Arabic tweet as positive, negative or neutral.",
           "tweet": "Tweet", "label": "Sentiment", "answers": {"POS": "positive", "NEG": "negative",
                                                                 "NEU": "neutral"}},
}


class ArabicDialectsOptions(StrictModel):
    prompt_language: Literal["ar", "en"] = Field("ar", description="language of the instruction and answers")
    shots: list[int] = Field(default_factory=lambda: [0, 3], min_length=1,
                             description="few-shot settings to run (0-3 MSA examples each)")
    astd_path: str | None = Field(None, description="ASTD's data/Tweets.txt (GPL-2.0, not shipped)")
    astd_per_class: int = Field(40, ge=1)
    score: Literal["per_byte", "sum"] = Field("per_byte", description="answer log-likelihood per byte or summed")

    @field_validator("shots")
    @classmethod
    def _shots_in_range(cls, shots: list[int]) -> list[int]:
        if any(k < 0 or k > 3 for k in shots) or len(set(shots)) != len(shots):
            raise ValueError(f"shots must be distinct numbers from 0 to 3, got {shots}")
        return shots


def read_astd(path: Path, per_class: int) -> list[dict[str, Any]]:
    """POS/NEG/NEUTRAL tweets of ASTD's Tweets.txt (`tweet<TAB>label`), `per_class` each, chosen by hash."""
    if not path.is_file():
        raise DataError(f"options.astd_path: {path} is not a file; point it at ASTD's data/Tweets.txt "
                        "or remove the option")
    rows: dict[str, list[dict[str, Any]]] = {label: [] for label in SENTIMENTS}
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        text, _, label = line.rpartition("\t")
        if not text:
            raise DataError(f"{path}:{number}: expected `tweet<TAB>label` (ASTD's data/Tweets.txt format)")
        if label.strip() in ASTD_LABELS:
            rows[ASTD_LABELS[label.strip()]].append({"id": f"astd-{number}", "text": text.strip(),
                                                     "dialect": "egypt_astd", "sentiment": ASTD_LABELS[label.strip()]})
    chosen = []
    for label in SENTIMENTS:
        chosen += sorted(rows[label], key=lambda r: hashlib.sha256(r["id"].encode()).hexdigest())[:per_class]
    return chosen


def prompt_for(text: str, language: str, shots: list[dict[str, Any]]) -> str:
    spec = PROMPTS[language]
    parts = [spec["instruction"], ""]
    for shot in shots:
        parts += [f"{spec['tweet']}: {shot['text']}", f"{spec['label']}: {spec['answers'][shot['sentiment']]}", ""]
    parts.append(f"{spec['tweet']}: {text}")
    return "\n".join(parts) + f"\n{spec['label']}:"


class ArabicDialects:
    name = "arabic_dialects"
    title = "Arabic dialect robustness: sentiment accuracy per dialect and the gap to MSA (ArSarcasm-v2)"
    category = "multilingual"
    method = "log-likelihood of three sentiment answers (zero-/few-shot); Wilson and Newcombe intervals"
    sources = (SOURCE, ASTD)
    strata = "dialect"
    needs = frozenset({MODEL})
    Options = ArabicDialectsOptions

    def __init__(self, options: ArabicDialectsOptions | None = None) -> None:
        self.options = options or ArabicDialectsOptions()

    def load(self, data_dir: Path) -> list[dict[str, Any]]:
        rows = read_jsonl(suite_file("arabic_dialects", "arsarcasm_v2_balanced.jsonl", data_dir),
                          required=("id", "text", "dialect", "sentiment"))
        examples = [{"id": r["id"], "text": r["text"], "dialect": r["dialect"], "sentiment": r["sentiment"],
                     "source": "arsarcasm_v2"} for r in rows]
        if self.options.astd_path:
            examples += [r | {"source": "astd"} for r in read_astd(Path(self.options.astd_path).expanduser(),
                                                                   self.options.astd_per_class)]
        else:
            print("arabic_dialects: ASTD cross-check skipped (GPL-2.0, not shipped); set "
                  "eval.options.arabic_dialects.astd_path to ASTD's data/Tweets.txt to add it", file=sys.stderr)
        return examples

    def run(self, examples: list[dict[str, Any]], context: Any) -> list[dict[str, Any]]:
        language = self.options.prompt_language
        answers = PROMPTS[language]["answers"]
        shots_pool = read_jsonl(suite_file("arabic_dialects", "fewshot_msa.jsonl", context.data_dir),
                                required=("text", "sentiment"))
        samples = []
        for k in self.options.shots:
            prompts = [prompt_for(e["text"], language, shots_pool[:k]) for e in examples]
            requests = [(p, f" {answers[s]}") for p in prompts for s in SENTIMENTS]
            results = context.policy.loglikelihood(requests)
            lengths = [len(f" {answers[s]}".encode()) for s in SENTIMENTS]
            for n, example in enumerate(examples):
                logliks = [results[3 * n + j].logprob for j in range(3)]
                scores = [ll / b for ll, b in zip(logliks, lengths, strict=True)] if self.options.score == "per_byte" \
                    else logliks
                predicted = SENTIMENTS[max(range(3), key=scores.__getitem__)]
                samples.append({"id": f"{example['id']}:{k}shot", "example_id": example["id"], "shots": k,
                                "prompt_language": language, "source": example["source"],
                                "dialect": example["dialect"], "text": example["text"],
                                "label": example["sentiment"], "logliks": dict(zip(SENTIMENTS, logliks, strict=True)),
                                "score": self.options.score, "prediction": predicted,
                                "correct": predicted == example["sentiment"]})
        return samples

    def metrics(self, samples: list[dict[str, Any]], stats: Stats) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        settings = sorted({int(s["shots"]) for s in samples})
        for k in settings:
            subset = [s for s in samples if int(s["shots"]) == k]
            accuracy = grouped_proportions(subset, "correct", "dialect", confidence=stats.confidence,
                                           description=f"sentiment accuracy, {k}-shot", where={"shots": k})
            gaps = {}
            if "msa" in accuracy:
                gaps = {dialect: difference(accuracy["msa"], metric, description=f"accuracy MSA minus {dialect}, "
                                            f"{k}-shot; > 0 = worse in {dialect}")
                        for dialect, metric in accuracy.items() if dialect != "msa"}
            out[f"largest_dialect_gap/{k}shot"] = largest(gaps, what=f"gap to MSA ({k}-shot)")
            out |= {f"accuracy/{k}shot/{d}": m for d, m in accuracy.items()}
            out |= {f"gap_to_msa/{k}shot/{d}": m for d, m in gaps.items()}
            out[f"accuracy/{k}shot"] = stats.mean(subset, "correct", description=f"sentiment accuracy, all "
                                                  f"dialects, {k}-shot (chance 1/3)", higher_is_better=True)
        if settings:
            headline = dict(out[f"largest_dialect_gap/{settings[0]}shot"])
            out = {"largest_dialect_gap": headline} | out
        return out
