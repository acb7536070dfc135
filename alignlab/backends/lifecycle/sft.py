"""`sft` backend: supervised fine-tuning / instruction tuning on TRL's SFTTrainer.

The tokenizer's chat template formats every conversation; the loss falls on assistant tokens only
(`chat_data.trl_rows` picks TRL's `assistant_only_loss` or `completion_only_loss` for the template), so the
model learns to answer, not to imitate the user. Held-out loss is measured the same way (assistant tokens).
An optional LoRA adapter is merged into the saved model, so the next stage loads a plain causal LM.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alignlab.backends.lifecycle.base import Echo, default_threads, train_and_save
from alignlab.backends.lifecycle.chat_data import (
    check_chat_template,
    read_conversations,
    split_items,
    trl_rows,
)
from alignlab.errors import DataError
from alignlab.runs import Run


@dataclass
class Prepared:
    model: Any
    tokenizer: Any
    train_rows: list[dict]
    eval_rows: list[dict]
    loss_mode: str


def prepare_rows(config: Any, tokenizer: Any) -> tuple[list[dict], list[dict], str]:
    data = config.data
    items = read_conversations(data.path)
    if data.eval_path:
        train, held_out = items, read_conversations(data.eval_path)
    else:
        train, held_out = split_items(items, data.test_size)
    if data.max_examples is not None:
        train = train[:data.max_examples]
    if not train:
        raise DataError(f"{data.path}: no training examples after the held-out split (test_size "
                        f"{data.test_size}); add data or lower data.test_size")
    train_rows, mode = trl_rows(train, tokenizer, data.loss_on)
    eval_rows, _ = trl_rows(held_out, tokenizer, data.loss_on)
    return train_rows, eval_rows, mode


def build_trainer(config: Any, run: Run, prepared: Prepared) -> Any:
    """The configured TRL SFTTrainer (datasets tokenized, labels -100 outside the trained tokens)."""
    from datasets import Dataset
    from trl import SFTConfig as TRLSFTConfig
    from trl import SFTTrainer

    from alignlab.backends.train.hf import run_callback, trainer_arguments

    has_eval = bool(prepared.eval_rows)
    args = trainer_arguments(
        TRLSFTConfig, run=run, train=config.train, seed=config.run.seed, max_length=config.data.max_length,
        model=prepared.model,
        eval_steps=config.train.save_steps if has_eval else None, gradient_checkpointing=False,
        assistant_only_loss=prepared.loss_mode == "assistant",
        completion_only_loss=prepared.loss_mode == "completion", packing=config.data.packing,
        dataset_num_proc=None,
    )
    peft_config = None
    if config.lora is not None:
        from alignlab.models.lora import lora_config

        peft_config = lora_config(config.lora)
    with _quiet_datasets():  # one progress bar per preprocessing step and split otherwise
        return SFTTrainer(
            model=prepared.model, args=args, processing_class=prepared.tokenizer,
            train_dataset=Dataset.from_list(prepared.train_rows),
            eval_dataset=Dataset.from_list(prepared.eval_rows) if has_eval else None,
            peft_config=peft_config, callbacks=[run_callback(run)],
        )


@contextmanager
def _quiet_datasets() -> Iterator[None]:
    import datasets

    was_enabled = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    try:
        yield
    finally:
        if was_enabled:
            datasets.enable_progress_bars()


class SFTBackend:
    name = "sft"

    def prepare(self, config: Any, *, echo: Echo = print) -> Prepared:
        from alignlab.models import load_causal_lm, load_tokenizer

        model = config.model
        tokenizer = load_tokenizer(model.name_or_path, revision=model.revision,
                                   trust_remote_code=model.trust_remote_code)
        check_chat_template(tokenizer, model.name_or_path)
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        train_rows, eval_rows, mode = prepare_rows(config, tokenizer)
        policy = load_causal_lm(model.name_or_path, revision=model.revision,
                                trust_remote_code=model.trust_remote_code, dtype=model.dtype)
        what = {"assistant": "every assistant turn", "completion": "the last assistant turn", "all": "every token"}
        echo(f"sft: {len(train_rows)} training and {len(eval_rows)} held-out conversations; loss on {what[mode]}")
        return Prepared(policy, tokenizer, train_rows, eval_rows, mode)

    def run(self, config: Any, run: Run, *, echo: Echo = print, prepared: Prepared | None = None) -> Path:
        from alignlab.models.tiny import count_parameters

        prepared = prepared or self.prepare(config, echo=echo)
        default_threads(config, prepared.model, echo)
        trainer = build_trainer(config, run, prepared)
        summary = {"backend": self.name, "from": config.model.name_or_path,
                   "parameters": count_parameters(prepared.model), "loss_on": prepared.loss_mode,
                   "lora": "merged" if config.lora is not None else None,
                   "data": {"train_examples": len(prepared.train_rows), "eval_examples": len(prepared.eval_rows),
                            "max_length": config.data.max_length, "packing": config.data.packing}}
        return train_and_save(trainer, run, prepared.tokenizer, summary=summary, echo=echo,
                              merge_lora=config.lora is not None)


SFT = SFTBackend()
