"""Reward models on disk: the input format shared by training and scoring, loading, batched scoring, saving.

    rm = RewardModel.load("reward_models/tiny_bt")
    scores = rm.score(prompts, responses)          # RewardScores: reward (N,), attributes (N, A), std (N,)
    reward_fn = rm.reward_function()               # GRPO/PPO style: reward_fn(prompts, completions) -> list[float]

A saved reward model folder (`alignlab rm train` writes it atomically):

    config.json, model.safetensors, tokenizer files    a plain transformers sequence classifier
    alignlab_rm.json                                   kind, attributes and weights, input format, data hash
    README.md                                          model card with the evaluation metrics
    members/<i>/                                       ensembles only: one sequence classifier per member

**One input format.** `InputFormat.encode` is the only function that turns a (prompt, response) into token
ids, in training and in scoring, so a response gets at inference exactly the score it got in training:
- `chat`: prompt (a string becomes one user message) + response as assistant messages through the
  tokenizer's chat template, exactly as TRL's RewardTrainer tokenizes conversational data;
- `plain`: prompt + response text with the eos token appended when missing, tokenized with the tokenizer's
  special tokens (bos), exactly as TRL tokenizes standard data. (TRL's GRPO scores completions without the
  eos its RewardTrainer appended; scoring through this class cannot drop it.)
Inputs longer than `max_length` lose the start of the prompt (the first token, bos, is kept), never the end of
the response, whose last token is where a sequence classifier reads the reward.

Multi-attribute models output one value per attribute on targets scaled to [-1, 1]; `scores.attributes` maps
them back to the rating scale and the scalar reward is the weighted sum of the scaled outputs.

torch and transformers are imported inside the functions.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from alignlab.data.prompts import plain_prompt, plain_response
from alignlab.data.records import as_messages
from alignlab.errors import ModelLoadError

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

CARD_NAME = "alignlab_rm.json"
FORMAT_VERSION = 1
STYLES = ("chat", "plain")
TINY_PREFIX = "tiny:"


@dataclass(frozen=True)
class InputFormat:
    """How a (prompt, response) becomes token ids; stored in `alignlab_rm.json` and reused for scoring."""

    style: str  # "chat" | "plain"
    max_length: int
    eos_token: str | None = None
    chat_template_sha256: str | None = None

    @classmethod
    def for_tokenizer(cls, tokenizer: PreTrainedTokenizerBase, chat_template: str, max_length: int) -> InputFormat:
        """Resolve `rm.chat_template` (auto | always | never, `alignlab.data.prompts`) against a tokenizer."""
        from alignlab.data.prompts import use_chat_template

        style = "chat" if use_chat_template(tokenizer, chat_template, key="rm.chat_template") else "plain"
        digest = hashlib.sha256(tokenizer.chat_template.encode()).hexdigest() if style == "chat" else None
        return cls(style=style, max_length=max_length, eos_token=tokenizer.eos_token, chat_template_sha256=digest)

    def texts(self, tokenizer: PreTrainedTokenizerBase, prompts: Sequence[Any], responses: Sequence[Any]) -> list[str]:
        """The exact text each pair is tokenized from (chat: rendered template; plain: prompt + response + eos)."""
        if self.style == "chat":
            conversations = [as_messages(p, "user") + as_messages(r, "assistant")
                             for p, r in zip(prompts, responses, strict=True)]
            return list(tokenizer.apply_chat_template(conversations, tokenize=False))
        eos = self.eos_token or ""
        texts = []
        for prompt, response in zip(prompts, responses, strict=True):
            text = _plain_prompt(prompt) + _plain_response(response)
            texts.append(text if text.endswith(eos) else text + eos)
        return texts

    def encode(self, tokenizer: PreTrainedTokenizerBase, prompts: Sequence[Any],
               responses: Sequence[Any]) -> list[list[int]]:
        """Token ids of each (prompt, response), truncated on the left to `max_length` (bos kept)."""
        texts = self.texts(tokenizer, prompts, responses)
        # Chat templates write their own special tokens (apply_chat_template(tokenize=True) does the same).
        # verbose=False: no "longer than the maximum" warning; truncation happens just below.
        ids = tokenizer(texts, add_special_tokens=self.style == "plain", verbose=False)["input_ids"]
        return [truncate_left(row, self.max_length, tokenizer.bos_token_id) for row in ids]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "truncation": "left: the start of the prompt is dropped, bos and the response kept"}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InputFormat:
        return cls(**{key: data.get(key) for key in ("style", "max_length", "eos_token", "chat_template_sha256")})


def _plain_prompt(prompt: Any) -> str:
    return plain_prompt(prompt)


def _plain_response(response: Any) -> str:
    return plain_response(response)


def truncate_left(ids: list[int], max_length: int, bos_id: int | None) -> list[int]:
    if len(ids) <= max_length:
        return list(ids)
    if bos_id is not None and ids and ids[0] == bos_id:
        return [ids[0], *ids[len(ids) - max_length + 1:]]
    return list(ids[-max_length:])


def shared_prefix_length(first: Sequence[int], second: Sequence[int]) -> int:
    """How many leading tokens two sequences share, leaving each at least its own last token."""
    limit = min(len(first), len(second)) - 1
    length = 0
    while length < limit and first[length] == second[length]:
        length += 1
    return max(length, 0)


def pad_right(sequences: Sequence[Sequence[int]], pad_id: int) -> tuple[Any, Any]:
    """(input_ids, attention_mask), (B, T) right-padded: what training batches and scoring batches both use."""
    import torch

    width = max(len(s) for s in sequences)
    input_ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, seq in enumerate(sequences):
        input_ids[row, : len(seq)] = torch.as_tensor(seq, dtype=torch.long)
        attention_mask[row, : len(seq)] = 1
    return input_ids, attention_mask


@dataclass
class RewardScores:
    """Scores of N responses: `reward` (N,), `attributes` (N, A) in rating units or None, `std` (N,) the
    ensemble spread or None, `members` (K, N) per-member rewards or None."""

    reward: np.ndarray
    attributes: np.ndarray | None = None
    attribute_names: tuple[str, ...] = ()
    std: np.ndarray | None = None
    members: np.ndarray | None = None


class RewardModel:
    """A trained reward model (one sequence classifier, or K ensemble members) with its tokenizer and card."""

    def __init__(self, members: list[PreTrainedModel], tokenizer: PreTrainedTokenizerBase, card: dict[str, Any],
                 path: Path | None = None) -> None:
        self.members = members
        self.tokenizer = tokenizer
        self.card = card
        self.path = path
        self.format = InputFormat.from_dict(card["input"])
        self.kind = card.get("kind", "bradley_terry")
        self.attributes = tuple(card.get("attributes") or ())
        self.weights = np.asarray([card.get("attribute_weights", {}).get(a, 0.0) for a in self.attributes])
        self.scale = tuple(card.get("scale") or (0, 4))

    @classmethod
    def load(cls, path: str | os.PathLike, *, device: str | None = None, dtype: str = "auto") -> RewardModel:
        """Load a folder written by `alignlab rm train`, or any sequence classifier folder (then the input
        format is guessed: the chat template when the tokenizer has one)."""
        from alignlab.models.loading import load_reward_model, load_tokenizer

        folder = Path(path)
        card = read_card(folder)
        labels = check_reward_folder(folder)
        tokenizer = load_tokenizer(folder)
        if card is None:
            card = {"kind": "bradley_terry" if len(labels) == 1 else "multi_attribute",
                    "input": InputFormat.for_tokenizer(tokenizer, "auto", tokenizer.model_max_length
                                                       if tokenizer.model_max_length < 1e6 else 1024).to_dict()}
            if len(labels) > 1:
                card["attributes"] = labels
                card["attribute_weights"] = {name: 1.0 / len(labels) for name in labels}
        members = []
        for relative in card.get("members", ["."]):
            member_dir = folder / relative
            labels = check_sequence_classifier(member_dir)
            model = load_reward_model(member_dir, num_labels=len(labels), dtype=dtype,
                                      pad_token_id=tokenizer.pad_token_id)
            members.append(model.to(device or default_device()).eval())
        return cls(members, tokenizer, card, folder)

    def encode(self, prompts: Sequence[Any], responses: Sequence[Any]) -> list[list[int]]:
        return self.format.encode(self.tokenizer, prompts, responses)

    def score(self, prompts: Sequence[Any], responses: Sequence[Any], *, batch_size: int = 16) -> RewardScores:
        """Score N (prompt, response) pairs, in batches of similar length (results come back in input order)."""
        return self.score_ids(self.encode(prompts, responses), batch_size=batch_size)

    def score_ids(self, ids: Sequence[Sequence[int]], *, batch_size: int = 16) -> RewardScores:
        outputs = np.stack([raw_outputs(m, ids, self.tokenizer.pad_token_id, batch_size) for m in self.members])
        return self._combine(outputs)  # outputs: (K, N, L)

    def _combine(self, outputs: np.ndarray) -> RewardScores:
        if self.attributes:
            member_rewards = outputs @ self.weights  # (K, N)
            low, high = self.scale
            attributes = low + (outputs.mean(axis=0) + 1.0) / 2.0 * (high - low)  # (N, A) in rating units
        else:
            member_rewards, attributes = outputs[..., 0], None
        ensemble = len(self.members) > 1
        return RewardScores(
            reward=member_rewards.mean(axis=0),
            attributes=attributes,
            attribute_names=self.attributes,
            # The spread is the ensemble's uncertainty (Coste et al. 2024 use mean and spread against reward
            # hacking; a high spread also marks a pair worth sending to annotators).
            std=member_rewards.std(axis=0) if ensemble else None,
            members=member_rewards if ensemble else None,
        )

    def reward_function(self, *, batch_size: int = 16) -> Callable[..., list[float]]:
        """`f(prompts, completions, **_) -> list[float]`, the signature TRL's GRPO reward functions take,
        scoring through the training format (eos included)."""

        def reward(prompts: Sequence[Any], completions: Sequence[Any], **_: Any) -> list[float]:
            return self.score(prompts, completions, batch_size=batch_size).reward.tolist()

        reward.__name__ = f"reward_model_{self.path.name if self.path else 'rm'}"
        return reward


def default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def raw_outputs(model: PreTrainedModel, ids: Sequence[Sequence[int]], pad_id: int, batch_size: int) -> np.ndarray:
    """Model outputs (N, num_labels) for token id lists, run in length-sorted batches, in input order."""
    import torch

    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    result = np.zeros((len(ids), model.config.num_labels), dtype=np.float64)
    device = next(model.parameters()).device
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            chunk = order[start:start + batch_size]
            input_ids, attention_mask = pad_right([ids[i] for i in chunk], pad_id)
            logits = model(input_ids=input_ids.to(device), attention_mask=attention_mask.to(device),
                           use_cache=False).logits
            result[chunk] = logits.float().cpu().numpy()
    return result


def read_card(folder: Path) -> dict[str, Any] | None:
    path = folder / CARD_NAME
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def check_reward_folder(folder: str | os.PathLike) -> list[str]:
    """The output labels of a reward model folder (its first member for an ensemble); a one-line error when
    the folder holds no sequence classifier. Cheap: reads JSON files only."""
    card = read_card(Path(folder)) or {}
    return check_sequence_classifier(Path(folder) / card.get("members", ["."])[0])


def check_sequence_classifier(folder: str | os.PathLike) -> list[str]:
    """The output labels of `folder`, if it holds a trained sequence classifier; else a one-line error."""
    from alignlab.models.loading import load_model_config

    local = Path(folder) / "config.json"
    if local.is_file():  # read the file itself: refusing a wrong folder needs no transformers import
        config = json.loads(local.read_text(encoding="utf-8"))
        architectures, model_type = config.get("architectures") or [], config.get("model_type")
        id2label = config.get("id2label") or {"0": "LABEL_0"}
    else:
        config = load_model_config(folder)
        architectures, model_type = getattr(config, "architectures", None) or [], config.model_type
        id2label = config.id2label
    if not any(name.endswith("ForSequenceClassification") for name in architectures):
        what = ", ".join(architectures) or f"model_type {model_type}"
        raise ModelLoadError(f"{folder}: not a sequence classifier ({what}), so it has no trained reward head; "
                             "pass a folder written by `alignlab rm train`, or train one from this model")
    return [id2label[key] for key in sorted(id2label, key=int)]


def check_can_classify(name_or_path: str, config: Any) -> None:
    """A base model for training must have a sequence-classification class (a causal LM gets a new head)."""
    from transformers.models.auto.modeling_auto import MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES

    if config.model_type not in MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES:
        raise ModelLoadError(f"{name_or_path}: model_type {config.model_type!r} has no sequence-classification "
                             "head in transformers, so it cannot become a reward model; choose a decoder such as "
                             "Llama, Qwen2 or Mistral")


def load_for_training(name_or_path: str, *, num_labels: int, seed: int, pad_token_id: int | None,
                      dtype: str = "auto", revision: str | None = None, trust_remote_code: bool = False) -> Any:
    """The model a reward model starts from, with `num_labels` outputs. A causal LM (or a classifier with a
    different number of outputs) gets a new score head drawn from `seed`, so ensemble members differ."""
    from alignlab.models.loading import load_model_config

    config = load_model_config(name_or_path, revision=revision, trust_remote_code=trust_remote_code)
    with _quiet_loading_report():  # the new head is expected: no MISSING/UNEXPECTED table
        return _load_with_head(name_or_path, config, num_labels=num_labels, seed=seed, pad_token_id=pad_token_id,
                               dtype=dtype, revision=revision, trust_remote_code=trust_remote_code)


@contextmanager
def _quiet_loading_report() -> Iterator[None]:
    from transformers.utils import logging as hf_logging

    previous = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(previous)


def _load_with_head(name_or_path: str, config: Any, *, num_labels: int, seed: int, pad_token_id: int | None,
                    dtype: str, revision: str | None, trust_remote_code: bool) -> Any:
    from alignlab.models.loading import load_reward_model

    saved_labels = config.num_labels if any(a.endswith("ForSequenceClassification")
                                            for a in (config.architectures or [])) else None
    if saved_labels is None or saved_labels == num_labels:
        return load_reward_model(name_or_path, num_labels=num_labels, seed=seed, dtype=dtype, revision=revision,
                                 pad_token_id=pad_token_id, trust_remote_code=trust_remote_code)
    from transformers import AutoModelForSequenceClassification

    from alignlab.models._rng import seeded_torch
    from alignlab.models.loading import _torch_dtype

    config.num_labels = num_labels
    config.pad_token_id = pad_token_id
    with seeded_torch(seed):  # the old head does not fit: replace it with a new one
        return AutoModelForSequenceClassification.from_pretrained(
            name_or_path, config=config, revision=revision, trust_remote_code=trust_remote_code,
            dtype=_torch_dtype(dtype), use_safetensors=True, ignore_mismatched_sizes=True)


def resolve_base_model(name: str, cache_dir: str | os.PathLike, *, seed: int = 0) -> str:
    """`tiny:<size>` -> a tiny offline model built once under `cache_dir` (its policy: the reward model
    starts from the policy, as in InstructGPT, with a new head per seed); anything else unchanged. Lets a
    shipped config name a model that exists on every machine."""
    if not name.startswith(TINY_PREFIX):
        return name
    from alignlab.models.tiny import MANIFEST_NAME, TINY_SIZES, build_tiny_models

    size = TINY_SIZES.check(name[len(TINY_PREFIX):])
    out = Path(cache_dir) / f"{size}-seed{seed}"
    if not (out / MANIFEST_NAME).is_file():
        build_tiny_models(out, size=size, seed=seed, overwrite=True)
    return str(out / "policy")
