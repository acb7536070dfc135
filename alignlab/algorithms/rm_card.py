"""What a saved reward model says about itself: `alignlab_rm.json` (machine-readable) and `README.md` (the
model card, with the evaluation metrics and the exact input format for plain-transformers users)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alignlab._version import __version__
from alignlab.models.reward import FORMAT_VERSION

_LOSSES = {
    "bradley_terry": "Bradley-Terry: -log sigmoid(r_chosen - r_rejected [- margin]), weighted per pair",
    "multi_attribute": "per-attribute MSE on ratings scaled to [-1, 1] (+ lambda x Bradley-Terry on the weighted sum)",
}


def card_json(ctx: Any, n_members: int) -> dict[str, Any]:
    """The `alignlab_rm.json` content: kind, attributes and weights, input format, training recipe, data hash."""
    config, rm = ctx.config, ctx.config.rm
    member_kind = rm.ensemble_member if rm.type == "ensemble" else rm.type
    regression = member_kind == "multi_attribute"
    train = config.train
    return {
        "format_version": FORMAT_VERSION,
        "alignlab_version": __version__,
        "kind": rm.type,
        "member_kind": member_kind,
        "members": ["."] if n_members == 1 else [f"members/{i}" for i in range(n_members)],
        "attributes": list(rm.attributes) if regression else [],
        "attribute_weights": rm.weights() if regression else {},
        "scale": list(config.data.scale) if regression else None,
        "input": ctx.input_format.to_dict(),
        "base_model": config.model.name_or_path,
        "training": {
            "loss": _LOSSES[member_kind],
            "use_margin": rm.use_margin,
            "example_weight": rm.example_weight,
            "center_rewards_coefficient": rm.center_rewards_coefficient,
            "regression_bt_coefficient": rm.regression_bt_coefficient if regression else None,
            "ensemble_bootstrap": rm.ensemble_bootstrap if rm.type == "ensemble" else None,
            "lora": rm.lora.model_dump() if rm.lora else None,
            "lr": train.lr, "epochs": train.epochs, "batch_size": train.batch_size, "max_steps": train.max_steps,
            "seed": config.run.seed, "batching": rm.batching_for(member_kind),
        },
        "training_data": {"path": config.data.path, "format": ctx.data.format, "rows": ctx.data.rows,
                          "train_examples": len(ctx.data.train), "sha256": ctx.data.sha256},
    }


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _metric_rows(metrics: dict[str, Any]) -> list[str]:
    rows = []
    for name, row in metrics.get("attributes", {}).items():
        rows.append(f"| {name}: MAE (rating units) / Spearman | {_fmt(row['mae'])} / {_fmt(row['spearman'])} |")
    pairwise = metrics.get("pairwise", metrics)
    if "accuracy" not in pairwise:
        return rows
    low, high = pairwise["accuracy_ci95"]
    bias, calibration = pairwise["length_bias"], pairwise["calibration"]
    rows += [
        f"| pairs | {pairwise['pairs']} |",
        f"| accuracy (95% bootstrap CI) | {_fmt(pairwise['accuracy'])} ({_fmt(low)}-{_fmt(high)}) |",
        f"| mean accuracy over {pairwise['sections']['by']} sections | {_fmt(pairwise['sections']['section_mean'])} |",
        f"| ECE / Brier of sigmoid(r_c - r_r) | {_fmt(calibration['ece'])} / {_fmt(calibration['brier'])} |",
        f"| accuracy when chosen is longer (n) | {_fmt(bias['chosen_longer']['accuracy'])} "
        f"({bias['chosen_longer']['n']}) |",
        f"| accuracy when chosen is shorter (n) | {_fmt(bias['chosen_shorter']['accuracy'])} "
        f"({bias['chosen_shorter']['n']}) |",
        f"| corr(reward, response length): Pearson / Spearman | {_fmt(bias['reward_length_pearson'])} / "
        f"{_fmt(bias['reward_length_spearman'])} |",
        f"| accuracy of the rule \"the shorter response wins\" | {_fmt(bias['shorter_wins_baseline'])} |",
    ]
    if "agreement" in pairwise:
        agreement = pairwise["agreement"]
        rows.append(f"| annotator agreement ceiling / accuracy vs ceiling | {_fmt(agreement['ceiling'])} / "
                    f"{_fmt(agreement['accuracy_vs_ceiling'])} |")
    if "uncertainty" in pairwise:
        unc = pairwise["uncertainty"]
        rows.append(f"| ensemble spread; accuracy least / most uncertain half | {_fmt(unc['mean_std'])}; "
                    f"{_fmt(unc['accuracy_low_uncertainty'])} / {_fmt(unc['accuracy_high_uncertainty'])} |")
    return rows


def _usage(card: dict[str, Any]) -> str:
    single = card["members"] == ["."]
    load_dir = '"path/to/this/folder"' if single else '"path/to/this/folder/members/0"'
    if card["input"]["style"] == "chat":
        build = ("messages = prompt_messages + [{\"role\": \"assistant\", \"content\": response}]\n"
                 "text = tokenizer.apply_chat_template(messages, tokenize=False)\n"
                 "inputs = tokenizer(text, add_special_tokens=False, return_tensors=\"pt\")")
    else:
        build = (f"text = prompt + response  # then append {card['input']['eos_token']!r} if missing\n"
                 "inputs = tokenizer(text, return_tensors=\"pt\")")
    return f"""```python
from alignlab.models.reward import RewardModel

rm = RewardModel.load("path/to/this/folder")
rm.score([prompt], [response]).reward      # exactly the training format (template, eos, truncation)
```

