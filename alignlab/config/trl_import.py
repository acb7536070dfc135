"""TRL / alignment-handbook recipes -> alignlab configs (`alignlab config import-trl RECIPE.yaml`).

    result = import_recipe("recipes/zephyr-7b-beta/dpo/config_full.yaml")
    result.kind           # "dpo" (guessed from the keys, or given)
    result.config         # the alignlab config as a dict, validated against CONFIGS.get(kind)
    result.mixture        # the recipe's dataset_mixture as an alignlab mixture file's content, or None
    result.unmapped       # [(key, why)] for every recipe key that has no alignlab home

A recipe is one flat YAML of TRL's script arguments (model, dataset, `*Config` fields). Each key goes to its
alignlab section: model keys to `model`, data keys to `data`, optimisation keys to `train` (TRL's names are
accepted there), method keys to the method's section, and any other field of the method's TRL `*Config`
dataclass to `train.trainer_args`. What is left is reported, never dropped silently. `dataset_mixture`
becomes a mixture file (`alignlab.data.mixture`): its sources with their splits, columns and fractions.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alignlab.config.loader import read_yaml
from alignlab.errors import ConfigError

# recipe key -> (section, key) in every kind's config
COMMON = {
    "model_name_or_path": ("model", "name_or_path"), "model_revision": ("model", "revision"),
    "trust_remote_code": ("model", "trust_remote_code"), "seed": ("run", "seed"),
    "learning_rate": ("train", "lr"), "num_train_epochs": ("train", "epochs"),
    "per_device_train_batch_size": ("train", "batch_size"), "gradient_accumulation_steps": ("train", "grad_accum"),
    "max_steps": ("train", "max_steps"), "warmup_ratio": ("train", "warmup_ratio"),
    "weight_decay": ("train", "weight_decay"), "logging_steps": ("train", "logging_steps"),
    "save_steps": ("train", "save_steps"), "lr_scheduler_type": ("train", "lr_scheduler_type"),
    "optim": ("train", "optim"), "max_grad_norm": ("train", "max_grad_norm"), "bf16": ("train", "bf16"),
    "gradient_checkpointing": ("train", "gradient_checkpointing"), "eval_steps": ("train", "eval_steps"),
    "save_total_limit": ("train", "save_total_limit"), "push_to_hub": ("train", "push_to_hub"),
    "hub_model_id": ("train", "hub_model_id"), "hub_private_repo": ("train", "hub_private_repo"),
    "report_to": ("train", "report_to"),
}
# per kind: method keys and the data keys whose name differs
BY_KIND: dict[str, dict[str, tuple[str, str]]] = {
    "dpo": {"beta": ("dpo", "beta"), "loss_type": ("dpo", "loss_type"), "label_smoothing": ("dpo", "label_smoothing"),
            "max_length": ("data", "max_length")},
    "kto": {"beta": ("kto", "beta"), "desirable_weight": ("kto", "desirable_weight"),
            "undesirable_weight": ("kto", "undesirable_weight"), "max_length": ("data", "max_length")},
    "sft": {"max_seq_length": ("data", "max_length"), "max_length": ("data", "max_length"),
            "packing": ("data", "packing")},
    "rm": {"max_length": ("data", "max_length")},
}
TRL_CONFIG = {"dpo": "trl:DPOConfig", "kto": "trl:KTOConfig", "sft": "trl:SFTConfig", "rm": "trl:RewardConfig"}
# Keys alignlab decides itself, with the reason given to the user.
DECIDED = {
    "output_dir": "the run folder is run.output_dir/run.name (taken from this path)",
    "overwrite_output_dir": "a run with a changed config is refused; pass --force to start over",
    "do_eval": "alignlab evaluates on the held-out split whenever there is one",
    "eval_strategy": "set by train.eval_steps",
    "save_strategy": "alignlab saves every train.save_steps steps",
    "logging_strategy": "alignlab logs every train.logging_steps steps",
    "per_device_eval_batch_size": "alignlab evaluates with train.batch_size",
    "torch_dtype": "mapped to model.dtype", "dtype": "mapped to model.dtype",
    "max_prompt_length": "TRL 1.16 dropped it; data.max_length caps prompt + response and data.truncation "
                         "chooses what is cut",
    "attn_implementation": "alignlab loads models with transformers' default attention",
    "chat_template": "alignlab uses the tokenizer's own chat template (save it into the tokenizer)",
    "dataset_num_proc": "alignlab tokenizes in process",
    "test_split_size": "a count; alignlab's data.test_size is a share of the data: set it by hand",
}
_KIND_HINTS = {"dpo": ("beta", "loss_type", "max_prompt_length"), "kto": ("desirable_weight", "undesirable_weight"),
               "sft": ("max_seq_length", "packing", "dataset_text_field"), "rm": ("center_rewards_coefficient",)}


@dataclass
class ImportResult:
    kind: str
    config: dict[str, Any]
    mixture: dict[str, Any] | None = None
    unmapped: list[tuple[str, str]] = field(default_factory=list)


def guess_kind(recipe: dict[str, Any]) -> str:
    for kind, hints in _KIND_HINTS.items():
        if any(key in recipe for key in hints):
            return kind
    raise ConfigError("cannot tell the recipe's method from its keys; pass --kind dpo|kto|sft|rm")


def _trl_fields(kind: str) -> set[str]:
    import importlib

    module, _, name = TRL_CONFIG[kind].partition(":")
    return {f.name for f in dataclasses.fields(getattr(importlib.import_module(module), name))}


def mixture_from_recipe(spec: dict[str, Any], where: str) -> dict[str, Any]:
    """The handbook's `dataset_mixture: {datasets: [{id, config, split, columns, weight}], seed}` as ours."""
    sources = []
    for index, item in enumerate(spec.get("datasets") or []):
        if not isinstance(item, dict) or "id" not in item:
            raise ConfigError(f"{where}: dataset_mixture.datasets[{index}]: expected a mapping with an id")
        source = {"path": item["id"], "split": item.get("split", "train"),
                  "fraction": float(item.get("weight", 1.0))}
        if item.get("config") not in (None, "default"):
            source["name"] = item["config"]
        if item.get("columns"):
            source["columns"] = list(item["columns"])
        sources.append(source)
    return {"mixture": {"seed": int(spec.get("seed", 0)), "sources": sources}}


