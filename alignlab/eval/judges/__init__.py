"""Judges: one registry and one interface for every model that judges a response, plus the run's `--judge` models.

    from alignlab.eval.judges import get_judge, list_judges
    judge = get_judge("refusal")                      # trained here, shipped in eval_data/judges/
    judge.judge(prompts, responses)                   # -> [JudgeResult(label, score)]
    judge.card                                        # name, description, labels, measured accuracy and where

| name            | task     | what                                                              | module         |
|-----------------|----------|-------------------------------------------------------------------|----------------|
| `refusal`       | refusal  | trained n-gram classifier, XSTest's three classes, any language   | trained.py     |
| `toxicity`      | toxicity | trained n-gram classifier, English + Arabic, P(toxic)             | trained.py     |
| `string_match`  | refusal  | the phrase-list detector (the baseline)                           | string_match.py|
| `harmbench_cls` | harm     | cais/HarmBench-Llama-2-13b-cls                                    | hub.py         |
| `llama_guard`   | harm     | meta-llama/Llama-Guard-3-1B / -8B                                 | hub.py         |
| `wildguard`     | harm     | allenai/wildguard                                                 | hub.py         |
| `openai`        | refusal  | any OpenAI-compatible endpoint; also Arena-Hard pairwise verdicts | openai.py      |

`base.py` holds the interface, labels and registry; `linear.py` the array-stored text classifier the trained
judges use. `models.py` holds the older model-backed judges a run's `--judge` loads (reward model, causal-LM
judge with MT-Bench prompts, sequence classifier); they are re-exported here unchanged.
"""

from alignlab.eval.judges.base import (
    FULL_COMPLIANCE,
    FULL_REFUSAL,
    JUDGES,
    NON_TOXIC,
    PARTIAL_REFUSAL,
    REFUSAL_LABELS,
    SAFE,
    TOXIC,
    UNSAFE,
    Judge,
    JudgeResult,
    get_judge,
    list_judges,
)
from alignlab.eval.judges.models import (
    CAUSAL_LM,
    CLASSIFIER,
    REWARD_MODEL,
    UNKNOWN,
    ClassifierJudge,
    LMJudge,
    RewardModelJudge,
    classifier_logits,
    conversation_text,
    encode_texts,
    model_kind,
    parse_rating,
    parse_verdict,
)

__all__ = [
    "CAUSAL_LM", "CLASSIFIER", "FULL_COMPLIANCE", "FULL_REFUSAL", "JUDGES", "NON_TOXIC", "PARTIAL_REFUSAL",
    "REFUSAL_LABELS", "REWARD_MODEL", "SAFE", "TOXIC", "UNKNOWN", "UNSAFE", "ClassifierJudge", "Judge",
    "JudgeResult", "LMJudge", "RewardModelJudge", "classifier_logits", "conversation_text", "encode_texts",
    "get_judge", "list_judges", "model_kind", "parse_rating", "parse_verdict",
]
