"""`pretrain` and `cpt` backends: next-token prediction on raw text packed into blocks, on the transformers
Trainer (so an interrupted run resumes from its last complete checkpoint, optimizer and data order included).

- pretrain: random initial weights. `model.tiny` builds a tiny Llama-style model (`alignlab.models.tiny`
  shapes) whose byte-level BPE tokenizer, with alignlab's chat template, is trained on the corpus itself;
  `model.name_or_path` takes that model's architecture and tokenizer and initialises the weights at random.
  Both are deterministic in their seeds, so a resumed run rebuilds the same starting point.
- cpt: continues from `model.name_or_path`'s weights (optionally a LoRA adapter, merged into the saved model).

Text handling (files, documents, packing, the held-out split) is in `text.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alignlab.backends.lifecycle.base import Echo, default_threads, train_and_save
from alignlab.backends.lifecycle.text import Blocks, as_dataset, build_blocks, check_block_size, corpus_files
from alignlab.runs import Run

# Characters of the corpus the tiny tokenizer is trained on (as `alignlab.models.tiny` does).
MAX_TOKENIZER_TRAINING_CHARS = 4_000_000


@dataclass
class Prepared:
    model: Any
    tokenizer: Any
    blocks: Blocks
    origin: dict[str, Any]


def _tiny_model(section: Any, documents: list[str]) -> tuple[Any, Any]:
    """A random-init tiny Llama and a tokenizer trained on `documents` (the pretraining corpus)."""
    from transformers import GenerationConfig, LlamaForCausalLM

    from alignlab.models._rng import seeded_torch
    from alignlab.models.tiny import tiny_llama_config, train_tokenizer

    texts, budget = [], MAX_TOKENIZER_TRAINING_CHARS
    for document in documents:
        if budget <= 0:
            break
        texts.append(document[:budget] + "\n\n")
        budget -= len(texts[-1])
    tokenizer = train_tokenizer(texts, vocab_size=section.vocab_size,
                                model_max_length=section.max_position_embeddings)
    config = tiny_llama_config(section.size, vocab_size=len(tokenizer),
                               max_position_embeddings=section.max_position_embeddings,
                               bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                               pad_token_id=tokenizer.pad_token_id)
    with seeded_torch(section.seed):
        model = LlamaForCausalLM(config)
    model.generation_config = GenerationConfig(bos_token_id=config.bos_token_id, eos_token_id=config.eos_token_id,
                                               pad_token_id=config.pad_token_id)
    return model, tokenizer


def _scratch_from(section: Any, seed: int) -> tuple[Any, Any]:
    """`section.name_or_path`'s architecture and tokenizer with random weights."""
    from transformers import AutoModelForCausalLM

    from alignlab.models import load_model_config, load_tokenizer
    from alignlab.models._rng import seeded_torch

    config = load_model_config(section.name_or_path, revision=section.revision,
                               trust_remote_code=section.trust_remote_code)
    tokenizer = load_tokenizer(section.name_or_path, revision=section.revision,
                               trust_remote_code=section.trust_remote_code)
    with seeded_torch(seed):
        model = AutoModelForCausalLM.from_config(config, trust_remote_code=section.trust_remote_code)
    return model, tokenizer


class CausalLMBackend:
    """Pretraining (`from_scratch=True`) or continued pretraining on packed raw text."""

    def __init__(self, name: str, *, from_scratch: bool) -> None:
        self.name = name
        self.from_scratch = from_scratch

    def prepare(self, config: Any, *, echo: Echo = print) -> Prepared:
        from alignlab.backends.lifecycle.text import read_documents

        data, section = config.data, config.model
        documents = read_documents(corpus_files(data.paths), data.documents, data.text_field)
        if self.from_scratch and section.tiny is not None:
            check_block_size(data.block_size, section.tiny, f"the tiny {section.tiny.size} model")
            if not documents:
                build_blocks(data, None, documents)  # raises the empty-corpus error
            model, tokenizer = _tiny_model(section.tiny, documents)
            origin = {"init": "random", "tiny": section.tiny.model_dump()}
        elif self.from_scratch:
            model, tokenizer = _scratch_from(section, config.run.seed)
            origin = {"init": "random", "architecture_from": section.name_or_path}
        else:
            from alignlab.models import load_causal_lm, load_tokenizer

            tokenizer = load_tokenizer(section.name_or_path, revision=section.revision,
                                       trust_remote_code=section.trust_remote_code)
            model = load_causal_lm(section.name_or_path, revision=section.revision,
                                   trust_remote_code=section.trust_remote_code, dtype=section.dtype)
            origin = {"init": "pretrained", "from": section.name_or_path}
        name = section.name_or_path or "the model"
        check_block_size(data.block_size, model.config, name)
        blocks = build_blocks(data, tokenizer, documents)
        stats = blocks.describe()
        echo(f"{self.name}: {stats['tokens']} tokens in {stats['documents']} documents -> {stats['train_blocks']} "
             f"training and {stats['eval_blocks']} held-out blocks of {data.block_size}")
        return Prepared(model, tokenizer, blocks, origin)

    def run(self, config: Any, run: Run, *, echo: Echo = print, prepared: Prepared | None = None) -> Path:
        from transformers import Trainer, TrainingArguments, default_data_collator

        from alignlab.backends.train.hf import run_callback, trainer_arguments
        from alignlab.models.tiny import count_parameters

        prepared = prepared or self.prepare(config, echo=echo)
        model, tokenizer, blocks = prepared.model, prepared.tokenizer, prepared.blocks
        default_threads(config, model, echo)
        lora = getattr(config, "lora", None)
        if lora is not None:
            from peft import get_peft_model

            from alignlab.models.lora import lora_config

            model = get_peft_model(model, lora_config(lora))
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        has_eval = bool(blocks.eval)
        args = trainer_arguments(TrainingArguments, run=run, train=config.train, seed=config.run.seed, model=model,
                                 eval_steps=config.train.save_steps if has_eval else None,
                                 remove_unused_columns=False)
        trainer = Trainer(model=model, args=args, train_dataset=as_dataset(blocks.train),
                          eval_dataset=as_dataset(blocks.eval) if has_eval else None,
                          data_collator=default_data_collator, processing_class=tokenizer,
                          callbacks=[run_callback(run)])
        summary = {"backend": self.name, **prepared.origin, "parameters": count_parameters(prepared.model),
                   "data": {**blocks.describe(), "block_size": config.data.block_size}}
        return train_and_save(trainer, run, tokenizer, summary=summary, echo=echo, merge_lora=lora is not None)


PRETRAIN = CausalLMBackend("pretrain", from_scratch=True)
CPT = CausalLMBackend("cpt", from_scratch=False)