def import_recipe(path: str | Path, kind: str | None = None) -> ImportResult:
    """Read a TRL / alignment-handbook recipe into an alignlab config dict; see the module docstring."""
    recipe, _lines = read_yaml(path)
    kind = kind or guess_kind(recipe)
    if kind not in BY_KIND:
        raise ConfigError(f"--kind {kind!r}: import-trl knows {', '.join(BY_KIND)}")
    table = {**COMMON, **BY_KIND[kind]}
    trl_fields = _trl_fields(kind)
    result = ImportResult(kind=kind, config={"run": {}, "model": {}, "data": {}, "train": {}})

    def put(section: str, key: str, value: Any) -> None:
        result.config.setdefault(section, {})[key] = value

    for key, value in recipe.items():
        if key in table:
            put(*table[key], value)
        elif key in ("torch_dtype", "dtype"):
            put("model", "dtype", value or "auto")
        elif key == "output_dir":
            put("run", "name", Path(str(value)).name or "run")
        elif key == "dataset_mixture":
            result.mixture = mixture_from_recipe(value or {}, str(path))
            if (value or {}).get("test_split_size") is not None:
                result.unmapped.append(("dataset_mixture.test_split_size", DECIDED["test_split_size"]))
        elif key == "dataset_name":
            put("data", "path", value)
        elif key in DECIDED:
            result.unmapped.append((key, DECIDED[key]))
        elif key in trl_fields:
            result.config["train"].setdefault("trainer_args", {})[key] = value
        else:
            result.unmapped.append((key, f"not a field of TRL's {TRL_CONFIG[kind].split(':')[1]} nor an alignlab key"))
    if result.mixture is not None and "path" not in result.config["data"]:
        put("data", "path", "MIXTURE")  # the CLI writes the mixture file and points data.path at it
    return result


def check(result: ImportResult) -> Any:
    """Validate the imported config against the kind's schema (data.path must be set by then)."""
    from pydantic import ValidationError

    from alignlab.config import CONFIGS
    from alignlab.config.loader import format_validation_error

    schema = CONFIGS.get(result.kind)
    try:
        return schema.model_validate(result.config)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, schema, "imported recipe", {}, {})) from None
