"""Describe a model without loading its weights: architecture, size, vocabulary, tokenizer and chat template.

    from alignlab.models.info import describe_model
    for key, value in describe_model("runs/tiny/policy").items(): print(key, value)

The parameter count of a local folder is exact, read from the safetensors headers (a few KB, no torch);
for a hub id it is estimated by building the model on torch's meta device (no memory, no weights).
"""

from __future__ import annotations

import json
import math
import os
import struct
from pathlib import Path
from typing import Any

from alignlab.models.loading import load_model_config


def describe_model(
    name_or_path: str | os.PathLike, *, revision: str | None = None, trust_remote_code: bool = False
) -> dict[str, Any]:
    """A flat, printable summary of a model folder or hub id (errors are `ModelLoadError` lines)."""
    name = str(name_or_path)
    config = load_model_config(name, revision=revision, trust_remote_code=trust_remote_code)
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    folder = Path(name) if Path(name).is_dir() else None
    architectures = getattr(config, "architectures", None) or []
    info: dict[str, Any] = {
        "model_type": config.model_type,
        "architecture": ", ".join(architectures) or "(not recorded)",
        "hidden_size": getattr(text, "hidden_size", None),
        "layers": getattr(text, "num_hidden_layers", None),
        "attention_heads": getattr(text, "num_attention_heads", None),
        "kv_heads": getattr(text, "num_key_value_heads", None),
        "vocab_size": getattr(text, "vocab_size", None),
        "max_position_embeddings": getattr(text, "max_position_embeddings", None),
        "dtype": str(getattr(config, "dtype", None) or "(not recorded)").replace("torch.", ""),
    }
    if any(a.endswith("ForSequenceClassification") for a in architectures):
        info["num_labels"] = config.num_labels
        info["pad_token_id"] = getattr(config, "pad_token_id", None)
    if folder is not None:
        exact = safetensors_parameters(folder)
        info["parameters"] = _human(exact) if exact is not None else "unknown (no safetensors weights)"
        info["weights"] = _weights_format(folder)
        info.update(_tokenizer_summary(folder))
    else:
        estimate = _meta_parameters(config, architectures)
        info["parameters"] = f"~{_human(estimate)} (estimated)" if estimate is not None else "unknown"
    return {key: value for key, value in info.items() if value is not None}


def safetensors_parameters(folder: str | os.PathLike) -> int | None:
    """Sum of tensor sizes over the model's *.safetensors files (adapters excluded), from the headers only."""
    files = [p for p in sorted(Path(folder).glob("*.safetensors")) if not p.name.startswith("adapter_")]
    if not files:
        return None
    total = 0
    for path in files:
        with path.open("rb") as handle:
            (length,) = struct.unpack("<Q", handle.read(8))
            header = json.loads(handle.read(length))
        total += sum(math.prod(entry["shape"]) for key, entry in header.items() if key != "__metadata__")
    return total


def _weights_format(folder: Path) -> str:
    names = [p.name for p in folder.iterdir() if p.is_file()]
    if any(n.endswith(".safetensors") for n in names):
        return "safetensors"
    if any(n.endswith((".bin", ".pt", ".pth", ".ckpt")) for n in names):
        return "PyTorch pickle only (alignlab loads safetensors only)"
    return "none"


def _tokenizer_summary(folder: Path) -> dict[str, Any]:
    config_path = folder / "tokenizer_config.json"
    if not config_path.is_file() and not (folder / "tokenizer.json").is_file():
        return {"tokenizer": "none"}
    config = json.loads(config_path.read_text(encoding="utf-8")) if config_path.is_file() else {}
    template = config.get("chat_template")
    jinja = folder / "chat_template.jinja"
    if template is None and jinja.is_file():
        template = jinja.read_text(encoding="utf-8")
    summary: dict[str, Any] = {
        "tokenizer": config.get("tokenizer_class", "tokenizer.json"),
        "bos_token": _token(config.get("bos_token")),
        "eos_token": _token(config.get("eos_token")),
        "pad_token": _token(config.get("pad_token")) or "(none: loaders use eos)",
        "model_max_length": config.get("model_max_length"),
    }
    if template is None:
        summary["chat_template"] = "no"
    else:
        text = template if isinstance(template, str) else json.dumps(template)
        marked = "{% generation %}" in text.replace("{%-", "{%").replace("-%}", "%}")
        summary["chat_template"] = "yes, with {% generation %} markers" if marked else "yes"
    return summary


def _token(value: Any) -> str | None:
    """Tokenizer configs store special tokens as strings or as AddedToken dicts."""
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) else None


def _meta_parameters(config: Any, architectures: list[str]) -> int | None:
    """Build the model on the meta device (no memory) and count; None when transformers cannot build it."""
    import torch
    from transformers import AutoModel, AutoModelForCausalLM, AutoModelForSequenceClassification

    auto = AutoModel
    if any(a.endswith("ForCausalLM") for a in architectures):
        auto = AutoModelForCausalLM
    elif any(a.endswith("ForSequenceClassification") for a in architectures):
        auto = AutoModelForSequenceClassification
    try:
        with torch.device("meta"):
            model = auto.from_config(config)
    except ValueError:  # this auto class has no model for the config's type
        return None
    return sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())


def _human(count: int) -> str:
    if count >= 1e9:
        return f"{count / 1e9:.2f}B ({count:,})"
    if count >= 1e4:
        return f"{count / 1e6:.2f}M ({count:,})"
    return f"{count:,}"
