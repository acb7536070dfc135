"""Configs of the lifecycle backends: `alignlab train pretrain | cpt | sft | external`.

- `PretrainConfig`: a causal LM trained from random weights on raw text packed into blocks. The architecture
  (and tokenizer) come from `model.tiny` (a tiny Llama-style model whose byte-level BPE tokenizer is trained on
  the corpus itself) or from `model.name_or_path` (its config and tokenizer; its weights are not used).
- `CPTConfig`: continued pretraining, the same training on raw text starting from `model.name_or_path`'s
  weights.
- `SFTConfig`: supervised fine-tuning / instruction tuning on chat (`messages`) or prompt/completion rows
  with TRL's SFTTrainer, the tokenizer's chat template and the loss on assistant tokens only.
- `ExternalConfig`: another framework's command line; alignlab runs it and picks up the checkpoint it writes.

Each config has the usual `run` section; training configs share `TrainSection` (lr, batch_size, epochs or
max_steps, logging_steps, save_steps) with every other trainer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from alignlab.config.base import DType, RunSection, StrictModel, TrainSection
from alignlab.config.dpo import LoraSection
from alignlab.config.schemas import TinyShape


def _invalid(message: str) -> PydanticCustomError:
    """A validation error printed as is (no "Value error, " prefix)."""
    return PydanticCustomError("alignlab", message.replace("{", "{{").replace("}", "}}"))


class TinyInitSection(TinyShape):
    """A tiny Llama-style model built from scratch (`alignlab.config.schemas.TinyShape`); its tokenizer is
    trained on the pretraining corpus."""


class PretrainModelSection(StrictModel):
    """Exactly one of `tiny` (build from scratch) or `name_or_path` (take its architecture and tokenizer)."""

    name_or_path: str | None = Field(None, min_length=1, description="Hub id or local folder whose config and "
                                     "tokenizer are used; the weights are initialised at random.")
    tiny: TinyInitSection | None = None
    revision: str | None = None
    trust_remote_code: bool = Field(False, description="Run code shipped with the model (off by default).")
    dtype: DType = "auto"

    @model_validator(mode="after")
    def _one_source(self) -> PretrainModelSection:
        if (self.name_or_path is None) == (self.tiny is None):
            raise _invalid("give exactly one of model.tiny (e.g. {size: nano}) or model.name_or_path (a model "
                           "whose architecture and tokenizer to pretrain from scratch)")
        return self


class CPTModelSection(StrictModel):
    name_or_path: str = Field(..., min_length=1, description="Hub id or local folder to continue training.")
    revision: str | None = None
    trust_remote_code: bool = Field(False, description="Run code shipped with the model (off by default).")
    dtype: DType = "auto"


class TextDataSection(StrictModel):
    """Raw text, tokenized, joined (every document ends with eos) and cut into blocks of `block_size` tokens."""

    paths: list[str] = Field(default_factory=list, description="Text files (.txt), JSONL files of {text: ...} "
                             "rows, or globs of them. Empty: the shipped TinyStories excerpt.")
    text_field: str = Field("text", min_length=1, description="The field holding the text in JSONL rows.")
    documents: Literal["file", "paragraph", "line"] = Field(
        "paragraph", description="How a .txt file splits into documents, each followed by eos: the whole file, "
        "blank-line separated paragraphs, or lines. A JSONL row is always one document.")
    block_size: int = Field(128, ge=8, description="Tokens per training block; at most the model's context.")
    eval_paths: list[str] = Field(default_factory=list, description="Held-out text (default: test_size of the "
                                  "blocks, taken from the end of the token stream).")
    test_size: float = Field(0.05, ge=0.0, lt=1.0, description="Held-out share of blocks when no eval_paths.")
    max_tokens: int | None = Field(None, ge=8, description="Use only the first N tokens of the corpus.")

    @field_validator("paths", "eval_paths", mode="before")
    @classmethod
    def _one_or_many(cls, value):
        return [value] if isinstance(value, str) else value


class ChatDataSection(StrictModel):
    """Instruction / chat data: JSONL rows with `messages` (role/content turns) or `prompt` + `completion`
    (strings or message lists), or a `synthetic:<rule>?n=..&seed=..` spec (prompts from alignlab.data.synthetic with
    both responses of every pair as completions: the format, no preference)."""

    path: str = Field(..., min_length=1, description="JSONL file (.jsonl, .jsonl.gz, .json) or synthetic: spec.")
    eval_path: str | None = Field(None, description="Held-out file; default: test_size of data.path.")
    test_size: float = Field(0.1, ge=0.0, lt=1.0, description="Held-out share when no eval_path.")
    max_length: int = Field(512, ge=8, description="Longest tokenized example; longer ones are cut at the end.")
    max_examples: int | None = Field(None, ge=1, description="Use only the first N training examples.")
    loss_on: Literal["assistant", "all"] = Field(
        "assistant", description="assistant: loss on assistant tokens only (every assistant turn when the chat "
        "template marks them with {% generation %}, else the last turn as the completion); all: every token.")
    packing: bool = Field(False, description="Pack examples into rows of max_length (fewer pad tokens).")


class SFTModelSection(CPTModelSection):
    """The model to fine-tune (e.g. a `train pretrain` run's `model/` folder)."""


class PretrainConfig(StrictModel):
    """Causal-LM pretraining from random weights on raw text (`alignlab train pretrain`)."""

    run: RunSection = Field(default_factory=lambda: RunSection(name="pretrain"))
    model: PretrainModelSection
    data: TextDataSection = Field(default_factory=TextDataSection)
    train: TrainSection = Field(default_factory=lambda: TrainSection(lr=1e-3))


class CPTConfig(StrictModel):
    """Continued pretraining of an existing causal LM on raw text (`alignlab train cpt`)."""

    run: RunSection = Field(default_factory=lambda: RunSection(name="cpt"))
    model: CPTModelSection
    data: TextDataSection = Field(default_factory=TextDataSection)
    train: TrainSection = Field(default_factory=lambda: TrainSection(lr=1e-4))
    lora: LoraSection | None = None


class SFTConfig(StrictModel):
    """Supervised fine-tuning / instruction tuning with TRL's SFTTrainer (`alignlab train sft`)."""

    run: RunSection = Field(default_factory=lambda: RunSection(name="sft"))
    model: SFTModelSection
    data: ChatDataSection
    train: TrainSection = Field(default_factory=lambda: TrainSection(lr=2e-5))
    lora: LoraSection | None = None


class ExternalConfig(StrictModel):
    """Another framework's command (`alignlab train external`): alignlab runs it, streams its log into the run
    directory and picks up the checkpoint it writes.

    Placeholders in `command` (a list of arguments, or one string split like a shell would, without a shell):
    {output_dir} (default `<run>/output`), {model}, {data}, {python} (this Python), {run_dir}.
    """

    run: RunSection = Field(default_factory=lambda: RunSection(name="external"))
    command: list[str] | str = Field(..., description="The command and its arguments.")
    model: str | None = Field(None, description="Substituted for {model}, e.g. the model to start from.")
    data: str | None = Field(None, description="Substituted for {data}.")
    output_dir: Path | None = Field(None, description="Where the command writes; default <run>/output.")
    checkpoint: str | None = Field(None, description="Glob (relative to output_dir) of the checkpoint folder; "
                                   "default: the newest folder holding a config.json under output_dir.")
    cwd: Path | None = Field(None, description="Working folder of the command (default: the current one).")
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment variables.")
    timeout_s: float | None = Field(None, gt=0, description="Stop the command after this many seconds.")

    @field_validator("command")
    @classmethod
    def _not_empty(cls, value: list[str] | str) -> list[str] | str:
        if (isinstance(value, str) and not value.strip()) or (isinstance(value, list) and not value):
            raise _invalid("command is empty; give the program and its arguments, e.g. [python, train.py, "
                           "--out, '{output_dir}']")
        return value
