"""`alignlab train kto` against a plain TRL `KTOTrainer` script: same model, data order, hyper-parameters, precision.

    python benchmarks/kto_vs_trl.py                      # 3 alternated rounds, small (~15M) model, 128-256 tokens

Same protocol, sides and report as benchmarks/dpo_vs_trl.py (read its docstring), on unpaired thumbs-up/down
data. KTO keeps the data order (its KL reference point pairs each example with its neighbour in the batch), and
alignlab shuffles the training examples once with run.seed: the TRL script applies the same shuffle, so both
sides see the same batches.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dpo_vs_trl import cpu_seconds, main, peak_rss_mb, trl_shared_settings  # noqa: E402


def trl_kto_worker(args) -> dict:  # noqa: ANN001 - argparse namespace
    """The plain TRL script a user would write, with the shared settings."""
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import KTOConfig, KTOTrainer

    from alignlab.data import read_rows, to_trl

    torch.set_num_threads(args.threads)
    start, cpu = time.perf_counter(), cpu_seconds()
    rows = {split: [to_trl(r, "unpaired", "conversational") for r in read_rows(args.workdir / f"{split}.jsonl")]
            for split in ("train", "test")}
    random.Random(0).shuffle(rows["train"])  # the order alignlab trains in (run.seed 0)
    model = AutoModelForCausalLM.from_pretrained(args.workdir / "policy", dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(args.workdir / "policy")
    config = KTOConfig(**trl_shared_settings(args))
    trainer = KTOTrainer(model=model, args=config, train_dataset=Dataset.from_list(rows["train"]),
                         eval_dataset=Dataset.from_list(rows["test"]), processing_class=tokenizer)
    train = trainer.train()
    metrics = trainer.evaluate()
    trainer.save_model(str(args.workdir / "trl_out" / "model"))
    wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    return {"wall_s": wall, "cpu_s": cpu, "train_runtime_s": train.metrics["train_runtime"],
            "steps": trainer.state.global_step, "trl_eval_margin": metrics.get("eval_rewards/margins"),
            "peak_rss_mb": peak_rss_mb(), "model_dir": str(args.workdir / "trl_out" / "model"),
            "tokens": sum(len(r["prompt_ids"]) + len(r["completion_ids"]) for r in trainer.train_dataset)}


def heldout_ranking(args, model_dir: Path) -> dict:  # noqa: ANN001 - argparse namespace
    """Held-out reward accuracy for an unpaired set, computed the same way for both sides: implicit rewards
    beta * (log pi - log pi_ref) of every held-out completion, accuracy = the share of (desirable, undesirable)
    pairs in the right order (AUC) over the whole held-out set, margin = mean desirable - mean undesirable."""
    import torch

    from alignlab.algorithms.preference_data import Encoder, read_records
    from alignlab.backends.train.preference import reference_logps
    from alignlab.config.dpo import PreferenceDataSection
    from alignlab.data import to_trl
    from alignlab.models import load_causal_lm, load_tokenizer

    tokenizer = load_tokenizer(args.workdir / "policy")
    encoder = Encoder.for_data(tokenizer, PreferenceDataSection(path="test.jsonl", max_length=args.max_length))
    prompts, completions, labels = [], [], []
    for where, record in read_records(str(args.workdir / "test.jsonl"), "unpaired")[1]:
        row = to_trl(record, "unpaired", "conversational")
        prompt, (completion,) = encoder.encode(row["prompt"], [row["completion"]], where)
        prompts.append(prompt)
        completions.append(completion)
        labels.append(bool(record["label"]))
    logps = {name: reference_logps(load_causal_lm(path), prompts, completions, pad_id=tokenizer.pad_token_id,
                                   batch_size=16) for name, path in (("policy", model_dir),
                                                                      ("reference", args.workdir / "policy"))}
    rewards = args.beta * (logps["policy"] - logps["reference"])
    good, bad = rewards[torch.tensor(labels)], rewards[~torch.tensor(labels)]
    return {"accuracy": (good[:, None] > bad[None, :]).float().mean().item(),
            "margin": (good.mean() - bad.mean()).item()}


if __name__ == "__main__":
    main("kto", trl_worker=trl_kto_worker, posthoc=heldout_ranking, train=384, lr=1e-4, beta=0.5)