With plain transformers (each ensemble member is a folder under `members/`):

```python
from transformers import AutoModelForSequenceClassification, AutoTokenizer

tokenizer = AutoTokenizer.from_pretrained("path/to/this/folder")
model = AutoModelForSequenceClassification.from_pretrained({load_dir})
{build}
reward = model(**inputs).logits[0]
```

Inputs longer than {card['input']['max_length']} tokens were truncated on the left (bos kept) in training; do the
same, or the reward is read from a different context."""


def model_card(card: dict[str, Any], metrics: dict[str, Any]) -> str:
    """The README.md of a saved reward model."""
    kind = card["kind"] if card["kind"] != "ensemble" else f"ensemble of {len(card['members'])} {card['member_kind']}"
    data, training = card["training_data"], card["training"]
    attributes = ""
    if card["attributes"]:
        weights = ", ".join(f"{name} {weight:g}" for name, weight in card["attribute_weights"].items())
        attributes = (f"\nOutputs, one per attribute (ratings scaled from {card['scale'][0]:g}..{card['scale'][1]:g} "
                      f"to -1..1): {', '.join(card['attributes'])}. Scalar reward = weighted sum ({weights}).\n")
    evaluation = card.get("eval") or {}
    table = _metric_rows(metrics)
    eval_text = ("| metric | value |\n|---|---|\n" + "\n".join(table)) if table else "No held-out data was given."
    name = Path(str(data["path"])).name
    return f"""---
library_name: transformers
pipeline_tag: text-classification
tags: [reward-model, alignlab, {card['member_kind'].replace('_', '-')}]
---

# Reward model ({kind})

Trained with alignlab {card['alignlab_version']} from `{card['base_model']}` on `{name}`
({data['train_examples']} training {data['format']} examples, data SHA-256 `{data['sha256'][:16]}...`).
Loss: {training['loss']}. Input format: `{card['input']['style']}`, max {card['input']['max_length']} tokens,
eos {card['input']['eos_token']!r}.
{attributes}
## Evaluation

Held-out data: {evaluation.get('data', 'none')}.

{eval_text}

Numbers from alignlab's `rm eval` (`alignlab rm eval --model DIR --data PATH` reproduces them; `eval.json`
holds every metric, including the reliability bins and per-section accuracy).

## Use

{_usage(card)}

## Training recipe

`alignlab_rm.json` holds the full recipe (learning rate {training['lr']:g}, batch size {training['batch_size']},
epochs {training['epochs']:g}, max steps {training['max_steps']}, seed {training['seed']}) and the input format.
"""
