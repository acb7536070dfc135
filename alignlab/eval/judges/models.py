"""Judges: a reward model that scores conversations, or a causal LM that is asked, through the rollout engine.

    kind = model_kind("runs/rm/final")         # "reward_model", "classifier", "causal_lm" or "unknown"
    judge = RewardModelJudge.load("runs/rm/final")
    judge.score([[{"role": "user", "content": q}, {"role": "assistant", "content": a}]])   # -> [float]
    lm_judge = LMJudge(LanguageModel.load("judge-model"), max_new_tokens=256)
    lm_judge.compare(questions, answers_a, answers_b)     # -> ["A" | "B" | "tie" | "invalid", ...]

The kind comes from the checkpoint's `config.json` (`architectures`, `num_labels`) or an `alignlab_rm.json` card,
read without loading weights, so a judge of the wrong kind is refused before anything runs. A reward model is
loaded with `alignlab.models.reward.RewardModel` (the input format it was trained with, ensembles,
multi-attribute heads); without that module, a plain sequence classifier scores the conversation formatted by
its tokenizer's chat template (a `User:`/`Assistant:` transcript where it has none), reading the single logit
at the last non-pad token, texts longer than the context keeping their end (the answer).

The LM judge uses Arena-Hard's judge prompt and five verdicts for `compare_arena` (see `openai.py`), and
MT-Bench's judge prompts (Zheng et al. 2023, shipped in eval_data/mt_bench/judge_prompts.jsonl):
`pair-v2` for pairwise verdicts (`[[A]]`, `[[B]]`, `[[C]]` for a tie) and `single-v1` for a 1-10 rating
(`[[rating]]`). An answer with no parsable verdict is "invalid" (a rating of None) and is reported as such.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from alignlab.backends.rollout import SamplingParams
from alignlab.eval.data import read_jsonl, suite_file
from alignlab.eval.lm import LanguageModel, Messages, plain_transcript

REWARD_MODEL, CLASSIFIER, CAUSAL_LM, UNKNOWN = "reward_model", "classifier", "causal_lm", "unknown"
_VERDICT = re.compile(r"\[\[(A|B|C)\]\]")
_RATING = re.compile(r"\[\[(\d+(?:\.\d+)?)\]\]")


def model_kind(name_or_path: str, *, revision: str | None = None, trust_remote_code: bool = False) -> str:
    """What a checkpoint is, from its config alone."""
    from alignlab.models import load_model_config

    if (Path(name_or_path) / "alignlab_rm.json").is_file():  # `alignlab rm train` output, ensembles included
        return REWARD_MODEL
    config = load_model_config(name_or_path, revision=revision, trust_remote_code=trust_remote_code)
    architectures = list(getattr(config, "architectures", None) or [])
    if any(a.endswith("ForSequenceClassification") for a in architectures):
        return REWARD_MODEL if getattr(config, "num_labels", 2) == 1 else CLASSIFIER
    if any(a.endswith(("ForCausalLM", "LMHeadModel", "ForConditionalGeneration")) for a in architectures):
        return CAUSAL_LM
    return UNKNOWN


def conversation_text(tokenizer: Any, messages: Messages) -> str:
    """A whole conversation (ending with the assistant's answer) as the scorer's input text."""
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(messages, tokenize=False)
    return plain_transcript(messages).removesuffix("\n\nAssistant:")


def encode_texts(tokenizer: Any, texts: Sequence[str], max_length: int) -> list[list[int]]:
    """Token ids, adding special tokens only to texts that do not already start with bos; left-truncated."""
    bos = tokenizer.bos_token or None
    out = []
    for text in texts:
        ids = tokenizer(text, add_special_tokens=not (bos and text.startswith(bos)), verbose=False)["input_ids"]
        out.append(list(ids)[-max_length:])
    return out


class RewardModelJudge:
    """Scores conversations (ending with the answer to judge) with a reward model: one number each."""

    kind = REWARD_MODEL

    def __init__(self, scorer: Callable[[Sequence[Messages]], list[float]], *, name: str) -> None:
        self._scorer = scorer
        self.name = name

    @classmethod
    def load(cls, name_or_path: str, *, revision: str | None = None, trust_remote_code: bool = False,
             dtype: str = "auto", device: str = "cpu", batch_size: int = 16) -> RewardModelJudge:
        """Through `alignlab.models.reward.RewardModel` (the training input format, ensembles, multi-attribute
        heads) when that module is installed, else a plain transformers sequence classifier."""
        try:
            from alignlab.models.reward import RewardModel
        except ImportError:
            RewardModel = None  # noqa: N806 - an optional class
        if RewardModel is not None and Path(name_or_path).is_dir():
            model = RewardModel.load(name_or_path, device=device, dtype=dtype)

            def score_with_card(conversations: Sequence[Messages]) -> list[float]:
                prompts = [list(c[:-1]) for c in conversations]
                answers = [c[-1]["content"] for c in conversations]
                return [float(x) for x in model.score(prompts, answers, batch_size=batch_size).reward]

            return cls(score_with_card, name=str(name_or_path))
        from alignlab.models import load_reward_model, load_tokenizer

        tokenizer = load_tokenizer(name_or_path, revision=revision, trust_remote_code=trust_remote_code)
        network = load_reward_model(name_or_path, revision=revision, trust_remote_code=trust_remote_code,
                                    dtype=dtype, pad_token_id=tokenizer.pad_token_id).to(device).eval()
        max_length = getattr(network.config, "max_position_embeddings", None) or 2048

        def score_plain(conversations: Sequence[Messages]) -> list[float]:
            texts = [conversation_text(tokenizer, c) for c in conversations]
            return [row[0] for row in classifier_logits(network, encode_texts(tokenizer, texts, max_length),
                                                        batch_size)]

        return cls(score_plain, name=str(name_or_path))

    def score(self, conversations: Sequence[Messages]) -> list[float]:
        """One score per conversation."""
        return self._scorer(conversations) if conversations else []


def classifier_logits(model: Any, encoded: list[list[int]], batch_size: int) -> list[list[float]]:
    """Logits of a sequence classifier per token-id row; length-sorted, right-padded batches."""
    import torch

    order = sorted(range(len(encoded)), key=lambda i: -len(encoded[i]))
    out: list[list[float]] = [[] for _ in encoded]
    pad = model.config.pad_token_id if model.config.pad_token_id is not None else 0
    for start in range(0, len(order), batch_size):
        batch = order[start:start + batch_size]
        width = max(len(encoded[i]) for i in batch)
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, index in enumerate(batch):
            ids[row, : len(encoded[index])] = torch.tensor(encoded[index])
            mask[row, : len(encoded[index])] = 1
        with torch.inference_mode():
            logits = model(input_ids=ids.to(model.device), attention_mask=mask.to(model.device)).logits
        for row, index in enumerate(batch):
            out[index] = [float(x) for x in logits[row]]
    return out


@cache
def _judge_prompts() -> dict[str, dict[str, str]]:
    return {row["name"]: row for row in read_jsonl(suite_file("mt_bench", "judge_prompts.jsonl"))}


def parse_verdict(text: str) -> str:
    """The last `[[A]]`/`[[B]]`/`[[C]]` in a judge's answer: "A", "B", "tie", or "invalid"."""
    found = _VERDICT.findall(text)
    if not found:
        return "invalid"
    return {"A": "A", "B": "B", "C": "tie"}[found[-1]]


def parse_rating(text: str) -> float | None:
    found = _RATING.findall(text)
    return float(found[-1]) if found else None


class LMJudge:
    """A causal LM asked for verdicts with MT-Bench's judge prompts, through its rollout engine (greedy)."""

    kind = CAUSAL_LM

    def __init__(self, lm: LanguageModel, *, max_new_tokens: int = 256) -> None:
        self.lm = lm
        self.name = lm.name
        self.sampling = SamplingParams(max_new_tokens=max_new_tokens, temperature=0.0)

    def _ask(self, system: str, user_texts: list[str]) -> list[str]:
        conversations = [[{"role": "system", "content": system}, {"role": "user", "content": text}]
                         for text in user_texts]
        return [c.text for c in self.lm.generate(self.lm.chat_prompts(conversations), self.sampling)]

    def compare(self, questions: Sequence[str], answers_a: Sequence[str], answers_b: Sequence[str]) -> list[str]:
        spec = _judge_prompts()["pair-v2"]
        texts = [spec["prompt_template"].format(question=q, answer_a=a, answer_b=b)
                 for q, a, b in zip(questions, answers_a, answers_b, strict=True)]
        return [parse_verdict(reply) for reply in self._ask(spec["system_prompt"], texts)]

    def compare_arena(self, questions: Sequence[str], answers_a: Sequence[str],
                      answers_b: Sequence[str]) -> list[str]:
        """Arena-Hard's judge prompt and five verdicts (`A>>B` ... `B>>A`, or "invalid")."""
        from alignlab.eval.judges.openai import ARENA_SYSTEM, ARENA_USER, parse_arena_verdict

        texts = [ARENA_USER.format(question=q, answer_a=a, answer_b=b)
                 for q, a, b in zip(questions, answers_a, answers_b, strict=True)]
        return [parse_arena_verdict(reply) for reply in self._ask(ARENA_SYSTEM, texts)]

    def rate(self, questions: Sequence[str], answers: Sequence[str]) -> list[float | None]:
        """1-10 rating of single answers (MT-Bench `single-v1`); None where the judge gave none."""
        spec = _judge_prompts()["single-v1"]
        texts = [spec["prompt_template"].format(question=q, answer=a) for q, a in zip(questions, answers, strict=True)]
        return [parse_rating(reply) for reply in self._ask(spec["system_prompt"], texts)]

    def rate_second_turn(self, conversations: Sequence[tuple[str, str, str, str]]) -> list[float | None]:
        """1-10 rating of the second answer of (question 1, answer 1, question 2, answer 2) conversations
        (MT-Bench `single-v1-multi-turn`: the judge is told to rate the second turn only)."""
        spec = _judge_prompts()["single-v1-multi-turn"]
        texts = [spec["prompt_template"].format(question_1=q1, answer_1=a1, question_2=q2, answer_2=a2)
                 for q1, a1, q2, a2 in conversations]
        return [parse_rating(reply) for reply in self._ask(spec["system_prompt"], texts)]


class ClassifierJudge:
    """A sequence classifier with named labels (e.g. a refusal detector with labels NORMAL / REJECTION)."""

    kind = CLASSIFIER

    def __init__(self, model: Any, tokenizer: Any, *, name: str, batch_size: int = 16) -> None:
        self.model, self.tokenizer, self.name, self.batch_size = model, tokenizer, name, batch_size
        self.labels = [str(model.config.id2label[i]) for i in range(model.config.num_labels)]
        self.max_length = getattr(model.config, "max_position_embeddings", None) or 512

    @classmethod
    def load(cls, name_or_path: str, *, revision: str | None = None, trust_remote_code: bool = False,
             dtype: str = "auto", device: str = "cpu", batch_size: int = 16) -> ClassifierJudge:
        from alignlab.models import load_model_config, load_reward_model, load_tokenizer

        config = load_model_config(name_or_path, revision=revision, trust_remote_code=trust_remote_code)
        tokenizer = load_tokenizer(name_or_path, revision=revision, trust_remote_code=trust_remote_code)
        model = load_reward_model(name_or_path, num_labels=config.num_labels, revision=revision,
                                  trust_remote_code=trust_remote_code, dtype=dtype, pad_token_id=tokenizer.pad_token_id)
        return cls(model.to(device).eval(), tokenizer, name=str(name_or_path), batch_size=batch_size)

    def predict(self, texts: Sequence[str]) -> list[int]:
        """The argmax label index of each text."""
        rows = classifier_logits(self.model, encode_texts(self.tokenizer, texts, self.max_length), self.batch_size)
        return [max(range(len(row)), key=row.__getitem__) for row in rows]
